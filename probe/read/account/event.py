"""One record of the agent's own account, in words no agent owns: what it was, when, the agent's ids and counts."""

import math
from dataclasses import asdict, dataclass
from typing import Any

# What a record tells of: the kinds the join and the report know.
PROMPT, REQUEST, MODEL_CALL, TOOL_DECISION, TOOL_RESULT, COMPACTION, ERROR, OTHER = (
    "prompt", "request", "model call", "tool decision", "tool result", "compaction", "error", "other",
)  # fmt: skip
# The kinds the join matches to exchanges: each says one request was sent.
EXCHANGE_KINDS = (REQUEST, MODEL_CALL, ERROR)
TEXT_KEPT = 160  # characters of a typed prompt kept for the report


@dataclass
class AccountEvent:
    """A record of the agent's account. Input tokens are all of them, cached ones included (as the wire's usage
    counts them); None where the agent did not say."""

    kind: str
    name: str  # the agent's own name for it (api_request, codex.sse_event…)
    line: int  # in `source`, from 1: where it came from
    time: float | None = None
    session: str | None = None
    prompt: str | None = None  # the prompt's id, tying the records it caused
    request_id: str | None = None  # the API's request id, as the agent logged it
    response_id: str | None = None
    call_id: str | None = None  # a tool call's id
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: float | None = None
    tool: str | None = None
    decision: str | None = None
    decided_by: str | None = None  # a tool decision's maker: `user…` where the user answered a permission prompt
    text: str | None = None  # a typed prompt's start, as logged (masked at capture)
    purpose: str | None = None  # why the agent sent a request, as it logged it (Claude Code's query_source)
    trigger: str | None = None  # a compaction's: manual, auto…
    tokens_before: int | None = None  # a compaction's: the context's tokens before and after, as the agent counted
    tokens_after: int | None = None
    counted: str | None = None  # what its counts are, in the agent's own fields (the report names them)
    ttft_ms: float | None = None  # time to its answer's first token, as the agent measured it
    source: str = "telemetry.jsonl"  # the run's file it was read from

    def to_json(self) -> dict:
        return asdict(self)


def number(value: Any) -> int | float | None:
    """A count or amount as logged: OTLP writes 64-bit integers as strings, and agents write some numbers so."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and len(value) < 40:
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, int):
        return value if abs(value) < 1 << 63 else None  # no count a 64-bit field can hold
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def text(value: Any, kept: int = 200) -> str | None:
    """A string attribute as logged, cut to `kept` characters; None for anything else."""
    return value[:kept] if isinstance(value, str) and value else None


def total(*counts: Any) -> int | None:
    """The sum of the counts given, None if none was."""
    found = [number(count) for count in counts]
    found = [count for count in found if count is not None]
    return int(sum(found)) if found else None
