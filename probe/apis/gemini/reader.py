"""Reads Gemini API (generativelanguage v1beta) and Code Assist requests and responses into the model."""

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from probe.apis.gemini import code_assist
from probe.apis.gemini.grounding import grounding_uses
from probe.apis.reader_shape import tool_call
from probe.read import conversation, history_reads
from probe.read.conversation import Item, Part, TextBlock, Tool, Turn, Usage
from probe.read.history_reads import read_history
from probe.read.sse import Event

API = "gemini.generate_content"
PROVIDER = "gcp.gemini"  # as OpenTelemetry names it (gen_ai.provider.name)
OPERATION = "generate_content"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"contents", "systemInstruction", "system_instruction", "tools", "model"}
# `/v1beta/models/<model>:<method>`: the model is named by the path, never by the body.
MODEL_IN_PATH = re.compile(r"/(?:tunedModels|models)/([^/:?#]+):([A-Za-z]+)")
# A part is one of these, beside the fields any part may carry (PART_FIELDS).
ATTACHMENTS = {"inlineData", "inline_data", "fileData", "file_data"}
OTHER_KNOWN = {"executableCode", "executable_code", "codeExecutionResult", "code_execution_result"}
PART_FIELDS = {"thought", "thoughtSignature", "thought_signature", "videoMetadata", "partMetadata", "mediaResolution"}
# A candidate's fields besides its content; kept on the answer's item, as sent.
RESPONSE_FIELDS = {"candidates", "usageMetadata", "responseId", "modelVersion"}


def get(mapping: dict, camel: str) -> Any:
    """A field by its JSON name, or by the snake_case name the REST API also accepts."""
    if camel in mapping:
        return mapping[camel]
    return mapping.get(re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), camel))


def model_from_path(path: str) -> str | None:
    found = MODEL_IN_PATH.search(path or "")
    return unquote(found.group(1)) if found else None


# Recognition: what marks an exchange as this API's (probe.apis.recognise) --------------------

PATH = re.compile(r":(?:stream)?generate_?content$|:count_?tokens$", re.IGNORECASE)  # models/<model>:<method>
ANSWER_FIELDS = {"candidates", "usageMetadata", "promptFeedback"}
CACHE_PATH = re.compile(r"/cachedContents(?:/[^/:]+)?$")  # an explicit cache made or changed: no model call
ONE_ANSWER = re.compile(r":generate_?content$", re.IGNORECASE)  # the method that answers with one JSON body


def stream_asked(turn: Turn) -> bool | None:
    """The method says it: `:generateContent` wants one JSON body. `:streamGenerateContent` is answered as SSE
    with `alt=sse` and as one JSON array of chunks without, both streams: that case is left unsaid."""
    return False if ONE_ANSWER.search(turn.path.split("?", 1)[0]) else None


def recognise(evidence) -> int:
    """3: the path is this API's (or Code Assist's) and the request fits; 2: an answer or request only it sends."""
    request = evidence.request or {}
    if code_assist.method_of(evidence.path):
        return 3
    if PATH.search(evidence.path) and (not request or "contents" in request or "generateContentRequest" in request):
        return 3
    shaped = "contents" in request or any(ANSWER_FIELDS & answer.keys() for answer in evidence.answers)
    return 2 if shaped and not CACHE_PATH.search(evidence.path) else 0


# Requests ----------------------------------------------------------------------------------------


def read_request(body: Any, turn: Turn) -> None:
    if code_assist.method_of(turn.path):
        code_assist.read_request(body, turn, read_gemini_request)
    else:
        read_gemini_request(body, turn)


def read_gemini_request(body: Any, turn: Turn) -> None:
    if isinstance(body, dict) and isinstance(body.get("generateContentRequest"), dict):
        body = body["generateContentRequest"]  # countTokens may wrap a whole request
    if not conversation.read_model_and_config(body, turn, SECTION_FIELDS):
        return
    turn.model = turn.model or model_from_path(turn.path)
    turn.system = read_system(get(body, "systemInstruction"), turn)
    turn.tools = read_tools(body.get("tools"), turn)
    contents = body.get("contents")
    turn.input += read_history(
        contents if isinstance(contents, list) else [], turn, lambda raw: read_content(raw, turn, "contents")
    )


