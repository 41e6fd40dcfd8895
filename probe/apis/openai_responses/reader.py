"""Reads OpenAI Responses API requests and responses (HTTP+SSE and WebSocket) into the conversation model."""

import re
from typing import Any

from probe.common import fastjson
from probe.read.conversation import (
    Item,
    Part,
    TextBlock,
    Tool,
    Turn,
    Usage,
    integer,
    read_model_and_config,
    text_or_none,
)
from probe.read.history_reads import read_history
from probe.read.sse import Event

API = "openai.responses"
PROVIDER = "openai"
OPERATION = "chat"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"input", "instructions", "tools", "model", "previous_response_id"}
TEXT_PARTS = {"input_text", "output_text", "text", "summary_text", "reasoning_text"}
TOOL_CALLS = {"function_call": "arguments", "custom_tool_call": "input"}
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
    "error",
    "[DONE]",
}
SYSTEM_ROLES = {"system", "developer"}


# Recognition: what marks an exchange as this API's (probe.apis.recognise) --------------------

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


# Requests ----------------------------------------------------------------------------------------


def read_request(body: Any, turn: Turn) -> None:
    if not read_model_and_config(body, turn, SECTION_FIELDS):
        return
    turn.previous_response_id = text_or_none(body.get("previous_response_id"))
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
        if item.type == "additional_tools" and isinstance(raw, dict):
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
                    type=text_or_none(tool.get("type")),
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
    item = Item(type=kind, role=text_or_none(raw.get("role")), id=text_or_none(raw.get("id")))
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
        name = text_or_none(raw.get("name"))
        if raw.get("namespace") and name is not None:
            name = f"{raw['namespace']}.{name}"
        item.parts = [
            Part(
                "tool_call", kind, name=name, call_id=text_or_none(raw.get("call_id")), arguments=parsed(raw.get(field))
            )
        ]
        used |= {"name", "call_id", field}
    elif kind in TOOL_RESULTS:
        output = raw.get("output")
        text = output if isinstance(output, str) else None
        item.parts = [
            Part(
                "tool_result",
                kind,
                text=text,
                call_id=text_or_none(raw.get("call_id")),
                raw=None if isinstance(output, str) else output,
            )
        ]
        used |= {"call_id", "output"}
    elif kind == "additional_tools":
        tools = raw.get("tools")
        # The tools themselves are read into Turn.tools: here, how many (their namespaces are not tools).
        item.metadata["declares_tools"] = sum(tool.type != "namespace" for tool in read_tools(tools))
        used.add("tools")
    elif kind not in ("configuration_update",):
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


def parsed(arguments: Any) -> Any:
    """Tool arguments parsed when they are a JSON string (as the API sends them), else as sent."""
    if isinstance(arguments, str):
        try:
            return fastjson.loads(arguments)
        except ValueError:
            return arguments
    return arguments


# Responses ---------------------------------------------------------------------------------------


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
        turn.events[kind] = turn.events.get(kind, 0) + 1
        if kind not in KNOWN_EVENTS:
            if turn.events[kind] == 1:  # one example of each kind: its payload is what a reader needs to see
                turn.unrecognised.append(f"event {kind}")
                turn.unknown.append({"where": f"event {kind}", "raw": event.data})
            continue
        response = data.get("response") if type(data.get("response")) is dict else None
        if response is not None:
            answered.update(response)
            turn.response_id = text_or_none(response.get("id")) or turn.response_id
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


