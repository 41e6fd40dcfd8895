"""Every tool call as a timeline: the response that asked for it, the request that brought its result back, how
long the agent took in between, the result's size and whether it failed."""

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from probe.read.conversation import Part, Turn, json_size

ARGUMENTS_SHOWN = 120  # characters of a call's arguments kept: enough to tell calls apart
PENDING_KEPT = 65536  # calls waiting for their result: beyond that the oldest is given up as never answered
TOOLS_KEPT = 1024  # tools summed by name; a capture that calls more is hostile, and the rest are summed as one
OTHER = "(other tools)"
SLOWEST_KEPT = 10


@dataclass(slots=True)
class ToolCall:
    """One tool call, from the response that asked for it to the request that returned its result."""

    call_id: str | None
    tool: str
    arguments: str  # compact JSON, cut to ARGUMENTS_SHOWN characters
    agent: str
    asked_in: int  # the turn whose response asked for it
    asked_at: float | None  # when that response ended, seconds since the epoch
    answered_in: int | None = None  # the turn whose request carried its result
    answered_at: float | None = None  # when that request started
    result_size: int | None = None  # characters of the result's text (bytes of its JSON when it has no text)
    is_error: bool | None = None  # as the API flags it; None where it does not say
    parsed: Any = field(default=None, repr=False)  # the arguments as sent, until the call is answered
    result: str | None = field(default=None, repr=False)  # the result's text, until the agent tree has read it

    @property
    def wait_ms(self) -> float | None:
        """The agent's time between the answer that asked and the request that brought the result back."""
        if self.asked_at is None or self.answered_at is None:
            return None
        return round((self.answered_at - self.asked_at) * 1000, 1)

    def to_json(self) -> dict:
        return {
            "call_id": self.call_id, "tool": self.tool, "arguments": self.arguments, "agent": self.agent,
            "asked_in": self.asked_in, "asked_at": self.asked_at, "answered_in": self.answered_in,
            "answered_at": self.answered_at, "wait_ms": self.wait_ms,
            "result_size": self.result_size, "is_error": self.is_error,
        }  # fmt: skip


@dataclass
class ToolStats:
    """One tool's calls, summed."""

    calls: int = 0
    answered: int = 0
    failed: int = 0
    wait_ms: float = 0.0  # over the answered calls whose times are known
    timed: int = 0
    longest_ms: float | None = None
    result_size: int = 0


