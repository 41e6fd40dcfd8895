"""Gathers the intervals of each agent's lane as the run streams past: a model call per exchange, a tool wait per
answered call; and which requests brought a newly typed prompt (where the user's time ends)."""

from dataclasses import dataclass, field
from typing import Any

from probe.analyse.time.spans import MODEL, TOOL, Span
from probe.common.long_names import bounded
from probe.read.conversation import Turn

SPANS_KEPT = 200_000  # intervals held for the run: beyond, a hostile or endless capture's are counted, not kept


@dataclass
class Lanes:
    """Fed each turn with the agent that made it; the intervals are in `spans`, in the order they were found."""

    spans: list[Span] = field(default_factory=list)
    prompted: set[int] = field(default_factory=set)  # exchanges whose request brought a typed prompt
    agent_ids: dict[int, list[str]] = field(default_factory=dict)  # a tool span's index -> the agents its result names
    left_out: int = 0

    def add_turn(self, turn: Turn, agent: str, cache_break: bool, cost_usd: str | None) -> None:
        timing = turn.timing
        if timing.start is None:
            return
        end = timing.start + (timing.duration_ms or 0) / 1000
        first = None if timing.ttfb_ms is None else timing.start + timing.ttfb_ms / 1000
        usage = turn.usage
        tokens = None if usage is None else (usage.input, usage.output, usage.cache_read, usage.cache_write)
        self.keep(Span(agent, MODEL, bounded(turn.model), timing.start, end, (turn.number,), first, tokens=tokens,
                       cost_usd=cost_usd, cache_break=cache_break))  # fmt: skip
        if brings_prompt(turn):
            self.prompted.add(turn.number)

    def add_call(self, call: Any, agents_named: list[str]) -> None:
        """A call its result answered: the wait from the answer that asked to the request that brought it back.
        (A probe.analyse.tool_calls.ToolCall, not imported: the insight that feeds this does, and importing it
        here too would stack the levels of imports one deeper.)"""
        if call.asked_at is None or call.answered_at is None or call.answered_in is None:
            return
        span = Span(call.agent, TOOL, bounded(call.tool), call.asked_at, max(call.asked_at, call.answered_at),
                    (call.asked_in, call.answered_in), call_id=call.call_id)  # fmt: skip
        if self.keep(span) and agents_named:
            self.agent_ids[len(self.spans) - 1] = agents_named[:8]

    def add_open_call(self, call: Any, run_end: float) -> None:
        """A call no request answered: it waits to the end of the run."""
        if call.asked_at is not None and run_end > call.asked_at:
            self.keep(Span(call.agent, TOOL, bounded(call.tool), call.asked_at, run_end, (call.asked_in,),
                           call_id=call.call_id, open=True))  # fmt: skip

    def keep(self, span: Span) -> bool:
        if len(self.spans) >= SPANS_KEPT:
            self.left_out += 1
            return False
        self.spans.append(span)
        return True


def brings_prompt(turn: Turn) -> bool:
    """Whether the request's newest message is the user's words rather than tool results: a typed prompt (or, in a
    run given one prompt, that prompt)."""
    if not turn.input:
        return False
    last = turn.input[-1]
    if last.role != "user":
        return False
    kinds = {part.kind for part in last.parts}
    return "text" in kinds and "tool_result" not in kinds
