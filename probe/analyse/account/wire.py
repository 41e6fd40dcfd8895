"""What the join needs of each model exchange, kept small as the run streams past: its ids, times, usage and cost."""

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from probe.analyse.token_sums import spends
from probe.read.conversation import Usage

# Response headers that carry the API's id of the request (the Messages API's, OpenAI's), and request headers and
# body fields that carry the agent's session or prompt id.
REQUEST_ID_HEADERS = ("request-id", "x-request-id")
SESSION_HEADERS = ("x-claude-code-session-id", "session-id", "session_id", "conversation-id", "x-session-id")
PROMPT_FIELDS = ("user_prompt_id",)
CALLS_KEPT = 100_000  # exchanges the join holds; beyond, the rest are counted, not joined
IDS_KEPT = 64  # tool call ids kept per exchange


@dataclass
class WireCall:
    """One model exchange as the join sees it."""

    number: int
    start: float | None
    end: float | None
    request_id: str | None
    session: str | None
    prompt: str | None
    response_id: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cost_usd: Decimal | None
    duration_ms: float | None
    call_ids: tuple[str, ...] = ()
    cache_write_tokens: int | None = None
    first_byte_ms: float | None = None  # from the request's start to the answer's first byte
    usage: Usage | None = None  # (its counts only: priced again at the model the agent asked for, where a fork
    provider: str | None = None  # rewrote the one it asked for)


@dataclass
class WireCalls:
    """Fed each exchange read as a turn, with its cost; keeps the model calls (not the token counts)."""

    calls: list[WireCall] = field(default_factory=list)
    left_out: int = 0

    def add(self, exchange: Any, turn: Any, cost: Any) -> None:
        """`exchange` (probe.read.traffic.Exchange) read as `turn` (probe.read.conversation.Turn), priced as `cost`
        (probe.analyse.cost.TurnCost, or None)."""
        if turn.usage is not None and not spends(turn):  # a token count: no model call
            return
        if len(self.calls) >= CALLS_KEPT:
            self.left_out += 1
            return
        usage, timing = turn.usage, turn.timing
        end = None
        if timing.start is not None and timing.duration_ms is not None:
            end = timing.start + timing.duration_ms / 1000
        call_ids = tuple(
            part.call_id for item in turn.output for part in item.parts if part.kind == "tool_call" and part.call_id
        )[:IDS_KEPT]
        self.calls.append(
            WireCall(
                turn.number, timing.start, end, header(exchange.response_headers, REQUEST_ID_HEADERS),
                header(exchange.request_headers, SESSION_HEADERS), body_field(exchange, PROMPT_FIELDS),
                turn.response_id, turn.model, usage.input if usage else None, usage.output if usage else None,
                usage.cache_read if usage else None, cost.usd if cost is not None else None, timing.duration_ms,
                call_ids, usage.cache_write if usage else None, timing.ttfb_ms,
                dataclasses.replace(usage, raw={}) if usage else None, turn.provider,
            )
        )  # fmt: skip


def header(headers: list[tuple[str, str]], names: tuple[str, ...]) -> str | None:
    for name, value in headers:
        if name.lower() in names and value:
            return value[:200]
    return None


def body_field(exchange: Any, names: tuple[str, ...]) -> str | None:
    body = exchange.request_body.value if exchange.request_body.is_json else None
    if isinstance(body, dict):
        for name in names:
            if isinstance(body.get(name), str):
                return body[name][:200]
    return None