def read_system(instruction: Any, turn: Turn) -> list[TextBlock]:
    """The system instruction's text parts as blocks; a role it carries is kept beside each block."""
    if instruction is None:
        return []
    if isinstance(instruction, str):  # the SDKs' shorthand
        return [TextBlock(instruction, id="systemInstruction")]
    if not isinstance(instruction, dict):
        turn.unrecognised.append("systemInstruction that is not an object")
        turn.unknown.append({"where": "systemInstruction", "raw": instruction})
        return []
    extra = {key: value for key, value in instruction.items() if key != "parts"}
    blocks = []
    parts = instruction.get("parts")
    for index, part in enumerate(parts if isinstance(parts, list) else []):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            rest = {key: value for key, value in part.items() if key != "text"}
            blocks.append(TextBlock(part["text"], id=f"systemInstruction.parts[{index}]", metadata=extra | rest))
        else:
            turn.unrecognised.append("systemInstruction part that is not text")
            turn.unknown.append({"where": f"systemInstruction.parts[{index}]", "raw": part})
    return blocks


def read_tools(tools: Any, turn: Turn) -> list[Tool]:
    """Function declarations one by one; every other kind of tool (googleSearch, codeExecution…) by its name."""
    found = []
    for group in tools if isinstance(tools, list) else []:
        if not isinstance(group, dict):
            found.append(Tool(name="?", sent=group, metadata={"raw": group}))
            continue
        for kind, value in group.items():
            if kind in ("functionDeclarations", "function_declarations") and isinstance(value, list):
                found += [read_function(declaration) for declaration in value]
            else:
                settings = value if isinstance(value, dict) else {"value": value}
                found.append(Tool(name=kind, type=kind, sent={kind: value}, metadata=settings))
    return found


def read_function(declaration: Any) -> Tool:
    if not isinstance(declaration, dict):
        return Tool(name="?", sent=declaration, metadata={"raw": declaration})
    # `parametersJsonSchema` (JSON Schema) is what gemini-cli sends; `parameters` is the older OpenAPI subset.
    schema_field = next(
        (name for name in ("parameters", "parametersJsonSchema", "parameters_json_schema") if name in declaration),
        None,
    )
    return Tool(
        name=str(declaration.get("name", "?")),
        description=str(declaration.get("description") or ""),
        schema=declaration.get(schema_field) if schema_field else None,
        sent=declaration,
        metadata={key: value for key, value in declaration.items() if key not in ("name", "description", schema_field)},
    )


def read_content(content: Any, turn: Turn, where: str) -> Item:
    """One Content: a role and its parts; its other fields stay in `metadata`, as sent."""
    if not isinstance(content, dict):
        turn.unrecognised.append(f"{where} entry that is {type(content).__name__}")
        return Item(type="(not an object)", parts=[Part("other", type(content).__name__, raw=content)], sent=content)
    parts = content.get("parts")
    return Item(
        type="message",
        role=conversation.text_or_none(content.get("role")),
        parts=[read_part(part, turn) for part in (parts if isinstance(parts, list) else [])],
        metadata={key: value for key, value in content.items() if key not in ("role", "parts")},
        sent=content,
    )


def part_kind(part: dict) -> str:
    """The field that says what a part is (text, functionCall…): the first one that is not a shared field."""
    if "text" in part:
        return "text"
    return next((key for key in part if key not in PART_FIELDS), "(empty)")


def read_part(part: Any, turn: Turn) -> Part:
    """One part. A thought signature, video metadata and the like stay in `raw`; a thought is a reasoning part."""
    if not isinstance(part, dict):
        turn.unrecognised.append(f"part that is {type(part).__name__}")
        return Part("other", type(part).__name__, raw=part)
    kind = part_kind(part)
    value = part.get(kind)

    def rest(*used: str) -> dict | None:
        left = {key: item for key, item in part.items() if key not in (kind, *used)}
        return left or None

    if kind == "text":
        if part.get("thought") is True:
            return Part("reasoning", "thought", text=str(value), raw=rest("thought"))
        return Part("text", kind, text=str(value), raw=rest())
    if kind in ("functionCall", "function_call") and isinstance(value, dict):
        extra = {key: item for key, item in value.items() if key not in ("name", "id", "args")}
        return tool_call(kind, value, "args", (extra | (rest() or {})) or None)
    if kind in ("functionResponse", "function_response") and isinstance(value, dict):
        return read_function_response(kind, value, rest())
    if kind in ATTACHMENTS:
        # Shown as a placeholder with its size (see the renderer's `attachment`): its bytes never reach the report.
        return Part("image", kind, raw=part)
    if kind not in OTHER_KNOWN:
        turn.unrecognised.append(f"part {kind}")
    return Part("other", kind, raw=part)


