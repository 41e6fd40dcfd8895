"""Gives each interval of an agent a track of its kind on which it overlaps nothing, opening a named track as needed."""

from collections.abc import Callable

# The tracks of an agent's process, in the order they are shown, by the span kinds of insight.jsonl.
TRACKS = {
    "model": "model calls",
    "tool": "tools",
    "sub_agent": "sub-agents",
    "user": "user",
    "agent": "agent's own time",
}
LANES_PER_TRACK = 256  # parallel intervals of one kind in one agent past this are left out (noted), not drawn
TID_STEP = 1000  # a track's lanes take thread ids kind_order * TID_STEP + 1, + 2, …: sorted by kind, then lane


class Lanes:
    """Per process and kind, the end (µs) of the last interval on each lane. A lane holds intervals that never
    overlap, so a viewer draws each on the named track it is put on: complete events that overlap on one track
    would spill onto tracks without a name (Perfetto), or be cut (speedscope, which keeps one stack per thread)."""

    def __init__(self, opened: Callable[[int, int, str], None]) -> None:
        self.ends: dict[tuple[int, str], list[int]] = {}
        self.opened = opened  # called (pid, tid, name) when a lane is first used, to name its track

    def place(self, pid: int, kind: str, start: int, end: int) -> int | None:
        """The thread id of the lane the interval [start, end] goes on; None when every lane is taken."""
        ends = self.ends.setdefault((pid, kind), [])
        for lane, lane_end in enumerate(ends):
            if lane_end <= start:
                ends[lane] = end
                return tid_of(kind, lane)
        if len(ends) >= LANES_PER_TRACK:
            return None
        ends.append(end)
        lane = len(ends) - 1
        name = TRACKS[kind] if lane == 0 else f"{TRACKS[kind]} {lane + 1}"
        self.opened(pid, tid_of(kind, lane), name)
        return tid_of(kind, lane)


def tid_of(kind: str, lane: int) -> int:
    """A lane's thread id: its kind's place in TRACKS, then the lane."""
    return (list(TRACKS).index(kind) + 1) * TID_STEP + lane + 1
