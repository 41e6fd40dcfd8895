"""Reads Anthropic Messages API requests and responses (streamed SSE or JSON, count_tokens too) into the model."""

import re
from typing import Any

from probe.apis.reader_shape import tool_call
from probe.common import fastjson
from probe.read import conversation, history_reads
from probe.read.conversation import Item, Noted, Part, TextBlock, Tool, Turn, Usage
from probe.read.history_reads import read_history
from probe.read.sse import Event

API = "anthropic.messages"
PROVIDER = "anthropic"
OPERATION = "chat"  # in OpenTelemetry's GenAI words (gen_ai.operation.name)
SECTION_FIELDS = {"system", "messages", "tools", "model"}
TOOL_CALLS = {"tool_use", "server_tool_use", "mcp_tool_use"}
# Results of the tools the API runs itself (server tools, MCP connectors): each answers the call named by
# `tool_use_id`, in the same message.
SERVER_RESULTS = {
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_result",
}
KNOWN_EVENTS = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
}
DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def as_blocks(content: Any) -> list:
    """Content as a list of blocks: the API also takes a plain string, which is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


# Recognition: what marks an exchange as this API's (probe.apis.recognise) --------------------

PATH = re.compile(r"(?:^|/)messages(?:/count_tokens)?$")  # POST /v1/messages (?beta=true), count_tokens
ANSWER_TYPES = {"message_start", "content_block_start", "content_block_delta", "message_delta", "message_stop"}
HEADER_MARKS = {"anthropic-version", "anthropic-beta"}


def recognise(evidence) -> int:
    """3: the path is this API's and the request fits it; 2: an answer only this API sends, or its headers; 1: a
    request with a top-level `system` beside its messages (Chat Completions puts system text in a message)."""
    request = evidence.request or {}
    if PATH.search(evidence.path) and (not request or "messages" in request):
        return 3
    for answer in evidence.answers:
        if answer.get("type") in ANSWER_TYPES or (answer.get("type") == "message" and "content" in answer):
            return 2
    if "messages" in request and (HEADER_MARKS & evidence.headers or "anthropic_version" in request):
        return 2  # the version header, or in the body as Bedrock and Vertex AI take it
    return 1 if "messages" in request and "system" in request else 0


# Requests ----------------------------------------------------------------------------------------


def read_request(body: Any, turn: Turn) -> None:
    if not conversation.read_model_and_config(body, turn, SECTION_FIELDS):
        return
    for index, block in enumerate(as_blocks(body.get("system"))):
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            rest = {key: value for key, value in block.items() if key not in ("type", "text")}
            turn.system.append(
                TextBlock(block["text"], type=str(block.get("type", "text")), id=f"system[{index}]", metadata=rest)
            )
        else:
            turn.unrecognised.append("system block that is not text")
            turn.unknown.append({"where": f"system[{index}]", "raw": block})
    tools = body.get("tools")
    turn.tools = [read_tool(tool) for tool in tools] if isinstance(tools, list) else []
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    turn.input += read_history(messages, turn, lambda raw: read_message(raw, turn))


def read_tool(tool: Any) -> Tool:
    if not isinstance(tool, dict):
        return Tool(name="?", sent=tool, metadata={"raw": tool})
    known = {"name", "type", "description", "input_schema"}
    return Tool(
        name=str(tool.get("name", "?")),
        type=conversation.text_or_none(tool.get("type")),
        description=str(tool.get("description") or ""),
        schema=tool.get("input_schema"),
        sent=tool,
        metadata={key: value for key, value in tool.items() if key not in known},
    )


def read_message(message: Any, turn: Turn) -> Item:
    if not isinstance(message, dict):
        turn.unrecognised.append(f"message that is {type(message).__name__}")
        return Item(type="(not an object)", parts=[Part("other", type(message).__name__, raw=message)], sent=message)
    return Item(
        type="message",
        role=conversation.text_or_none(message.get("role")),
        id=conversation.text_or_none(message.get("id")),
        parts=[read_block(block, turn) for block in as_blocks(message.get("content"))],
        metadata={key: value for key, value in message.items() if key not in ("role", "content", "id")},
        sent=message,
    )


def read_block(block: Any, turn: Turn) -> Part:
    """One content block as a part; the fields a part has no place for (cache markers, citations, a thinking
    block's signature) stay in `raw`."""
    if not isinstance(block, dict):
        turn.unrecognised.append(f"content block that is {type(block).__name__}")
        return Part("other", type(block).__name__, raw=block)
    kind = str(block.get("type", "?"))

    def rest(*used: str) -> dict | None:
        left = {key: value for key, value in block.items() if key not in ("type", *used)}
        return left or None

    if kind == "text":
        return Part("text", kind, text=str(block.get("text", "")), raw=rest("text"))
    if kind == "image":
        return Part("image", kind, raw=rest())
    if kind in TOOL_CALLS:
        return tool_call(kind, block, "input", rest("name", "id", "input"))
    if kind == "tool_result":
        content = block.get("content")
        texts = [
            str(part.get("text", ""))
            for part in as_blocks(content)
            if isinstance(part, dict) and part.get("type") == "text"
        ]
        others = [part for part in as_blocks(content) if not (isinstance(part, dict) and part.get("type") == "text")]
        is_error = block.get("is_error")
        extra = rest("content", "tool_use_id", "is_error") or {}
        if others:
            extra["content"] = others  # images and other blocks in a result, as sent
        return Part(
            "tool_result",
            kind,
            text="\n\n".join(texts),
            call_id=conversation.text_or_none(block.get("tool_use_id")),
            is_error=is_error if isinstance(is_error, bool) else None,
            raw=extra or None,
        )
    if kind in SERVER_RESULTS or (kind.endswith("_tool_result") and "tool_use_id" in block):  # a newer tool's
        is_error = block.get("is_error")
        content = block.get("content")
        failed = isinstance(content, dict) and str(content.get("type", "")).endswith("_error")
        return Part(
            "tool_result",
            kind,
            text=result_text(content),
            call_id=conversation.text_or_none(block.get("tool_use_id")),
            is_error=is_error if isinstance(is_error, bool) else (True if failed else None),
            raw=rest("tool_use_id", "is_error"),
        )
    if kind == "thinking":
        return Part("reasoning", kind, text=str(block.get("thinking", "")), raw=rest("thinking"))
    if kind == "redacted_thinking":
        return Part("reasoning", kind, raw=rest())
    if kind != "document":
        turn.unrecognised.append(f"content block {kind}")
    return Part("other", kind, raw=block)


def result_text(content: Any) -> str:
    """What a server tool's result says, as text: a search's titles and addresses, a run's output and exit code, an
    error's code, an MCP result's text. The whole result stays in the part's `raw`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(filter(None, (result_text(entry) for entry in content)))
    if not isinstance(content, dict):
        return ""
    if isinstance(content.get("text"), str):
        return content["text"]
    if isinstance(content.get("url"), str):  # a search result, or a fetched page (its document in `content`)
        title = content.get("title") if isinstance(content.get("title"), str) else ""
        return f"{title} {content['url']}".strip()
    lines = [str(content[field]) for field in ("stdout", "stderr") if content.get(field)]
    if content.get("return_code") is not None:
        lines.append(f"return code {content['return_code']}")
    if content.get("error_code") is not None:
        lines.append(f"error: {content['error_code']}")
    if not lines and "content" in content:
        return result_text(content["content"])
    return "\n".join(lines)


def history_key(item: Item) -> Any:
    """Agents move cache markers to the newest message on every request, which alone must not make an old
    message look new."""
    return history_reads.history_key(item, frozenset({"cache_control"}))


# Responses ---------------------------------------------------------------------------------------


def read_response(events: list[Event] | None, body: Any, turn: Turn) -> None:
    if events is not None:
        read_stream(events, turn)
    elif isinstance(body, dict) and body.get("type") == "message":
        read_answer(body, as_blocks(body.get("content")), body.get("usage"), turn)
    elif isinstance(body, dict) and set(body) - {"context_management"} == {"input_tokens"}:
        turn.usage = conversation.read_usage(body, input=("input_tokens",))  # count_tokens
    elif isinstance(body, dict) and body.get("type") == "error":
        turn.errors.append(body)  # whole: beside the error object, the API sends the request's id
    elif body is not None:
        turn.unknown.append({"where": "response body", "raw": body})


# What the message's own events carry besides the fields read from them: kept in the message's metadata.
EVENT_FIELDS = {"type", "delta", "usage", "message"}


def read_stream(events: list[Event], turn: Turn) -> None:
    """A streamed message, built as the official SDK builds it from the events (anthropic-sdk-python's
    `accumulate_event`), but leniently: a delta whose block never started starts one of the delta's kind, and
    nothing the stream sent is dropped."""
    blocks: dict[Any, dict] = {}  # by index, as content_block_start gave them
    pieces: dict[Any, list[str]] = {}
    odd_deltas: dict[tuple, dict] = {}  # (index, delta type) -> its entry in turn.unknown, every delta of it
    message: dict = {}
    usage: dict = {}
    stopped: set = set()
    message_stopped = False
    for event in events:
        data = event.data if type(event.data) is dict else {}
        kind = data.get("type") or event.name or "(untyped)"
        kind = kind if type(kind) is str else str(kind)
        seen = conversation.count_event(turn, kind)
        index = data.get("index") if isinstance(data.get("index"), (int, str)) else None
        if kind == "content_block_delta":
            delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
            delta_type = delta.get("type")
            field = DELTA_FIELDS.get(delta_type)
            if field:
                pieces.setdefault(index, []).append(str(delta.get(field, "")))
                blocks.setdefault(index, {"type": {"partial_json": "tool_use"}.get(field, field)})
            elif delta_type == "signature_delta":
                # The signature arrives whole, once, before the block stops: it is the block's (as in the SDK).
                blocks.setdefault(index, {"type": "thinking"})["signature"] = str(delta.get("signature", ""))
            elif delta_type == "citations_delta":
                block = blocks.setdefault(index, {"type": "text"})
                block["citations"] = [*(block.get("citations") or []), delta.get("citation")]
            elif delta_type == "compaction_delta":  # a compaction block's content, whole (the SDK's rule)
                block = blocks.setdefault(index, {"type": "compaction"})
                block.update({key: value for key, value in delta.items() if key != "type"})
            else:
                unknown_delta(delta, index, odd_deltas, turn)
        elif kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            blocks[index] = dict(data["content_block"])
        elif kind == "content_block_stop":
            stopped.add(index)
        elif kind == "message_start" and isinstance(data.get("message"), dict):
            message = dict(data["message"])
            for position, block in enumerate(as_blocks(message.get("content"))):
                if isinstance(block, dict):  # content the message started with comes first (as in the SDK)
                    blocks.setdefault(position, dict(block))
                    stopped.add(position)
            usage.update(message.get("usage") if isinstance(message.get("usage"), dict) else {})
        elif kind in ("message_delta", "message_stop"):
            message_stopped = message_stopped or kind == "message_stop"
            message.update(data.get("delta") if isinstance(data.get("delta"), dict) else {})
            # Anything else the event carries (context management's applied edits, say) is the message's too.
            message.update({key: value for key, value in data.items() if key not in EVENT_FIELDS})
            # message_delta's counts are cumulative: they replace message_start's, but one it sends as null or
            # leaves out keeps the count sent before.
            sent = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            usage.update({key: value for key, value in sent.items() if value is not None})
        elif kind == "error":
            turn.errors.append(data or event.data)
        elif kind not in KNOWN_EVENTS and seen == 1:
            turn.unrecognised.append(f"event {kind}")
            turn.unknown.append({"where": f"event {kind}", "raw": event.data})
    order = list(blocks)
    if all(type(index) is int for index in order):
        order.sort()  # the index is the block's place in the message, whatever order the events came in
    content = [assemble(blocks[index], pieces.get(index, [])) for index in order]
    read_answer(message, content, usage or None, turn)
    if turn.output:
        for part, index in zip(turn.output[-1].parts, order):
            part.complete = message_stopped or index in stopped


def unknown_delta(delta: dict, index: Any, seen: dict[tuple, dict], turn: Turn) -> None:
    """A delta of a type not known here: every one is kept, in one entry per block and type (a new type of
    delta may stream a block's whole content)."""
    key = (index, str(delta.get("type")))
    entry = seen.get(key)
    if entry is None:
        if f"delta {key[1]}" not in turn.unrecognised:
            turn.unrecognised.append(f"delta {key[1]}")
        entry = seen[key] = {"where": f"delta {key[1]} of block {index}", "raw": Noted()}
        turn.unknown.append(entry)
    entry["raw"].append(delta)


def assemble(block: dict, pieces: list[str]) -> dict:
    """A content block as the stream built it, tool input parsed from its JSON pieces."""
    block = dict(block)
    joined = "".join(pieces)
    if block.get("type") == "text":
        block["text"] = str(block.get("text") or "") + joined
    elif block.get("type") == "thinking":
        block["thinking"] = str(block.get("thinking") or "") + joined
    elif block.get("type") in TOOL_CALLS and joined:
        try:
            block["input"] = fastjson.loads(joined)
        except ValueError:
            block["input"] = joined  # cut off mid-way, or not JSON: kept as it arrived
    return block


def read_answer(message: dict, content: list, usage: Any, turn: Turn) -> None:
    turn.response_id = conversation.text_or_none(message.get("id"))
    model = conversation.text_or_none(message.get("model"))
    turn.stop_reason = conversation.text_or_none(message.get("stop_reason"))
    if message or content:
        rest = {
            key: value
            for key, value in message.items()
            if key not in ("id", "type", "role", "content", "stop_reason", "usage")
        }
        if turn.model is None or model == turn.model:
            rest.pop("model", None)  # kept only when the model that answered is not the one asked for
        turn.output.append(
            Item(
                type="message",
                role=conversation.text_or_none(message.get("role")) or "assistant",
                id=turn.response_id,
                parts=[read_block(block, turn) for block in content],
                metadata=rest,
            )
        )
    turn.model = turn.model or model
    if isinstance(usage, dict):
        turn.usage = usage_of(usage)


def usage_of(usage: dict) -> Usage:
    """Anthropic counts cached input apart from `input_tokens`: normalised input is all three added up. A count
    the API did not send stays None. Its server tools' uses are `server_tool_use.<tool>_requests`."""
    counted = conversation.read_usage(
        usage,
        input=("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"),
        output=("output_tokens",),
        cache_read=("cache_read_input_tokens",),
        cache_write=("cache_creation_input_tokens",),
        # Where sent, cache_creation splits the writes by how long they are kept (ephemeral_5m_…, ephemeral_1h_…).
        cache_write_1h=("cache_creation.ephemeral_1h_input_tokens",),
        reasoning=("output_tokens_details.thinking_tokens",),  # part of output_tokens, as the API counts them
    )
    counted.server_tools = conversation.requests_by_tool(usage.get("server_tool_use"))
    return counted


def error_body(message: str) -> dict:
    """The body this API answers a request it refuses with (a 400): what the agent shows as its API's error."""
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