# Each streamed event, by the kind of item it builds: an event that names no item (no item_id, no
# output_index, as older servers and some gateways send them) continues the item built last when it is of
# the same kind and not yet done, else starts the next one.
STREAMED = {
    "response.output_item.added": None,  # the kind comes from the item
    "response.output_item.done": None,
    "response.content_part.added": None,  # the kind comes from the part
    "response.content_part.done": None,
    "response.output_text.delta": "message",
    "response.output_text.done": "message",
    "response.output_text.annotation.added": "message",
    "response.refusal.delta": "message",
    "response.refusal.done": "message",
    "response.reasoning_summary_part.added": "reasoning",
    "response.reasoning_summary_part.done": "reasoning",
    "response.reasoning_summary_text.delta": "reasoning",
    "response.reasoning_summary_text.done": "reasoning",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_text.done": "reasoning",
    "response.function_call_arguments.delta": "call",
    "response.function_call_arguments.done": "call",
    "response.custom_tool_call_input.delta": "call",
    "response.custom_tool_call_input.done": "call",
}
REASONING_PARTS = {"summary_text", "reasoning_text"}
# A part's text, streamed: which list of the item the part is in, the index naming it, and the part's type.
TEXT_DELTAS = {
    "response.output_text.delta": ("content", "content_index", "output_text"),
    "response.refusal.delta": ("content", "content_index", "refusal"),
    "response.reasoning_summary_text.delta": ("summary", "summary_index", "summary_text"),
    "response.reasoning_text.delta": ("content", "content_index", "reasoning_text"),
}
# A part's end, with the field holding its whole text.
TEXT_DONES = {
    "response.output_text.done": ("content", "content_index", "text", "output_text"),
    "response.refusal.done": ("content", "content_index", "refusal", "refusal"),
    "response.reasoning_summary_text.done": ("summary", "summary_index", "text", "summary_text"),
    "response.reasoning_text.done": ("content", "content_index", "text", "reasoning_text"),
}


class Piece:
    """One content or summary part as the stream builds it: its type, its deltas, and the whole text a .done
    event gave (which wins over the deltas)."""

    __slots__ = ("annotations", "done", "pieces", "text", "type")

    def __init__(self, kind: str) -> None:
        self.type, self.pieces, self.text, self.done, self.annotations = kind, [], None, False, []

    def value(self) -> str:
        return self.text if self.text is not None else "".join(self.pieces)


