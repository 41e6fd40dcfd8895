"""Reads OpenAI Responses API requests and responses (HTTP+SSE and WebSocket) into the conversation model."""

import re
from typing import Any

from probe.apis.openai_responses.server_tools import SERVER_CALLS, billed_uses, server_call
from probe.apis.openai_responses.stream import STREAMED, TOOL_CALLS, Stream
from probe.common import fastjson
from probe.read import conversation
from probe.read.conversation import Item, Part, TextBlock, Tool, Turn, Usage
from probe.read.history_reads import read_history
from probe.read.sse import Event

API = "openai.responses"
PROVIDER = "openai"
OPERATION = "chat"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"input", "instructions", "tools", "model", "previous_response_id"}
TEXT_PARTS = {"input_text", "output_text", "text", "summary_text", "reasoning_text"}
TOOL_RESULTS = {"function_call_output", "custom_tool_call_output"}
FINAL_EVENTS = {"response.completed", "response.failed", "response.incomplete"}
KNOWN_EVENTS = FINAL_EVENTS | {
    "response.created",
    "response.in_progress",
    "response.queued",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_text.annotation.added",
    "response.refusal.delta",
    "response.refusal.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.custom_tool_call_input.delta",
    "response.custom_tool_call_input.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    # A server tool's progress: its item's status only (the item itself comes whole with output_item.done).
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed",
    "response.code_interpreter_call.in_progress",
    "response.code_interpreter_call.interpreting",
    "response.code_interpreter_call.completed",
    "response.code_interpreter_call_code.delta",
    "response.code_interpreter_call_code.done",
    "error",
    "[DONE]",
}


SYSTEM_ROLES = {"system", "developer"}
PATH = re.compile(r"(?:^|/)responses$")  # POST {base}/responses, and the WebSocket codex opens there
REQUEST_FIELDS = {"input", "previous_response_id"}  # one of them is in every request of this API
REQUEST_MARKS = {"instructions", "previous_response_id", "reasoning", "tools", "store", "include", "text", "stream"}


def recognise(evidence) -> int:
    """3: the path is this API's and the request fits it; 2: an answer or a WebSocket message only this API sends;
    1: a request shaped like this API's (an `input` of typed items, or beside fields only it takes); 0: none."""
    request = evidence.request or {}
    fits = not request or bool(REQUEST_FIELDS & request.keys()) or request.get("type") == "response.create"
    if PATH.search(evidence.path) and fits:
        return 3
    if request.get("type") == "response.create" or any(answer_mark(answer) for answer in evidence.answers):
        return 2
    items = request.get("input")
    listed = (
        isinstance(items, list)
        and bool(items)
        and isinstance(items[0], dict)
        and ("type" in items[0] or "role" in items[0])
    )
    return 1 if "input" in request and (REQUEST_MARKS & request.keys() or listed) else 0


def answer_mark(answer: dict) -> bool:
    """A response object, or an event of this API's stream (`response.created`, `response.output_text.delta`…)."""
    kind = answer.get("type")
    return answer.get("object") == "response" or (isinstance(kind, str) and kind.startswith("response."))


def read_request(body: Any, turn: Turn) -> None:
    if not conversation.read_model_and_config(body, turn, SECTION_FIELDS):
        return
    turn.previous_response_id = conversation.text_or_none(body.get("previous_response_id"))
    if isinstance(body.get("instructions"), str):
        turn.system.append(TextBlock(body["instructions"], role="instructions", type="instructions"))
    turn.tools += read_tools(body.get("tools"))
    items = body.get("input")
    if isinstance(items, str):  # the API's shorthand for one user message
        items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": items}]}]
    items = items if isinstance(items, list) else []
    read = read_history(items, turn, lambda raw: read_item(raw, turn, "input"))
    for index, (raw, item) in enumerate(zip(items, read)):
        turn.input.append(item)
        if item.type in ("additional_tools", "tool_search_output") and isinstance(raw, dict):
            turn.tools += read_tools(raw.get("tools"))
        if item.role in SYSTEM_ROLES:
            turn.system += instruction_blocks(item, index)


