"""codex's events (codex.user_prompt, codex.api_request / websocket_request, codex.sse_event's completed response,
codex.tool_decision, codex.tool_result) as account events."""

from probe.read.account.event import (
    MODEL_CALL,
    OTHER,
    PROMPT,
    REQUEST,
    TEXT_KEPT,
    TOOL_DECISION,
    TOOL_RESULT,
    AccountEvent,
    number,
    text,
    total,
)
from probe.read.account.metrics import CACHE_READ, CACHE_WRITE, INPUT, OUTPUT, Measure, MetricTable

KINDS = {"codex.user_prompt": PROMPT, "codex.api_request": REQUEST, "codex.websocket_request": REQUEST,
         "codex.tool_decision": TOOL_DECISION, "codex.tool_result": TOOL_RESULT}  # fmt: skip
# Its metrics (0.169.0, measured against the mock: delta, 61 records of 60 names): only its tokens per turn (a
# histogram, by `token_type`; `input` with the cached ones, `output` with reasoning) are counts the wire has too.
# It logs no cost, and names no session on them.
METRICS = MetricTable({
    "codex.turn.token_usage": Measure(by="token_type", kinds={"input": INPUT, "cached_input": CACHE_READ,
                                                              "cache_write_input": CACHE_WRITE, "output": OUTPUT}),
}, session=())  # fmt: skip
COUNTED = "input_token_count (cached included), cached_token_count, output_token_count (reasoning included)"


def event(record: dict, line: int) -> AccountEvent:
    fields = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    # codex names its events in an attribute; the log record's own name is its source line.
    name = text(fields.get("event.name")) or str(record.get("name") or "")
    kind = KINDS.get(name, OTHER)
    if name == "codex.sse_event" and fields.get("event.kind") == "response.completed":
        kind = MODEL_CALL
    found = AccountEvent(kind, name, line, number(record.get("time")), session=text(fields.get("conversation.id")))
    found.model, found.call_id = text(fields.get("model")), text(fields.get("call_id"))
    found.tool, found.decision = text(fields.get("tool_name")), text(fields.get("decision"))
    found.decided_by = text(fields.get("source"))  # config or user
    found.duration_ms = number(fields.get("duration_ms"))
    if kind == MODEL_CALL:
        found.input_tokens = total(fields.get("input_token_count"))  # cached ones included, as OpenAI counts
        found.output_tokens = total(fields.get("output_token_count"))
        found.cache_read_tokens = total(fields.get("cached_token_count"))
        found.cache_write_tokens = total(fields.get("cache_write_token_count"))
        found.duration_ms = None  # it has time to first token only
        found.counted, found.ttft_ms = COUNTED, number(fields.get("ttft_ms"))
    if kind == PROMPT:
        found.text = text(fields.get("prompt"), TEXT_KEPT)
    return found
