"""Items of the tools the Responses API runs itself (web search, code interpreter) or codex searches, read as calls."""

from collections import Counter

from probe.common import fastjson
from probe.read.conversation import Item, Part, server_tool_uses, text_or_none

# Tools the API (or the agent's own tool search) runs: the call, and its result where the item carries one.
SERVER_CALLS = {
    "web_search_call": "web_search",
    "code_interpreter_call": "code_interpreter",
    "tool_search_call": "tool_search",
}

# Run by the API within its answer, whose item's status says when it ran: the result is then part of the answer,
# though the item holds none unless the request asked for it to be included. (A tool search may be the agent's.)
RUN_BY_THE_API = ("web_search_call", "code_interpreter_call")
FINISHED = ("completed", "failed")
# The items of the tools the API bills by use, by the tool each is a use of (the search codex runs is no such tool).
BILLED_CALLS = {
    "web_search_call": "web_search",
    "file_search_call": "file_search",
    "code_interpreter_call": "code_interpreter",
}


def billed_uses(output: list[Item]) -> dict[str, int]:
    """The server tools an answer used, by tool: one use per item of a billed call (the API sends no count)."""
    return server_tool_uses(Counter(BILLED_CALLS[item.type] for item in output if item.type in BILLED_CALLS).items())


def server_call(kind: str, raw: dict) -> list[Part]:
    """A server tool's item as a call (its query, code or arguments) and, where the item holds it, its result."""
    call_id = text_or_none(raw.get("call_id")) or text_or_none(raw.get("id"))
    if kind == "code_interpreter_call":
        arguments = {"code": raw.get("code"), "container_id": raw.get("container_id")}
    elif kind == "web_search_call":
        arguments = raw.get("action")
    else:
        arguments = fastjson.parsed(raw.get("arguments"))
    parts = [Part("tool_call", kind, name=SERVER_CALLS[kind], call_id=call_id, arguments=arguments)]
    outputs = raw.get("outputs")
    if kind == "code_interpreter_call" and isinstance(outputs, list):
        lines = [
            str(output.get("logs") if output.get("type") == "logs" else output.get("url", ""))
            for output in outputs
            if isinstance(output, dict)
        ]
        parts.append(Part("tool_result", kind, text="\n".join(lines), call_id=call_id, raw=outputs))
    action = raw.get("action")
    sources = action.get("sources") if isinstance(action, dict) else None
    if kind == "web_search_call" and isinstance(sources, list):
        urls = [str(source.get("url", "")) for source in sources if isinstance(source, dict)]
        parts.append(Part("tool_result", kind, text="\n".join(urls), call_id=call_id))
    status = raw.get("status")
    if kind in RUN_BY_THE_API and len(parts) == 1 and status in FINISHED:  # run, though the item holds no result
        answered = Part(
            "tool_result", kind, text="", call_id=call_id, is_error=status == "failed", raw={"status": status}
        )
        parts.append(answered)
    return parts