def instruction_blocks(item: Item, index: int) -> list[TextBlock]:
    """A system or developer message's text parts as instruction blocks, each with the kind the agent gave it
    (codex names them in `content_item_kinds`, one per part)."""
    passthrough = item.metadata.get("internal_chat_message_metadata_passthrough")
    kinds = passthrough.get("content_item_kinds") if isinstance(passthrough, dict) else None
    blocks = []
    for position, part in enumerate(item.parts):
        if part.kind != "text":
            continue
        metadata = {}
        if isinstance(kinds, list) and position < len(kinds):
            metadata["kind"] = kinds[position]
        block_id = f"{item.id or f'input[{index}]'}#{position}"
        blocks.append(
            TextBlock(part.text or "", role=item.role or "system", type=part.type, id=block_id, metadata=metadata)
        )
    return blocks


def read_tools(tools: Any, namespace: str = "") -> list[Tool]:
    """Declared tools, descending into namespaces (codex groups its tools so): a namespace is an entry of type
    `namespace`, followed by its tools."""
    found = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            found.append(Tool(name="?", namespace=namespace, sent=tool, metadata={"raw": tool}))
        elif tool.get("type") == "namespace":
            # The namespace is an entry of its own (its description is part of what the model is told), then
            # its tools, each naming it. Its hash covers its own fields: each tool has its own.
            own = {key: value for key, value in tool.items() if key != "tools"}
            found.append(
                Tool(
                    name=str(tool.get("name", "")),
                    namespace=namespace,
                    type="namespace",
                    description=str(tool.get("description") or ""),
                    sent=own,
                    metadata={key: value for key, value in own.items() if key not in ("name", "type", "description")},
                )
            )
            found += read_tools(tool.get("tools"), str(tool.get("name", "")))
        else:
            schema = tool.get("parameters", tool.get("format"))
            known = {"name", "type", "description", "parameters", "format"}
            found.append(
                Tool(
                    name=str(tool.get("name") or tool.get("type") or "?"),
                    namespace=namespace,
                    type=conversation.text_or_none(tool.get("type")),
                    description=str(tool.get("description") or ""),
                    schema=schema,
                    sent=tool,
                    metadata={key: value for key, value in tool.items() if key not in known},
                )
            )
    return found


