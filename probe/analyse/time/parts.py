"""Splits a stretch of time into its parts, each moment counted once: where intervals overlap, the moment goes to
the first part in PARTS (streaming before waiting before tools…), and a moment no interval covers is the agent's."""

import heapq
from dataclasses import dataclass, field

from probe.analyse.time.spans import PARTS


@dataclass
class Split:
    """A stretch's seconds by part, and the tools part by tool."""

    start: float
    end: float
    parts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))
    tools: dict[str, float] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return max(0.0, self.end - self.start)


# (start, end, part, label): a label names the tool of a `tools` piece, None for the others.
Piece = tuple[float, float, str, str | None]


def split(pieces: list[Piece], start: float, end: float) -> Split:
    """`start`..`end` split by the pieces that cover it. A moment covered by several tools goes to the one that
    started first, so the tools' seconds add up to the tools part."""
    found = Split(start, end)
    rank = {part: index for index, part in enumerate(PARTS)}
    events: list[tuple[float, int, int]] = []  # (time, +1 opening / -1 closing, piece index)
    for index, (begin, finish, _, _) in enumerate(pieces):
        begin, finish = max(begin, start), min(finish, end)
        if finish > begin:
            events.append((begin, 1, index))
            events.append((finish, -1, index))
    events.sort(key=lambda event: (event[0], event[1]))
    active = [0] * len(PARTS)
    tools: list[tuple[float, int]] = []  # a heap of the open tool pieces, by start; closed ones are dropped lazily
    closed: set[int] = set()
    moment = start
    for time, change, index in events:
        if time > moment:
            give(found, active, tools, closed, pieces, time - moment)
            moment = time
        part = rank[pieces[index][2]]
        active[part] += change
        if pieces[index][2] == "tools":
            if change > 0:
                heapq.heappush(tools, (pieces[index][0], index))
            else:
                closed.add(index)
    if end > moment:
        give(found, active, tools, closed, pieces, end - moment)
    return found


def give(found: Split, active: list[int], tools: list, closed: set[int], pieces: list[Piece], seconds: float) -> None:
    """Count `seconds` to the first part open now (the agent's when none is), and to its tool."""
    part = next((PARTS[index] for index, count in enumerate(active) if count > 0), "agent")
    found.parts[part] += seconds
    if part == "tools":
        while tools and tools[0][1] in closed:
            closed.discard(heapq.heappop(tools)[1])
        if tools:
            name = pieces[tools[0][1]][3] or "?"
            found.tools[name] = found.tools.get(name, 0.0) + seconds