@dataclass
class ToolTimeline:
    """Fed each turn, with the agent that made it, as the report streams past."""

    pending: dict[str, ToolCall] = field(default_factory=dict)  # by call id, in the order asked
    # Calls sent without an id, by tool, in the order asked: an API that sends such calls matches them to results by
    # name and order, the first result for a tool answering its oldest call not yet answered.
    unnamed: dict[str, deque[int]] = field(default_factory=dict)  # their numbers (keys of `waiting`), by tool
    waiting: dict[int, ToolCall] = field(default_factory=dict)  # every call sent without an id, by number, oldest first
    numbered: int = 0
    tools: dict[str, ToolStats] = field(default_factory=dict)
    slowest: list[tuple[float, int, dict]] = field(default_factory=list)  # a heap of the longest waits
    calls: int = 0

    def add(self, turn: Turn, agent: str) -> list[ToolCall]:
        """The calls this turn answered (each once: a re-sent history answers them again), and those given up to
        keep memory bounded. Its request's results answer calls of earlier answers; its answer's own calls are then
        remembered, and the results the answer holds beside them (a tool the API runs itself: web search, code
        execution) answer them at once."""
        done: list[ToolCall] = []
        carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
        for item in turn.input[carried:]:
            for part in item.parts:
                if part.kind == "tool_result":
                    self.answer(part, turn.number, turn.timing.start, done)
        end = None if turn.timing.start is None else turn.timing.start + (turn.timing.duration_ms or 0) / 1000
        for item in turn.output:
            for part in item.parts:
                if part.kind == "tool_call":
                    call = ToolCall(part.call_id, part.name or "?", short(part.arguments), agent, turn.number, end)
                    call.parsed = part.arguments
                    self.remember(call, done)
                elif part.kind == "tool_result":  # run by the API within this answer: no time of the agent's
                    self.answer(part, turn.number, None, done)
        return done

    def remember(self, call: ToolCall, done: list[ToolCall]) -> None:
        """Keep a call until a result answers it; the oldest is given up past PENDING_KEPT."""
        if call.call_id is None:
            self.numbered += 1
            self.waiting[self.numbered] = call
            self.unnamed.setdefault(call.tool, deque()).append(self.numbered)
            if len(self.waiting) > PENDING_KEPT:  # the oldest is the first of its tool's too
                done.append(self.counted(self.take_unnamed(self.waiting[next(iter(self.waiting))].tool)))
            return
        self.pending.pop(call.call_id, None)  # (an id asked for again: the newer call is the one)
        self.pending[call.call_id] = call
        if len(self.pending) > PENDING_KEPT:
            done.append(self.counted(self.pending.pop(next(iter(self.pending)))))

    def answer(self, part: Part, number: int, at: float | None, done: list[ToolCall]) -> None:
        """Mark the call `part` (a result) answers as answered in turn `number`: the call with its id, else the oldest
        call of its tool sent without one (an agent may give a result an id of its own where the call had none)."""
        call = self.pending.pop(part.call_id, None) if part.call_id else None
        if call is None and part.name and self.unnamed.get(part.name):
            call = self.take_unnamed(part.name)
        if call is None:
            return
        call.answered_in, call.answered_at = number, at
        call.result = part.text
        call.result_size = len(part.text) if part.text is not None else json_size(part.raw)
        call.is_error = part.is_error
        done.append(self.counted(call))

    def take_unnamed(self, tool: str) -> ToolCall:
        """The oldest call of `tool` sent without an id, no longer waiting."""
        numbers = self.unnamed[tool]
        call = self.waiting.pop(numbers.popleft())
        if not numbers:
            del self.unnamed[tool]
        return call

    def finish(self) -> list[ToolCall]:
        """The calls no request answered."""
        left = [self.counted(call) for call in self.unanswered()]
        self.pending.clear()
        self.unnamed.clear()
        self.waiting.clear()
        return left

    def unanswered(self) -> list[ToolCall]:
        """The calls no request has answered yet, in the order asked (read only: nothing is counted)."""
        return sorted([*self.pending.values(), *self.waiting.values()], key=lambda call: call.asked_in)

    def counted(self, call: ToolCall) -> ToolCall:
        self.calls += 1
        name = call.tool if call.tool in self.tools or len(self.tools) < TOOLS_KEPT else OTHER
        stats = self.tools.setdefault(name, ToolStats())
        stats.calls += 1
        if call.answered_in is not None:
            stats.answered += 1
            stats.result_size += call.result_size or 0
            stats.failed += call.is_error is True
        wait = call.wait_ms
        if wait is not None:
            stats.timed += 1
            stats.wait_ms += wait
            stats.longest_ms = wait if stats.longest_ms is None else max(stats.longest_ms, wait)
            entry = (wait, -self.calls, call.to_json())
            if len(self.slowest) < SLOWEST_KEPT:
                heapq.heappush(self.slowest, entry)
            elif entry > self.slowest[0]:
                heapq.heapreplace(self.slowest, entry)
        return call

    def longest(self) -> list[dict]:
        """The calls the agent took longest over, longest first."""
        return [entry[2] for entry in sorted(self.slowest, reverse=True)]


def short(arguments: Any) -> str:
    """A call's arguments in one short line of JSON."""
    if isinstance(arguments, str):
        text = arguments
    else:
        try:
            text = orjson.dumps(arguments, default=str).decode()
        except (orjson.JSONEncodeError, TypeError):
            text = str(arguments)
    text = " ".join(text[: ARGUMENTS_SHOWN * 2].split())
    return text if len(text) <= ARGUMENTS_SHOWN else text[: ARGUMENTS_SHOWN - 1] + "…"
