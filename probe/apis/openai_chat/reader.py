"""Reads OpenAI Chat Completions requests and responses (streamed chunks or one JSON) into the conversation model."""

import re
from typing import Any

from probe.apis.openai_chat.choices import Choice, read_function_call, usage_of
from probe.common import fastjson
from probe.read import conversation
from probe.read.conversation import Item, Part, TextBlock, Tool, Turn
from probe.read.history_reads import read_history
from probe.read.sse import Event

API = "openai.chat_completions"
PROVIDER = None  # many vendors and gateways speak this API: the model name says more than the API does
OPERATION = "chat"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"messages", "tools", "functions", "model"}
SYSTEM_ROLES = {"system", "developer"}
KNOWN_ROLES = SYSTEM_ROLES | {"user", "assistant", "tool", "function"}
# Chunk and completion fields read into the turn; any other is kept in the output item's metadata, the model
# too: the answer names the model that served it (a dated snapshot of the alias the request named, say).
ANSWER_FIELDS = {"id", "object", "choices", "usage"}
DONE = "[DONE]"
PATH = re.compile(r"(?:^|/)chat/completions$")  # {base}/chat/completions, whatever the gateway's base
ANSWER_OBJECTS = {"chat.completion", "chat.completion.chunk"}
# Content parts kept as sent: OpenAI's audio and files, Mistral's documents and the references its answers cite.
OTHER_PARTS = {"input_audio", "file", "document_url", "reference"}


def recognise(evidence) -> int:
    """3: the path is this API's and the request fits it; 2: an answer only this API sends; 1: a request with
    messages (the shape many APIs share, so any surer mark of another API wins)."""
    request = evidence.request or {}
    if PATH.search(evidence.path) and (not request or "messages" in request):
        return 3
    if any(answer.get("object") in ANSWER_OBJECTS for answer in evidence.answers):
        return 2
    return 1 if "messages" in request else 0


def read_request(body: Any, turn: Turn) -> None:
    if not conversation.read_model_and_config(body, turn, SECTION_FIELDS):
        return
    for field in SECTION_FIELDS - {"model"}:  # a section of another shape has no place in the model: kept as sent
        if body.get(field) is not None and not isinstance(body[field], list):
            turn.unrecognised.append(f"{field} that is {type(body[field]).__name__}")
            turn.unknown.append({"where": f"request {field}", "raw": body[field]})
    turn.tools = read_tools(body.get("tools")) + read_tools(body.get("functions"), legacy=True)
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    for index, item in enumerate(read_history(messages, turn, lambda raw: read_message(raw, turn)), start=1):
        turn.input.append(item)
        if item.role in SYSTEM_ROLES:
            turn.system += [
                TextBlock(part.text or "", role=item.role, type=part.type, id=f"messages[{index}]#{position}")
                for position, part in enumerate(item.parts)
                if part.kind == "text"
            ]


def read_tools(tools: Any, legacy: bool = False) -> list[Tool]:
    """Declared tools: `{type: function, function: {...}}` entries, or the legacy `functions` list (no type)."""
    found = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            found.append(Tool(name="?", sent=tool, metadata={"raw": tool}))
            continue
        kind = None if legacy else conversation.text_or_none(tool.get("type"))
        # A tool's fields are under its type's name; Moonshot's `builtin_function` ($web_search) keeps them under
        # `function`.
        inner = tool if legacy else tool.get(kind or "function", tool.get("function"))
        if not isinstance(inner, dict):
            found.append(Tool(name="?", type=kind, sent=tool, metadata={"raw": tool}))
            continue
        outer = {} if legacy else {key: value for key, value in tool.items() if key not in ("type", kind, "function")}
        known = {"name", "description", "parameters"}
        found.append(
            Tool(
                name=str(inner.get("name") or kind or "?"),
                type=kind,
                description=str(inner.get("description") or ""),
                schema=inner.get("parameters", inner.get("format")),
                sent=tool,
                # `strict` and any field a vendor adds, inside the function object or beside it.
                metadata=outer | {key: value for key, value in inner.items() if key not in known | {"format"}},
            )
        )
    return found


