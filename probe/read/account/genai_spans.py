"""OpenTelemetry GenAI spans (Copilot CLI's and opencode's `chat`, `execute_tool`, `invoke_agent`) as account
events."""

from probe.read.account.event import MODEL_CALL, OTHER, TOOL_RESULT, AccountEvent, number, text, total

KINDS = {"chat": MODEL_CALL, "generate_content": MODEL_CALL, "text_completion": MODEL_CALL, "execute_tool": TOOL_RESULT}


def event(record: dict, line: int) -> AccountEvent:
    name = str(record.get("name") or "")
    fields = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    operation = text(fields.get("gen_ai.operation.name")) or name.split(" ", 1)[0]
    found = AccountEvent(KINDS.get(operation, OTHER), name, line, number(record.get("time")))
    found.session = text(fields.get("gen_ai.conversation.id")) or text(fields.get("session.id"))
    found.response_id, found.call_id = text(fields.get("gen_ai.response.id")), text(fields.get("gen_ai.tool.call.id"))
    found.model = text(fields.get("gen_ai.response.model")) or text(fields.get("gen_ai.request.model"))
    found.tool = text(fields.get("gen_ai.tool.name"))
    found.input_tokens = total(fields.get("gen_ai.usage.input_tokens"))
    found.output_tokens = total(fields.get("gen_ai.usage.output_tokens"))
    if found.kind == MODEL_CALL:
        found.counted = "gen_ai.usage.input_tokens, gen_ai.usage.output_tokens, the span's duration"
    start, end = number(record.get("time")), number(record.get("end"))
    if start is not None and end is not None and end >= start:
        found.duration_ms = round((end - start) * 1000, 3)
    return found
