"""One interval of one agent's lane, and the parts of time it counts to."""

from dataclasses import dataclass

# The kinds of interval a lane holds.
MODEL, TOOL, SUB_AGENT, USER, AGENT = "model", "tool", "sub_agent", "user", "agent"
# The parts time is split into, in the order a moment covered by several intervals goes to the first of them.
PARTS = ("model_streaming", "model_waiting", "tools", "sub_agents", "user", "agent")
PART_OF_KIND = {TOOL: "tools", SUB_AGENT: "sub_agents", USER: "user", AGENT: "agent"}


@dataclass(slots=True)  # a long session makes hundreds of thousands: no __dict__ each
class Span:
    """An interval of an agent's lane, with the exchanges it came from."""

    agent: str
    kind: str
    name: str | None
    start: float
    end: float
    exchanges: tuple[int, ...]
    first_byte: float | None = None  # a model call's: waiting before it, streaming after
    call_id: str | None = None
    child: str | None = None  # a sub-agent span's agent
    tokens: tuple[int | None, int | None, int | None, int | None] | None = None  # input, output, cache read, write
    cost_usd: str | None = None
    cache_break: bool = False
    compaction: bool = False
    open: bool = False  # a tool call never answered: it lasts to the run's end
    critical: bool = False
    id: int = 0

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    def pieces(self) -> list[tuple[float, float, str]]:
        """The interval as (start, end, part): a model call is two, waiting then streaming."""
        if self.kind != MODEL:
            return [(self.start, self.end, PART_OF_KIND[self.kind])]
        first = self.end if self.first_byte is None else min(max(self.first_byte, self.start), self.end)
        return [(self.start, first, "model_waiting"), (first, self.end, "model_streaming")]

    def to_json(self, schema: int) -> dict:
        tokens = None
        if self.tokens is not None:
            tokens = dict(zip(("input", "output", "cache_read", "cache_write"), self.tokens, strict=True))
        return {
            "record": "span", "schema": schema, "id": self.id, "agent": self.agent, "kind": self.kind,
            "name": self.name, "start": self.start, "end": self.end,
            "duration_ms": round(self.duration * 1000, 3), "first_byte": self.first_byte,
            "exchanges": list(self.exchanges), "call_id": self.call_id, "child": self.child, "tokens": tokens,
            "cost_usd": self.cost_usd, "cache_break": self.cache_break, "compaction": self.compaction,
            "open": self.open, "critical": self.critical,
        }  # fmt: skip
