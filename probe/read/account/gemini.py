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

# By the name's last part: gemini-cli writes gemini_cli.api_request, Qwen Code qwen-code.api_request.
KINDS = {"user_prompt": PROMPT, "api_request": REQUEST, "api_response": MODEL_CALL, "api_error": ERROR,
         "tool_call": TOOL_RESULT, "chat_compression": COMPACTION}  # fmt: skip
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
    elif kind == MODEL_CALL:
        found.input_tokens = total(fields.get("input_token_count"))  # cached ones included, as Gemini counts
        # Gemini bills thinking as output, and counts it apart from the candidates' tokens.
        found.output_tokens = total(fields.get("output_token_count"), fields.get("thoughts_token_count"))
        found.cache_read_tokens = total(fields.get("cached_content_token_count"))
    if kind == COMPACTION:  # gemini-cli 0.61.0's makeChatCompressionEvent: tokens_before, tokens_after
        found.tokens_before, found.tokens_after = total(fields.get("tokens_before")), total(fields.get("tokens_after"))
    if kind == PROMPT:
        found.text = text(fields.get("prompt"), TEXT_KEPT)
    return found
