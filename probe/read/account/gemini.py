"""gemini-cli's and Qwen Code's events (user_prompt, api_request, api_response, tool_call, chat_compression, and
the GenAI details that name the response) as account events."""

from probe.read.account.event import (
    COMPACTION,
    ERROR,
    MODEL_CALL,
    OTHER,
    PROMPT,
    REQUEST,
    TEXT_KEPT,
    TOOL_RESULT,
    AccountEvent,
    number,
    text,
    total,
)
from probe.read.account.metrics import CACHE_READ, INPUT, OUTPUT, REQUESTS, Measure, MetricTable

# By the name's last part: gemini-cli writes gemini_cli.api_request, Qwen Code qwen-code.api_request.
KINDS = {"user_prompt": PROMPT, "api_request": REQUEST, "api_response": MODEL_CALL, "api_error": ERROR,
         "tool_call": TOOL_RESULT, "chat_compression": COMPACTION}  # fmt: skip
# Their metrics (gemini-cli 0.61.0 and Qwen Code 0.24.4, measured against the mock: cumulative sums with `model`,
# gemini-cli's with session.id too): requests, and tokens by `type` (`input` with the cached ones; thinking is
# output, as the API bills it; `tool`, the tool-use prompt's, is no count of the wire's usage). The GenAI
# `gen_ai.client.token.usage` histogram repeats their input and output.
TOKENS = Measure(by="type", kinds={"input": INPUT, "cache": CACHE_READ, "output": OUTPUT, "thought": OUTPUT})
METRICS = MetricTable({
    "gemini_cli.token.usage": TOKENS, "gemini_cli.api.request.count": Measure(REQUESTS),
    "qwen-code.token.usage": TOKENS, "qwen-code.api.request.count": Measure(REQUESTS),
})  # fmt: skip
COUNTED = ("input_token_count (cached included), cached_content_token_count, output_token_count and "
           "thoughts_token_count (added: thinking is output), duration_ms")  # fmt: skip
DETAILS = "gen_ai.client.inference.operation.details"  # the GenAI event that names the response it describes


def event(record: dict, line: int) -> AccountEvent:
    name = str(record.get("name") or "")
    fields = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    # Its spans repeat what its log events say (a `tool_call` span beside the `tool_call` event): the events are read.
    kind = KINDS.get(name.rsplit(".", 1)[-1], OTHER) if record.get("signal") == "logs" else OTHER
    if name == DETAILS and fields.get("gen_ai.response.id"):
        kind = MODEL_CALL
    found = AccountEvent(kind, name, line, number(record.get("time")), session=text(fields.get("session.id")))
    # Qwen Code 0.24.4's api_response names the response it read (`response_id`); gemini-cli 0.61.0's does not.
    response_id = text(fields.get("gen_ai.response.id")) or text(fields.get("response_id"))
    found.prompt, found.response_id = text(fields.get("prompt_id")), response_id
    found.model = text(fields.get("model")) or text(fields.get("gen_ai.response.model"))
    found.tool, found.decision = text(fields.get("function_name")), text(fields.get("decision"))
    found.call_id = text(fields.get("call_id")) or text(fields.get("callId"))
    found.duration_ms = number(fields.get("duration_ms"))
    if name == DETAILS:
        found.input_tokens = total(fields.get("gen_ai.usage.input_tokens"))
        found.output_tokens = total(fields.get("gen_ai.usage.output_tokens"))
        found.counted = "gen_ai.usage.input_tokens (cached included), gen_ai.usage.output_tokens (thinking left out)"
    elif kind == MODEL_CALL:
        found.input_tokens = total(fields.get("input_token_count"))  # cached ones included, as Gemini counts
        # Gemini bills thinking as output, and counts it apart from the candidates' tokens.
        found.output_tokens = total(fields.get("output_token_count"), fields.get("thoughts_token_count"))
        found.cache_read_tokens = total(fields.get("cached_content_token_count"))
        found.counted = COUNTED
    if kind == COMPACTION:  # gemini-cli 0.61.0's makeChatCompressionEvent: tokens_before, tokens_after
        found.tokens_before, found.tokens_after = total(fields.get("tokens_before")), total(fields.get("tokens_after"))
    if kind == PROMPT:
        found.text = text(fields.get("prompt"), TEXT_KEPT)
    return found
