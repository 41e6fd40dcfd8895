"""Claude Code's events (user_prompt, api_request, api_error, tool_decision, tool_result, compaction) as account
events."""

from probe.read.account.event import (
    COMPACTION,
    ERROR,
    MODEL_CALL,
    OTHER,
    PROMPT,
    TEXT_KEPT,
    TOOL_DECISION,
    TOOL_RESULT,
    AccountEvent,
    number,
    text,
    total,
)
from probe.read.account.metrics import ACTIVE, CACHE_READ, CACHE_WRITE, COST, OUTPUT, UNCACHED, Measure, MetricTable

KINDS = {"user_prompt": PROMPT, "api_request": MODEL_CALL, "api_error": ERROR, "tool_decision": TOOL_DECISION,
         "tool_result": TOOL_RESULT, "compaction": COMPACTION}  # fmt: skip
# Its metrics (2.1.330, measured against the mock: delta sums, each point with session.id and, but active time, the
# model): the cost it priced, its tokens by `type` (its `input` the uncached ones, as the Messages API counts them),
# and the time the CLI was busy (`type` cli; `user`, the time the user was, has no side on the wire).
METRICS = MetricTable({
    "claude_code.cost.usage": Measure(COST),
    "claude_code.token.usage": Measure(by="type", kinds={"input": UNCACHED, "cacheRead": CACHE_READ,
                                                         "cacheCreation": CACHE_WRITE, "output": OUTPUT}),
    "claude_code.active_time.total": Measure(by="type", kinds={"cli": ACTIVE}),
})  # fmt: skip
# What its api_request counts, in its own fields.
COUNTED = ("input_tokens (uncached), cache_read_tokens, cache_creation_tokens, output_tokens, cost_usd, ttft_ms, "
           "duration_ms")  # fmt: skip


def event(record: dict, line: int) -> AccountEvent:
    name = str(record.get("name") or "")
    fields = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    found = AccountEvent(KINDS.get(name, OTHER), name, line, number(record.get("time")))
    found.session, found.prompt = text(fields.get("session.id")), text(fields.get("prompt.id"))
    found.request_id, found.call_id = text(fields.get("request_id")), text(fields.get("tool_use_id"))
    found.model, found.tool, found.decision = (
        text(fields.get("model")),
        text(fields.get("tool_name")),
        text(fields.get("decision")),
    )
    found.decided_by = text(fields.get("source"))  # config, hook, user_temporary, user_permanent, user_reject…
    if found.kind == MODEL_CALL:
        # Its input_tokens are the uncached ones, as the Messages API counts them: the whole input adds the cache's.
        found.input_tokens = total(
            fields.get("input_tokens"), fields.get("cache_read_tokens"), fields.get("cache_creation_tokens")
        )
        found.output_tokens = total(fields.get("output_tokens"))
        found.cache_read_tokens = total(fields.get("cache_read_tokens"))
        found.cache_write_tokens = total(fields.get("cache_creation_tokens"))
        found.cost_usd = number(fields.get("cost_usd"))
        found.counted, found.ttft_ms = COUNTED, number(fields.get("ttft_ms"))
        found.purpose = text(fields.get("query_source"))  # `compact` for a compaction's summarisation request
    if found.kind == COMPACTION:
        # 2.1.330 logs trigger, success, duration_ms, pre_tokens and post_tokens (its `compaction` event's code).
        found.trigger = text(fields.get("trigger"))
        found.tokens_before, found.tokens_after = total(fields.get("pre_tokens")), total(fields.get("post_tokens"))
    found.duration_ms = number(fields.get("duration_ms"))
    if found.kind == PROMPT:
        found.text = text(fields.get("prompt"), TEXT_KEPT)
    return found