class Stream:
    """Builds output items from whichever way the stream delivers them: whole items (`output_item.done`), `*.done`
    events, or deltas alone, with or without the item ids and output indices that say which item each is for."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.kinds: dict[str, str] = {}  # key -> the kind of item (message, reasoning, call, other)
        self.by_index: dict[int, str] = {}  # output_index -> the item id an event gave with it
        self.last: str | None = None  # the item the latest event was for
        self.whole: dict[str, dict] = {}  # output_item.done
        self.started: dict[str, dict] = {}  # output_item.added
        self.parts: dict[str, dict[tuple[str, int], Piece]] = {}  # key -> (content or summary, index) -> piece
        self.arguments: dict[str, list[str]] = {}
        self.calls_done: dict[str, dict] = {}  # function_call_arguments.done, with name and call_id when sent
        self.ended: set[str] = set()  # items a .done event closed

    def key(self, data: dict, kind: str) -> str:
        item = data.get("item") if type(data.get("item")) is dict else None
        named = data.get("item_id") or (item.get("id") if item is not None else None)
        index = data.get("output_index")
        index = index if type(index) is int else None
        if named is not None:
            key = str(named)
            if index is not None:
                placeholder = self.by_index.setdefault(index, key)
                if placeholder != key:  # events named this item by its index only, until now
                    self.merge(key, placeholder)
                    self.by_index[index] = key
        elif index is not None:
            key = self.by_index.setdefault(index, f"output[{index}]")
        else:
            key = self.unnamed(data, kind)
        if key not in self.kinds:
            self.order.append(key)
            self.kinds[key] = kind
        self.last = key
        return key

    def merge(self, key: str, placeholder: str) -> None:
        """What was built under an item's index, before an event gave its id, is the item's: one item, not two."""
        if placeholder not in self.kinds:
            return
        if key in self.kinds:  # both exist: the one met first keeps its place
            self.order.remove(key)
        self.order[self.order.index(placeholder)] = key
        self.kinds[key] = self.kinds.pop(placeholder)
        if placeholder in self.parts:  # pieces of either name: those under the id win where both have one
            self.parts[key] = self.parts.pop(placeholder) | self.parts.get(key, {})
        if placeholder in self.arguments:  # the earlier pieces first
            self.arguments[key] = self.arguments.pop(placeholder) + self.arguments.get(key, [])
        for table in (self.whole, self.started, self.calls_done):
            if placeholder in table:
                table.setdefault(key, table.pop(placeholder))
        if placeholder in self.ended:
            self.ended.discard(placeholder)
            self.ended.add(key)
        if self.last == placeholder:
            self.last = key

    def unnamed(self, data: dict, kind: str) -> str:
        """The item an event naming none is for: the latest item when it is of the same kind and either not done
        or given a further part by this event, else a new one."""
        last = self.last
        further = position(data, "content_index") > 0 or position(data, "summary_index") > 0
        if last is not None and self.kinds[last] == kind and (last not in self.ended or further):
            return last
        return f"output[{len(self.order)}]"

    def piece(self, key: str, field: str, index: int, kind: str) -> Piece:
        pieces = self.parts.setdefault(key, {})
        found = pieces.get((field, index))
        if found is None:
            found = pieces[(field, index)] = Piece(kind)
        return found

    def add(self, kind: str, data: dict) -> None:
        family = STREAMED[kind]
        if family is None:
            self.add_whole(kind, data)
            return
        key = self.key(data, family)
        if kind in TEXT_DELTAS:
            field, index_name, part_type = TEXT_DELTAS[kind]
            self.piece(key, field, position(data, index_name), part_type).pieces.append(str(data.get("delta", "")))
        elif kind in ("response.function_call_arguments.delta", "response.custom_tool_call_input.delta"):
            self.arguments.setdefault(key, []).append(str(data.get("delta", "")))
        elif kind in ("response.function_call_arguments.done", "response.custom_tool_call_input.done"):
            self.calls_done[key] = data
            self.ended.add(key)
        elif kind == "response.output_text.annotation.added":
            annotation = data.get("annotation")
            self.piece(key, "content", position(data, "content_index"), "output_text").annotations.append(annotation)
        else:  # the .done of a text, a refusal or a summary, and a summary part's start or end
            self.add_done(key, kind, data)

    def add_done(self, key: str, kind: str, data: dict) -> None:
        if kind == "response.reasoning_summary_part.added":
            self.piece(key, "summary", position(data, "summary_index"), "summary_text")
            return
        if kind == "response.reasoning_summary_part.done":
            part = data.get("part") if type(data.get("part")) is dict else {}
            self.finish(key, "summary", position(data, "summary_index"), part.get("type") or "summary_text", part)
            return
        field, index_name, text_field, part_type = TEXT_DONES[kind]
        self.finish(key, field, position(data, index_name), part_type, {"text": data.get(text_field)})

    def finish(self, key: str, field: str, index: int, kind: str, part: dict) -> None:
        """A part's end: its whole text when the event gives one, and its annotations."""
        piece = self.piece(key, field, index, kind)
        text = part.get("text", part.get("refusal"))
        if isinstance(text, str):
            piece.text = text
        if isinstance(part.get("annotations"), list) and part["annotations"]:
            piece.annotations = list(part["annotations"])
        piece.done = True
        self.ended.add(key)

    def add_whole(self, kind: str, data: dict) -> None:
        """output_item.added / .done (an item whole, or its start) and content_part.added / .done."""
        if kind.startswith("response.output_item."):
            item = data.get("item")
            if type(item) is not dict:
                return
            key = self.key(data, item_kind(item))
            (self.whole if kind.endswith("done") else self.started)[key] = item
            if kind.endswith("done"):
                self.ended.add(key)
            return
        part = data.get("part") if type(data.get("part")) is dict else {}
        part_type = str(part.get("type") or "output_text")
        key = self.key(data, "reasoning" if part_type in REASONING_PARTS else "message")
        index = position(data, "content_index")
        if kind.endswith("added"):
            self.piece(key, "content", index, part_type)
        else:
            self.finish(key, "content", index, part_type, part)

    def items(self) -> list[dict]:
        return [self.whole.get(key) or self.build(key) for key in self.order]

    def finished(self, key: str) -> bool:
        """Whether the stream said this item ended: a whole item, its call's .done, or a .done for every part."""
        if key in self.whole or key in self.calls_done:
            return True
        pieces = self.parts.get(key)
        return bool(pieces) and all(piece.done for piece in pieces.values())

    def build(self, key: str) -> dict:
        item = dict(self.started.get(key) or {})
        pieces = self.parts.get(key, {})
        call = self.calls_done.get(key)
        if key in self.arguments or call is not None:
            done = call or {}
            kind = item.get("type") or ("custom_tool_call" if "input" in done else "function_call")
            field = TOOL_CALLS.get(kind, "arguments")
            item.setdefault("type", kind)
            for name in ("name", "call_id"):
                if done.get(name) is not None:
                    item[name] = done[name]
            item[field] = done.get(field, done.get("arguments", "".join(self.arguments.get(key, []))))
        elif self.kinds[key] == "reasoning" or item.get("type") == "reasoning":
            item.setdefault("type", "reasoning")
            for field in ("summary", "content"):
                shown = [part_of(piece) for (where, _), piece in sorted(pieces.items()) if where == field]
                if shown or field == "summary":
                    item[field] = shown or item.get(field) or []
        elif pieces or not item:
            item.setdefault("type", "message")
            item.setdefault("role", "assistant")
            item["content"] = [part_of(piece) for (where, _), piece in sorted(pieces.items()) if where == "content"]
        if not key.startswith("output["):
            item.setdefault("id", key)
        return item