def read_message(message: Any, turn: Turn) -> Item:
    """One message: its content as parts, then an assistant's reasoning and tool calls; other fields as sent."""
    if not isinstance(message, dict):
        turn.unrecognised.append(f"message that is {type(message).__name__}")
        return Item(type="(not an object)", parts=[Part("other", type(message).__name__, raw=message)], sent=message)
    role = conversation.text_or_none(message.get("role"))
    if role not in KNOWN_ROLES:
        turn.unrecognised.append(f"message role {role}")
    used = {"role", "content"}
    parts = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:  # some vendors want the reasoning sent back
        parts.append(Part("reasoning", "reasoning_content", text=reasoning))
        used.add("reasoning_content")
    if role in ("tool", "function"):
        call_id = conversation.text_or_none(message.get("tool_call_id"))
        # A legacy `function` message names the call it answers, which had no id: its first part is the result.
        name = conversation.text_or_none(message.get("name")) if role == "function" else None
        results = [result_of(part, call_id) for part in read_content(message.get("content"), turn)]
        if name is not None and results and results[0].kind == "tool_result":
            results[0].name = name
            used.add("name")
        parts += results
        used.add("tool_call_id")
    else:
        parts += read_content(message.get("content"), turn)
    if isinstance(message.get("refusal"), str):
        parts.append(Part("text", "refusal", text=message["refusal"]))
        used.add("refusal")
    if isinstance(message.get("tool_calls"), list):
        parts += [read_tool_call(call, turn) for call in message["tool_calls"]]
        used.add("tool_calls")
    if isinstance(message.get("function_call"), dict):
        parts.append(read_function_call(message["function_call"]))
        used.add("function_call")
    return Item(
        type="message",
        role=role,
        parts=parts,
        metadata={key: value for key, value in message.items() if key not in used},
        sent=message,
    )


def result_of(part: Part, call_id: str | None) -> Part:
    """A tool message's content part as a tool result; an image or another part a result holds stays as it is."""
    if part.kind != "text":
        return part
    return Part("tool_result", part.type, text=part.text, call_id=call_id, raw=part.raw)


def read_content(content: Any, turn: Turn) -> list[Part]:
    """Content as parts: a string is one text part; each array part keeps its boundary, unknown ones raw."""
    if isinstance(content, str):
        return [Part("text", "text", text=content)]
    if content is None:
        return []
    if not isinstance(content, list):
        turn.unrecognised.append(f"content that is {type(content).__name__}")
        return [Part("other", type(content).__name__, raw=content)]
    parts = []
    for part in content:
        kind = str(part.get("type", "")) if isinstance(part, dict) else ""

        def rest(*used: str, part=part) -> dict | None:
            left = {key: value for key, value in part.items() if key not in ("type", *used)}
            return left or None

        if kind == "text" and isinstance(part.get("text"), str):
            parts.append(Part("text", kind, text=part["text"], raw=rest("text")))
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            parts.append(Part("text", kind, text=part["refusal"], raw=rest("refusal")))
        elif kind == "image_url":
            parts.append(Part("image", kind, raw=rest()))
        elif kind == "thinking" and isinstance(part.get("thinking"), list):
            parts.append(thinking_part(part["thinking"], rest("thinking")))
        elif kind in OTHER_PARTS:
            parts.append(Part("other", kind, raw=rest()))
        else:
            turn.unrecognised.append(f"content part {kind or type(part).__name__}")
            parts.append(Part("other", kind or type(part).__name__, raw=part))
    return parts


def thinking_part(chunks: list, rest: dict | None) -> Part:
    """Mistral's reasoning: a `thinking` part holding text chunks (sent back in the history as it came)."""
    text = "".join(str(chunk.get("text", "")) for chunk in chunks if isinstance(chunk, dict))
    others = [chunk for chunk in chunks if not (isinstance(chunk, dict) and chunk.get("type") == "text")]
    extra = (rest or {}) | ({"thinking": others} if others else {})  # chunks not of text kept as they came
    return Part("reasoning", "thinking", text=text, raw=extra or None)


def read_tool_call(call: Any, turn: Turn) -> Part:
    """An assistant's tool call: `function` (arguments as a JSON string) or `custom` (free-form input)."""
    if not isinstance(call, dict):
        turn.unrecognised.append(f"tool call that is {type(call).__name__}")
        return Part("other", type(call).__name__, raw=call)
    kind = str(call.get("type") or "function")
    inner = call.get(kind) if isinstance(call.get(kind), dict) else {}
    field = "input" if kind == "custom" else "arguments"
    extra = {key: value for key, value in call.items() if key not in ("id", "type", kind)}
    extra |= {key: value for key, value in inner.items() if key not in ("name", field)}
    return Part(
        "tool_call",
        kind,
        name=conversation.text_or_none(inner.get("name")),
        call_id=conversation.text_or_none(call.get("id")),
        arguments=fastjson.parsed(inner.get(field)),
        raw=extra or None,
    )


def history_key(item: Item) -> Any:
    """An item as compared for carried-over history: what it says, not how. An answer comes back as a message
    whose content may be a string or parts, empty or null, with or without the reasoning the stream carried,
    and with the choice's fields (finish_reason, index) gone."""
    return (
        item.type,
        item.role,
        [
            (part.kind, part.text, part.name, part.call_id, part.arguments)
            for part in item.parts
            if part.kind != "reasoning" and not (part.kind == "text" and not part.text)
        ],
    )


