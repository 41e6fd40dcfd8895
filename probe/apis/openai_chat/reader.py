"""Reads OpenAI Chat Completions requests and responses (streamed chunks or one JSON) into the conversation model."""

import json
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

API = "openai.chat_completions"
PROVIDER = None  # many vendors and gateways speak this API: the model name says more than the API does
OPERATION = "chat"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"messages", "tools", "functions", "model"}
SYSTEM_ROLES = {"system", "developer"}
KNOWN_ROLES = SYSTEM_ROLES | {"user", "assistant", "tool", "function"}
# Chunk and completion fields read into the turn; any other is kept in the output item's metadata, the model
# too: the answer names the model that served it (a dated snapshot of the alias the request named, say).
ANSWER_FIELDS = {"id", "object", "choices", "usage"}
# Streamed text fields, joined from their pieces; `reasoning` is what some servers name reasoning_content.
DELTA_TEXTS = {"reasoning_content": "reasoning", "reasoning": "reasoning", "content": "text", "refusal": "text"}
DONE = "[DONE]"


# Recognition: what marks an exchange as this API's (probe.apis.recognise) --------------------

PATH = re.compile(r"(?:^|/)chat/completions$")  # {base}/chat/completions, whatever the gateway's base
ANSWER_OBJECTS = {"chat.completion", "chat.completion.chunk"}


def recognise(evidence) -> int:
    """3: the path is this API's and the request fits it; 2: an answer only this API sends; 1: a request with
    messages (the shape many APIs share, so any surer mark of another API wins)."""
    request = evidence.request or {}
    if PATH.search(evidence.path) and (not request or "messages" in request):
        return 3
    if any(answer.get("object") in ANSWER_OBJECTS for answer in evidence.answers):
        return 2
    return 1 if "messages" in request else 0


# Requests ----------------------------------------------------------------------------------------


def read_request(body: Any, turn: Turn) -> None:
    if not read_model_and_config(body, turn, SECTION_FIELDS):
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
        kind = None if legacy else text_or_none(tool.get("type"))
        inner = tool if legacy else tool.get(kind or "function")
        if not isinstance(inner, dict):
            found.append(Tool(name="?", type=kind, sent=tool, metadata={"raw": tool}))
            continue
        outer = {} if legacy else {key: value for key, value in tool.items() if key not in ("type", kind)}
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
    role = text_or_none(message.get("role"))
    if role not in KNOWN_ROLES:
        turn.unrecognised.append(f"message role {role}")
    used = {"role", "content"}
    parts = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:  # some vendors want the reasoning sent back
        parts.append(Part("reasoning", "reasoning_content", text=reasoning))
        used.add("reasoning_content")
    if role in ("tool", "function"):
        call_id = text_or_none(message.get("tool_call_id"))
        parts += [result_of(part, call_id) for part in read_content(message.get("content"), turn)]
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
        elif kind in ("input_audio", "file"):
            parts.append(Part("other", kind, raw=rest()))
        else:
            turn.unrecognised.append(f"content part {kind or type(part).__name__}")
            parts.append(Part("other", kind or type(part).__name__, raw=part))
    return parts


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
        name=text_or_none(inner.get("name")),
        call_id=text_or_none(call.get("id")),
        arguments=parsed(inner.get(field)),
        raw=extra or None,
    )


def read_function_call(call: dict) -> Part:
    """The legacy `function_call`: a call without an id, answered by a `function` message naming it."""
    extra = {key: value for key, value in call.items() if key not in ("name", "arguments")}
    name, arguments = text_or_none(call.get("name")), parsed(call.get("arguments"))
    return Part("tool_call", "function_call", name=name, arguments=arguments, raw=extra or None)


def parsed(arguments: Any) -> Any:
    """Tool arguments parsed when they are a JSON string (as the API sends them), else as sent."""
    if isinstance(arguments, str):
        try:
            return fastjson.loads(arguments)
        except ValueError:
            return arguments
    return arguments


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


# Responses ---------------------------------------------------------------------------------------


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
    turn.response_id = text_or_none(answer.get("id")) or turn.response_id
    turn.model = turn.model or text_or_none(answer.get("model"))
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
        turn.events[kind] = turn.events.get(kind, 0) + 1
        if kind == DONE:
            continue
        if kind == "error" or (type(data) is dict and data.get("error") is not None):
            turn.errors.append(data.get("error", data))  # some servers stream an error as a chunk of its own
            if not isinstance(data.get("choices"), list):
                continue
        elif kind != "chat.completion.chunk" and not (type(data) is dict and "choices" in data):
            if turn.events[kind] == 1:  # one example of each kind: its payload says what the kind carries
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


