"""The agent's hook events joined to the run's model exchanges: each PreToolUse and PostToolUse to the model's tool
call by its id, every event to the turn it came in, and how long each held the agent. The agent starts all hooks of
one event at once and the end of none is seen, so an event holds the agent until its next step: the next event it
fired, the next request it sent, or for PreToolUse its tool's start (PostToolUse's time less the tool's own)."""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probe.read.hooks import HookEvent, HookRecording, read_hooks

TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest")
AFTER_TOOL = ("PostToolUse", "PostToolUseFailure")


@dataclass
class JoinedEvent:
    hook: HookEvent
    turn: int | None  # the model exchange it came in: the one whose answer asked for its tool, else the last begun
    joined: bool  # a tool's event matched to the model's tool call by its id
    held: float | None  # seconds from the event to the agent's next step; None where no next step was seen
    next_step: str | None  # what that step was: an event's name, "request N" or "the tool"


@dataclass
class EventTotals:
    count: int = 0
    held: float | None = None  # summed over the events whose next step was seen (None: none was)
    longest: float | None = None
    tools: set[str] = field(default_factory=set)


@dataclass
class HooksJoin:
    events: list[JoinedEvent]
    totals: dict[str, EventTotals]  # by event name, in the order first fired
    tool_events: int  # PreToolUse, PostToolUse… with a tool call id
    joined: int  # of them, matched to the model's tool call
    recording: HookRecording

    def summary(self) -> dict:
        """The join in one insight record's terms."""
        return {
            "events": len(self.events),
            "left_out": self.recording.left_out,
            "tool_events": self.tool_events,
            "joined": self.joined,
            "by_event": {
                name: {"count": totals.count, "held_s": None if totals.held is None else round(totals.held, 3),
                       "longest_s": None if totals.longest is None else round(totals.longest, 3)}
                for name, totals in self.totals.items()
            },
            "notes": list(self.recording.notes),
        }  # fmt: skip


def join_hooks(folder: Path, wire: Any) -> HooksJoin | None:
    """The run's hooks.jsonl joined to its model exchanges (`wire`, a probe.analyse.account.wire.WireCalls: not
    imported, which would put this module a level above it and the insight another); None if it has none."""
    recording = read_hooks(folder)
    return None if recording is None else joined(recording, wire)


def joined(recording: HookRecording, wire: Any) -> HooksJoin:
    calls = sorted((call for call in wire.calls if call.start is not None), key=lambda call: call.start)
    starts = [call.start for call in calls]
    by_call_id = {call_id: call.number for call in wire.calls for call_id in call.call_ids}
    tool_starts = tool_started(recording.events)
    times = [event.t for event in recording.events]
    events, totals = [], {}
    for index, hook in enumerate(recording.events):
        number = by_call_id.get(hook.tool_use_id) if hook.tool_use_id else None
        if number is None:
            before = bisect.bisect_right(starts, hook.t)
            number = calls[before - 1].number if before else None
        held, step = next_step(hook, index, times, recording.events, calls, starts, tool_starts)
        events.append(JoinedEvent(hook, number, hook.tool_use_id in by_call_id, held, step))
        entry = totals.setdefault(hook.event, EventTotals())
        entry.count += 1
        entry.tools |= {hook.tool} if hook.tool else set()
        if held is not None:
            entry.held = held + (entry.held or 0.0)
            entry.longest = held if entry.longest is None else max(entry.longest, held)
    with_ids = [event for event in events if event.hook.event in TOOL_EVENTS and event.hook.tool_use_id]
    return HooksJoin(events, totals, len(with_ids), sum(event.joined for event in with_ids), recording)


def tool_started(events: list[HookEvent]) -> dict[str, float]:
    """When each tool began, by its call id: PostToolUse's time less the tool's own duration the agent gave it."""
    started = defaultdict(float)
    for event in events:
        if event.event in AFTER_TOOL and event.tool_use_id and event.tool_ms is not None:
            started[event.tool_use_id] = event.t - event.tool_ms / 1000
    return started


def next_step(hook, index, times, events, calls, starts, tool_starts) -> tuple[float | None, str | None]:
    """The agent's first step after the event: another event (not one fired at the same moment as a sibling of a
    parallel tool call's), a request, or for PreToolUse its tool's start."""
    steps = []
    later = bisect.bisect_right(times, hook.t)
    if later < len(events):
        steps.append((times[later], events[later].event))
    request = bisect.bisect_right(starts, hook.t)
    if request < len(calls):
        steps.append((starts[request], f"request {calls[request].number}"))
    if hook.event == "PreToolUse" and tool_starts.get(hook.tool_use_id, 0.0) > hook.t:
        steps.append((tool_starts[hook.tool_use_id], "the tool"))
    if not steps:
        return None, None
    when, what = min(steps)
    return when - hook.t, what