def read_function_response(kind: str, value: dict, rest: dict | None) -> Part:
    """A tool result. Its `response` is an object: gemini-cli puts the tool's text in `output` (or `error`)."""
    response = value.get("response")
    extra = {key: item for key, item in value.items() if key not in ("name", "id", "response")} | (rest or {})
    text = None
    if isinstance(response, dict) and len(response) == 1 and isinstance(next(iter(response.values())), str):
        field, text = next(iter(response.items()))
        if field != "output":
            extra["response field"] = field  # e.g. `error`: which field held the text is part of the answer
    elif response is not None:
        extra["response"] = response
    return Part(
        "tool_result",
        kind,
        text=text,
        name=conversation.text_or_none(value.get("name")),
        call_id=conversation.text_or_none(value.get("id")),
        raw=extra or None,
    )


def history_key(item: Item) -> Any:
    """gemini-cli re-sends its model turns without their thought parts, adds or strips thought signatures on older
    turns, and joins text pieces: none of that makes an earlier turn new."""
    return history_reads.history_key(item, frozenset(SIGNATURES), frozenset({"reasoning"}))


SIGNATURES = ("thoughtSignature", "thought_signature")


# Responses ---------------------------------------------------------------------------------------


def read_response(events: list[Event] | None, body: Any, turn: Turn) -> None:
    if code_assist.method_of(turn.path):
        if code_assist.is_account_call(turn.path):
            return code_assist.read_account_answer(body, turn)
        events, body = code_assist.unwrap_response(events, body)
    if events is None and isinstance(body, list):
        # `:streamGenerateContent` without `alt=sse` streams one JSON array: its elements are the chunks.
        events = [Event(None, chunk) for chunk in body]
    if events is not None:
        read_chunks(chunks_of(events, turn), turn)
    elif isinstance(body, dict) and "error" in body:
        turn.errors.append(body["error"])
    elif isinstance(body, dict) and "totalTokens" in body:  # countTokens
        turn.usage = conversation.read_usage(body, input=("totalTokens",), cache_read=("cachedContentTokenCount",))
    elif isinstance(body, dict) and (set(body) & RESPONSE_FIELDS or "promptFeedback" in body):
        read_chunks([body], turn)
    elif body is not None:
        turn.unknown.append({"where": "response body", "raw": body})


def chunks_of(events, turn: Turn) -> Iterator[dict]:
    """The response chunks of a stream, one at a time (a stream of a million chunks is never held), each event
    counted; errors and what is not a chunk are noted on the turn."""
    for event in events:
        data, kind = event.data, chunk_kind(event)
        seen = conversation.count_event(turn, kind)
        if kind == "chunk":
            yield data
        elif kind == "error":
            turn.errors.append(data["error"])
        elif seen == 1:
            turn.unrecognised.append(f"event {kind}")
            turn.unknown.append({"where": f"event {kind}", "raw": data})


def chunk_kind(event: Event) -> str:
    """The stream names no events: each `data:` is a response chunk, or an error in the middle of a stream."""
    if isinstance(event.data, dict):
        return "error" if "error" in event.data else "chunk"
    return event.name or ("(not JSON)" if isinstance(event.data, str) else "(not an object)")