def read_response(events: list[Event] | None, body: Any, turn: Turn) -> None:
    if events is not None:
        read_stream(events, turn)
    elif isinstance(body, dict) and isinstance(body.get("choices"), list):
        read_answer_fields(body, turn)
        for choice in body["choices"]:
            turn.output.append(read_choice(choice, body, turn))
        stop_reasons(turn)
    elif isinstance(body, dict) and "error" in body:
        turn.errors.append(body["error"])
    elif isinstance(body, dict) and body.get("object") == "error":  # vLLM's: the error's fields at the top
        turn.errors.append(body)
    elif body is not None:
        turn.unknown.append({"where": "response body", "raw": body})


def read_answer_fields(answer: dict, turn: Turn) -> None:
    """The id, model and usage a completion or a chunk carries (later chunks win: usage comes last)."""
    turn.response_id = conversation.text_or_none(answer.get("id")) or turn.response_id
    turn.model = turn.model or conversation.text_or_none(answer.get("model"))
    if isinstance(answer.get("usage"), dict):
        turn.usage = usage_of(answer["usage"])


def read_choice(choice: Any, answer: dict, turn: Turn) -> Item:
    """A non-streamed choice: its message, with the choice's and the completion's other fields as metadata."""
    if not isinstance(choice, dict):
        turn.unrecognised.append(f"choice that is {type(choice).__name__}")
        return Item(type="(not an object)", parts=[Part("other", type(choice).__name__, raw=choice)])
    item = read_message(choice.get("message") if isinstance(choice.get("message"), dict) else {}, turn)
    item.role = item.role or "assistant"
    item.metadata = choice_metadata(choice, answer) | item.metadata
    return item


def choice_metadata(choice: dict, answer: dict) -> dict:
    """What a choice says besides its message: its index, finish_reason and more, then the answer's own fields
    (created, system_fingerprint, service_tier, any a vendor adds)."""
    own = {key: value for key, value in choice.items() if key not in ("delta", "message")}
    return own | {key: value for key, value in answer.items() if key not in ANSWER_FIELDS}


def stop_reasons(turn: Turn) -> None:
    """The turn's stop reason: the finish_reason of its choice, or of each, joined, when there are several."""
    reasons = [item.metadata.get("finish_reason") for item in turn.output]
    reasons = [str(reason) for reason in reasons if reason is not None]
    turn.stop_reason = ", ".join(dict.fromkeys(reasons)) if reasons else None


def read_stream(events: list[Event], turn: Turn) -> None:
    choices: dict[Any, Choice] = {}
    extra: dict = {}
    for event in events:
        data = event.data
        if data == DONE:
            kind = DONE
        elif type(data) is dict:
            kind = data.get("object") or ("error" if "error" in data else "(untyped)")
            kind = kind if type(kind) is str else str(kind)
        else:
            kind = "(not JSON)"
        seen = conversation.count_event(turn, kind)
        if kind == DONE:
            continue
        if kind == "error" or (type(data) is dict and data.get("error") is not None):
            turn.errors.append(data.get("error", data))  # some servers stream an error as a chunk of its own
            if not isinstance(data.get("choices"), list):
                continue
        elif kind != "chat.completion.chunk" and not (type(data) is dict and "choices" in data):
            if seen == 1:  # one example of each kind: its payload says what the kind carries
                turn.unrecognised.append(f"event {kind}")
                turn.unknown.append({"where": f"event {kind}", "raw": data})
            continue
        read_answer_fields(data, turn)
        # The chunk's own fields (created, system_fingerprint…): the last value each took, a null not overriding.
        extra.update(
            {
                key: value
                for key, value in data.items()
                if key not in ANSWER_FIELDS and (value is not None or key not in extra)
            }
        )
        for choice in data.get("choices") if isinstance(data.get("choices"), list) else []:
            if not isinstance(choice, dict):
                turn.unrecognised.append(f"choice that is {type(choice).__name__}")
                continue
            index = choice.get("index", 0)
            index = index if isinstance(index, (int, str)) and not isinstance(index, bool) else str(index)
            choices.setdefault(index, Choice(index)).add(choice, turn)
    # Choices in the order of their index (a server may start any of them first), then any without a number.
    ordered = sorted(
        choices.items(), key=lambda pair: (type(pair[0]) is not int, pair[0] if type(pair[0]) is int else 0)
    )
    # `data: [DONE]` ends the stream: a choice that got no finish_reason (some servers send none) still ended.
    ended = DONE in turn.events
    turn.output = [choice.item(extra, ended) for _, choice in ordered]
    stop_reasons(turn)


def error_body(message: str) -> dict:
    """The body this API answers a request it refuses with (a 400): what the agent shows as its API's error."""
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