def read_item(raw: Any, turn: Turn, where: str) -> Item:
    """One input or output item; its fields not read into parts stay in `metadata`, as sent."""
    if not isinstance(raw, dict):
        turn.unrecognised.append(f"{where} item that is {type(raw).__name__}")
        return Item(type="(not an object)", parts=[Part("other", type(raw).__name__, raw=raw)], sent=raw)
    kind = str(raw.get("type", "message"))
    item = Item(type=kind, role=conversation.text_or_none(raw.get("role")), id=conversation.text_or_none(raw.get("id")))
    used = {"type", "role", "id"}
    if kind == "message":
        item.parts = read_content(raw.get("content"), turn)
        used.add("content")
    elif kind == "reasoning":
        for field in ("summary", "content"):
            for part in raw.get(field) or [] if isinstance(raw.get(field), list) else []:
                item.parts.append(
                    Part(
                        "reasoning",
                        str(part.get("type", "")) if isinstance(part, dict) else "",
                        text=str(part.get("text", "")) if isinstance(part, dict) else None,
                        raw=None if isinstance(part, dict) else part,
                    )
                )
            used.add(field)
    elif kind in TOOL_CALLS:
        field = TOOL_CALLS[kind]
        # A namespaced tool is called by its qualified name: the namespace is part of which tool it is.
        name = conversation.text_or_none(raw.get("name"))
        if raw.get("namespace") and name is not None:
            name = f"{raw['namespace']}.{name}"
        call_id = conversation.text_or_none(raw.get("call_id"))
        item.parts = [Part("tool_call", kind, name=name, call_id=call_id, arguments=fastjson.parsed(raw.get(field)))]
        used |= {"name", "call_id", field}
    elif kind in TOOL_RESULTS:
        output = raw.get("output")
        text = output if isinstance(output, str) else None
        item.parts = [
            Part(
                "tool_result",
                kind,
                text=text,
                call_id=conversation.text_or_none(raw.get("call_id")),
                raw=None if isinstance(output, str) else output,
            )
        ]
        used |= {"call_id", "output"}
    elif kind in SERVER_CALLS:
        item.parts = server_call(kind, raw)
        used |= {"action", "code", "outputs", "call_id", "arguments"}
    elif kind == "tool_search_output":
        tools = read_tools(raw.get("tools"))
        names = [tool.name if not tool.namespace else f"{tool.namespace}.{tool.name}" for tool in tools]
        found = [name for name, tool in zip(names, tools) if tool.type != "namespace"]
        call_id = conversation.text_or_none(raw.get("call_id"))
        item.parts = [Part("tool_result", kind, text="\n".join(found), call_id=call_id)]
        item.metadata["declares_tools"] = len(found)
        used |= {"call_id", "tools"}
    elif kind == "compaction":  # the history the API summed up, opaque: it stands for the items it replaced
        item.parts = [Part("other", kind, raw={"encrypted_content": raw.get("encrypted_content")})]
        used.add("encrypted_content")
    elif kind == "additional_tools":
        tools = raw.get("tools")
        # The tools themselves are read into Turn.tools: here, how many (their namespaces are not tools).
        item.metadata["declares_tools"] = sum(tool.type != "namespace" for tool in read_tools(tools))
        used.add("tools")
    elif kind not in ("configuration_update", "compaction_trigger"):
        turn.unrecognised.append(f"{where} item {kind}")
    item.metadata.update({key: value for key, value in raw.items() if key not in used})
    item.sent = raw  # measured by the builder, once per distinct item
    return item


def read_content(content: Any, turn: Turn) -> list[Part]:
    """A message's content parts, each kept with its boundary; unknown parts are kept raw and counted."""
    if isinstance(content, str):
        return [Part("text", "text", text=content)]
    parts = []
    for part in content if isinstance(content, list) else []:
        kind = str(part.get("type", "")) if isinstance(part, dict) else ""
        if kind in TEXT_PARTS and isinstance(part.get("text"), str):
            rest = {key: value for key, value in part.items() if key not in ("type", "text")}
            parts.append(Part("text", kind, text=part["text"], raw=rest or None))
        elif kind == "refusal" and isinstance(part.get("refusal"), str):  # the model declined: its words are text
            rest = {key: value for key, value in part.items() if key not in ("type", "refusal")}
            parts.append(Part("text", kind, text=part["refusal"], raw=rest or None))
        elif kind == "input_image":
            parts.append(Part("image", kind, raw={key: value for key, value in part.items() if key != "type"}))
        elif kind == "input_file":
            parts.append(Part("other", kind, raw={key: value for key, value in part.items() if key != "type"}))
        else:
            turn.unrecognised.append(f"content part {kind or type(part).__name__}")
            parts.append(Part("other", kind or type(part).__name__, raw=part))
    return parts