def item_kind(item: dict) -> str:
    """The kind of item an output item is, as the stream's events for it say: message, reasoning, call, other."""
    kind = item.get("type")
    if kind in TOOL_CALLS:
        return "call"
    return kind if kind in ("message", "reasoning") else "other"


def part_of(piece: Piece) -> dict:
    """A part as the API writes it in a whole item: a refusal's text under `refusal`, any other under `text`."""
    part = {"type": piece.type, "refusal" if piece.type == "refusal" else "text": piece.value()}
    if piece.annotations:
        part["annotations"] = piece.annotations
    return part


def position(data: dict, name: str) -> int:
    """An index the stream gives (content_index, …), or 0 when it gives none or something else."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# Fields of a response object read into the turn's own fields, or echoing the request's sections.
# (`object` only names the type: "response".)
RESPONSE_FIELDS = {"id", "object", "output", "usage", "status", "incomplete_details", "error", "instructions", "tools"}


def read_final(response: dict, turn: Turn, assembled: list[Item]) -> None:
    """The final response object: its output is the whole answer when it lists one, else what the stream built;
    its other fields are kept, but those that only echo the request (the same value as sent)."""
    turn.response_id = text_or_none(response.get("id")) or turn.response_id
    turn.model = turn.model or text_or_none(response.get("model"))
    turn.response_metadata = response_fields(response, turn)
    output = response.get("output")
    turn.output = (
        [read_item(item, turn, "output") for item in output] if isinstance(output, list) and output else assembled
    )
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    turn.stop_reason = text_or_none(reason or response.get("status"))
    if response.get("error"):
        turn.errors.append(response["error"])
    if isinstance(response.get("usage"), dict):
        turn.usage = usage_of(response["usage"])
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
    input_details = usage.get("input_tokens_details") if isinstance(usage.get("input_tokens_details"), dict) else {}
    output_details = usage.get("output_tokens_details") if isinstance(usage.get("output_tokens_details"), dict) else {}
    return Usage(
        raw=usage,
        input=integer(usage.get("input_tokens")),
        output=integer(usage.get("output_tokens")),
        cache_read=integer(input_details.get("cached_tokens")),
        reasoning=integer(output_details.get("reasoning_tokens")),
    )
