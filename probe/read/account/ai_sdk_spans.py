"""The AI SDK's telemetry spans (opencode's `ai.streamText.doStream`, `ai.toolCall`…) as account events; its other
spans read as OpenTelemetry GenAI spans."""

from probe.read.account import genai_spans
from probe.read.account.event import MODEL_CALL, OTHER, TOOL_RESULT, AccountEvent, number, text, total

# The span of each provider call (one request on the wire) and of each tool the SDK ran. The outer spans
# (ai.streamText, ai.generateText) wrap all the calls of one step loop and repeat their counts: not read as calls.
CALLS = ("ai.streamText.doStream", "ai.generateText.doGenerate", "ai.streamObject.doStream",
         "ai.generateObject.doGenerate")  # fmt: skip
TOOL = "ai.toolCall"


def event(record: dict, line: int) -> AccountEvent:
    name = str(record.get("name") or "")
    if not name.startswith("ai."):
        return genai_spans.event(record, line)
    fields = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    kind = MODEL_CALL if name in CALLS else TOOL_RESULT if name == TOOL else OTHER
    start, end = number(record.get("time")), number(record.get("end"))
    found = AccountEvent(kind, name, line, start, session=text(fields.get("session.id")))
    found.session = found.session or text(fields.get("ai.telemetry.metadata.sessionId"))
    found.response_id = text(fields.get("ai.response.id")) or text(fields.get("gen_ai.response.id"))
    found.model = text(fields.get("ai.response.model")) or text(fields.get("ai.model.id"))
    found.call_id, found.tool = text(fields.get("ai.toolCall.id")), text(fields.get("ai.toolCall.name"))
    if kind == MODEL_CALL:
        # The SDK's input count is all of them, cached ones included; its output count includes reasoning.
        found.input_tokens = total(fields.get("ai.usage.inputTokens"))
        found.output_tokens = total(fields.get("ai.usage.outputTokens"))
        found.cache_read_tokens = total(fields.get("ai.usage.inputTokenDetails.cacheReadTokens"))
        found.counted = ("ai.usage.inputTokens (cached included), ai.usage.inputTokenDetails.cacheReadTokens, "
                         "ai.usage.outputTokens (reasoning included), the span's duration")  # fmt: skip
    if start is not None and end is not None and end >= start:
        found.duration_ms = round((end - start) * 1000, 3)
    return found