def read_chunks(chunks: Iterable[dict], turn: Turn) -> None:
    """Every chunk is a GenerateContentResponse holding the next pieces: join them into one answer per
    candidate, and keep the newest usage (each chunk's is a running total). What a chunk holds that is not
    understood is noted after what the stream's events were (they are counted as the chunks are read)."""
    candidates: dict[Any, Answer] = {}
    usage: dict = {}
    extra: dict = {}
    odd: list[dict] = []
    for chunk in chunks:
        if "error" in chunk:
            continue  # read as an error by the caller
        turn.response_id = conversation.text_or_none(chunk.get("responseId")) or turn.response_id
        turn.model = turn.model or conversation.text_or_none(chunk.get("modelVersion"))
        if isinstance(chunk.get("usageMetadata"), dict):
            usage.update(chunk["usageMetadata"])
        extra.update({key: value for key, value in chunk.items() if key not in RESPONSE_FIELDS - {"modelVersion"}})
        for position, candidate in enumerate(chunk.get("candidates") or []):
            if not isinstance(candidate, dict):
                odd.append({"where": "candidate", "raw": candidate})
                continue
            index = candidate.get("index", position)
            candidates.setdefault(index if isinstance(index, (int, str)) else position, Answer()).add(candidate, turn)
    turn.unknown += odd
    # Candidates in the order of their index (a chunk may hold a later one first), then any without a number.
    ordered = [answer for _, answer in sorted(candidates.items(), key=lambda pair: index_order(pair[0]))]
    turn.output += [answer.item(extra, turn) for answer in ordered]
    # The finish reason of each candidate, joined when they differ (as for several choices of other APIs).
    finishes = [str(answer.fields["finishReason"]) for answer in ordered if answer.fields.get("finishReason")]
    feedback = extra.get("promptFeedback") if isinstance(extra.get("promptFeedback"), dict) else {}
    blocked = conversation.text_or_none(feedback.get("blockReason"))
    turn.stop_reason = ", ".join(dict.fromkeys(finishes)) if finishes else blocked
    if feedback.get("blockReason") and not candidates:
        turn.errors.append({"promptFeedback": feedback})  # the prompt was refused: there is no answer to hold it
    if usage:
        turn.usage = usage_of(usage)
        turn.usage.server_tools = grounding_uses(turn.model, [answer.fields for answer in ordered])


def index_order(index: Any) -> tuple[bool, int]:
    """Sorts candidates by their index, those without a whole number last (in the order they came)."""
    return (type(index) is not int, index if type(index) is int else 0)


class Answer:
    """One candidate as its chunks build it: text and thought pieces joined, each function call whole."""

    def __init__(self) -> None:
        self.parts: list[dict] = []
        self.pieces: list[str] = []  # text that extends the last part's, joined once (a million pieces stream in)
        self.role: str | None = None
        self.fields: dict = {}  # finishReason, safetyRatings…: the newest value of each

    def add(self, candidate: dict, turn: Turn) -> None:
        content = candidate.get("content") if isinstance(candidate.get("content"), dict) else {}
        self.role = conversation.text_or_none(content.get("role")) or self.role
        self.fields.update({key: value for key, value in candidate.items() if key != "content"})
        for key, value in content.items():
            if key not in ("role", "parts"):
                self.fields[f"content.{key}"] = value
        for part in content.get("parts") or []:
            self.join(part)

    def join(self, part: Any) -> None:
        """A text piece extends the part before it when it is of the same kind (thought or not) and none of its
        other fields (a signature) would overwrite that part's."""
        last = self.parts[-1] if self.parts else None
        if (
            isinstance(part, dict)
            and isinstance(part.get("text"), str)
            and isinstance(last, dict)
            and isinstance(last.get("text"), str)
            and bool(part.get("thought")) == bool(last.get("thought"))
            and all(last.get(key, value) == value for key, value in part.items() if key not in ("text", "thought"))
        ):
            last.update({key: value for key, value in part.items() if key != "text"})
            self.pieces.append(part["text"])
        else:
            self.joined()
            self.parts.append(dict(part) if isinstance(part, dict) else part)

    def joined(self) -> None:
        """The pieces that extend the last part, joined into its text."""
        if self.pieces:
            self.parts[-1]["text"] += "".join(self.pieces)
            self.pieces = []

    def item(self, extra: dict, turn: Turn) -> Item:
        self.joined()
        finished = bool(self.fields.get("finishReason"))
        parts = [read_part(part, turn) for part in self.parts]
        for part in parts:
            # Function calls arrive whole; text is only known to be whole once the candidate has finished.
            part.complete = finished or part.kind == "tool_call"
        return Item(type="message", role=self.role or "model", parts=parts, metadata=self.fields | extra)


def usage_of(usage: dict) -> Usage:
    """Gemini's prompt count includes cached tokens; its candidates count leaves thoughts out, so the normalised
    output adds them (as OpenAI's and Anthropic's output counts include reasoning), and tool-use prompt tokens
    (search results and the like) are input."""
    return conversation.read_usage(
        usage,
        input=("promptTokenCount", "toolUsePromptTokenCount"),
        output=("candidatesTokenCount", "thoughtsTokenCount"),
        cache_read=("cachedContentTokenCount",),
        reasoning=("thoughtsTokenCount",),
    )


def error_body(message: str) -> dict:
    """The body this API answers a request it refuses with (a 400): what the agent shows as its API's error."""
    return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