class Choice:
    """One choice as its deltas build it: texts joined from pieces, tool calls by their `index`."""

    def __init__(self, index: Any = 0) -> None:
        self.role: str | None = None
        self.texts: dict[str, list[str]] = {}  # reasoning_content, content, refusal…: pieces in order
        self.calls: dict[Any, dict] = {}  # index -> {id, type, name, arguments pieces, other fields}
        self.function_call: dict | None = None  # the legacy single call
        self.other: dict = {}  # fields a delta carries that this reader does not know, joined or listed
        self.fields: dict = {"index": index}  # the choice's own fields: index, finish_reason, logprobs…
        self.finished = False

    def add(self, choice: dict, turn: Turn) -> None:
        for key, value in choice.items():
            if key == "logprobs" and value is not None:
                self.fields.setdefault("logprobs", []).append(value)
            elif key not in ("index", "delta", "logprobs") and (value is not None or key not in self.fields):
                self.fields[key] = value
        self.finished = self.finished or choice.get("finish_reason") is not None
        delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
        for key, value in delta.items():
            if value is None:
                continue  # servers send `content: null` beside a tool call delta: nothing arrived
            if key == "role":
                self.role = str(value)
            elif key in DELTA_TEXTS and isinstance(value, str):
                self.texts.setdefault(key, []).append(value)
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    self.call(call, turn)
            elif key == "function_call" and isinstance(value, dict):
                self.function_call = self.function_call or {"arguments": []}
                merge_call(self.function_call, value, "arguments")
            else:
                if key not in self.other:
                    turn.unrecognised.append(f"delta field {key}")
                joined = self.other.setdefault(key, "" if isinstance(value, str) else [])
                self.other[key] = joined + value if isinstance(joined, str) else [*joined, value]

    def call(self, call: Any, turn: Turn) -> None:
        if not isinstance(call, dict):
            turn.unrecognised.append(f"tool call delta that is {type(call).__name__}")
            return
        # A delta names its call by `index`; a server that sends no index sends each call whole, by id.
        key = call.get("index", call.get("id", len(self.calls)))
        key = key if isinstance(key, (int, str)) and not isinstance(key, bool) else str(key)
        kind = str(call.get("type") or self.calls.get(key, {}).get("type") or "function")
        built = self.calls.setdefault(key, {"type": kind, "pieces": []})
        if call.get("id") not in (None, ""):  # some servers send `"id": ""` with every later fragment
            built["id"] = call["id"]
        built.update({name: value for name, value in call.items() if name not in ("index", "id", "type", kind)})
        if isinstance(call.get(kind), dict):
            merge_call(built, call[kind], "input" if kind == "custom" else "arguments", pieces="pieces")

    def item(self, answer: dict, ended: bool = False) -> Item:
        """The choice as one message; `answer` holds the fields its chunks carried beside the choices, and
        `ended` says the stream reached its end, so that every part of the choice is whole."""
        complete = self.finished or ended
        parts = []
        for key, pieces in self.texts.items():
            part_type = "text" if key == "content" else key
            parts.append(Part(DELTA_TEXTS[key], part_type, text="".join(pieces), complete=complete))
        parts.sort(key=lambda part: part.kind != "reasoning")  # reasoning first, as it came
        for built in self.calls.values():
            kind = built["type"]
            rest = {key: value for key, value in built.items() if key not in ("type", "id", "name", "pieces")}
            parts.append(
                Part(
                    "tool_call",
                    kind,
                    name=text_or_none(built.get("name")),
                    call_id=text_or_none(built.get("id")),
                    arguments=parsed("".join(built["pieces"])),
                    raw=rest or None,
                    complete=complete,
                )
            )
        if self.function_call is not None:
            call = self.function_call
            part = read_function_call({"name": call.get("name"), "arguments": "".join(call["arguments"])})
            part.complete = complete
            parts.append(part)
        return Item(
            type="message", role=self.role or "assistant", parts=parts, metadata=self.fields | answer | self.other
        )


def merge_call(built: dict, piece: dict, field: str, pieces: str = "arguments") -> None:
    """Fold one delta of a call into what arrived before: its input text is joined; its name, which some servers
    repeat in every delta, is kept once."""
    for key, value in piece.items():
        if key == field:
            built.setdefault(pieces, []).append(value if isinstance(value, str) else json.dumps(value))
        elif key == "name":
            if value and not built.get("name"):
                built["name"] = value
        elif value is not None:
            built[key] = value


def usage_of(usage: dict) -> Usage:
    """The prompt count includes the cached tokens, and the completion count the reasoning tokens."""
    prompt = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    completion = (
        usage.get("completion_tokens_details") if isinstance(usage.get("completion_tokens_details"), dict) else {}
    )
    return Usage(
        raw=usage,
        input=integer(usage.get("prompt_tokens")),
        output=integer(usage.get("completion_tokens")),
        cache_read=integer(prompt.get("cached_tokens")),
        reasoning=integer(completion.get("reasoning_tokens")),
    )