def read_response(events: list[Event] | None, body: Any, turn: Turn) -> None:
    if events is None:
        if isinstance(body, dict) and body.get("object") == "response":
            read_final(body, turn, [])
        elif isinstance(body, dict) and "error" in body:
            turn.errors.append(body["error"])
        elif body is not None:
            turn.unknown.append({"where": "response body", "raw": body})
        return
    stream = Stream()
    final, failed = None, False
    answered: dict = {}  # the fields of every response object the events carried, the newest winning
    usage = None  # the newest usage an event carried: the final response's, else whatever event had one
    for event in events:
        data = event.data if type(event.data) is dict else {}
        kind = data.get("type") or event.name or (event.data if event.data == "[DONE]" else "(untyped)")
        kind = kind if type(kind) is str else str(kind)
        seen = conversation.count_event(turn, kind)
        if kind not in KNOWN_EVENTS:
            if seen == 1:  # one example of each kind: its payload is what a reader needs to see
                turn.unrecognised.append(f"event {kind}")
                turn.unknown.append({"where": f"event {kind}", "raw": event.data})
            continue
        response = data.get("response") if type(data.get("response")) is dict else None
        if response is not None:
            answered.update(response)
            turn.response_id = conversation.text_or_none(response.get("id")) or turn.response_id
            if isinstance(response.get("usage"), dict):
                usage = response["usage"]
        if isinstance(data.get("usage"), dict):  # a gateway may put it beside the response, not in it
            usage = data["usage"]
        if kind in FINAL_EVENTS:
            final = response if response is not None else {}
            failed = kind == "response.failed"
        elif kind == "error":
            turn.errors.append(data.get("error", data))
        elif kind in STREAMED:
            stream.add(kind, data)
    assembled = [read_item(item, turn, "output") for item in stream.items()]
    for item, key in zip(assembled, stream.order):
        # A final event means the answer arrived whole, whatever .done events the stream left out; but for a
        # response that failed, only what the stream said was done is.
        whole = (final is not None and not failed) or stream.finished(key)
        for part in item.parts:
            part.complete = whole
    if final is not None:
        read_final(final, turn, assembled)
    else:
        turn.output = assembled
    # What response.created said (the model that answered, when it began) holds even when the final event
    # leaves it out, or never came.
    turn.response_metadata = response_fields(answered, turn)
    if usage is not None:
        turn.usage = usage_of(usage)
        turn.usage.server_tools = billed_uses(turn.output)


# Fields of a response object read into the turn's own fields, or echoing the request's sections.
# (`object` only names the type: "response".)
RESPONSE_FIELDS = {"id", "object", "output", "usage", "status", "incomplete_details", "error", "instructions", "tools"}


def read_final(response: dict, turn: Turn, assembled: list[Item]) -> None:
    """The final response object: its output is the whole answer when it lists one, else what the stream built;
    its other fields are kept, but those that only echo the request (the same value as sent)."""
    turn.response_id = conversation.text_or_none(response.get("id")) or turn.response_id
    turn.model = turn.model or conversation.text_or_none(response.get("model"))
    turn.response_metadata = response_fields(response, turn)
    output = response.get("output")
    turn.output = (
        [read_item(item, turn, "output") for item in output] if isinstance(output, list) and output else assembled
    )
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    turn.stop_reason = conversation.text_or_none(reason or response.get("status"))
    if response.get("error"):
        turn.errors.append(response["error"])
    if isinstance(response.get("usage"), dict):
        turn.usage = usage_of(response["usage"])
        turn.usage.server_tools = billed_uses(turn.output)
    elif response.get("usage") is not None:  # a usage of another shape: kept, not taken for a count
        turn.unknown.append({"where": "response usage", "raw": response["usage"]})


def response_fields(response: dict, turn: Turn) -> dict:
    """A response object's fields that have no place in the turn, but those that only echo the request."""
    sent = {"model": turn.model, "previous_response_id": turn.previous_response_id, **turn.config}
    return {
        key: value
        for key, value in response.items()
        if key not in RESPONSE_FIELDS and not (key in sent and sent[key] == value)
    }


def usage_of(usage: dict) -> Usage:
    """OpenAI's input count includes the cached tokens, and its output count the reasoning tokens."""
    return conversation.read_usage(
        usage,
        input=("input_tokens",),
        output=("output_tokens",),
        cache_read=("input_tokens_details.cached_tokens",),
        reasoning=("output_tokens_details.reasoning_tokens",),
    )


def error_body(message: str) -> dict:
    """The body this API answers a request it refuses with (a 400): what the agent shows as its API's error."""
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def error_event(message: str) -> dict:
    """The error event this API sends on its WebSocket for a turn it refuses."""
    return {"type": "error", "status": 400, "error": error_body(message)["error"]}
