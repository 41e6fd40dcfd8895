"""Renders Anthropic Messages API requests and responses (streamed SSE or JSON, count_tokens too) as Markdown."""

import json
from typing import Any

from probe.dedupe import History, carried_summary, config_lines, listing_once, text_once
from probe.markdown import (Markdown, Rendered, code, compact, details, first_line, inline, json_block, strong, table,
                            tally)
from probe.sse import Event
from probe.readers import anthropic_messages as reader

# The conversation model of each exchange comes from this API's reader: turns.jsonl and the diff use it.
API, PROVIDER, history_key = reader.API, reader.PROVIDER, reader.history_key
read_request, read_response = reader.read_request, reader.read_response

# Request fields shown in their own sections rather than in the config list.
SECTION_FIELDS = {"system", "messages", "tools"}
KNOWN_BLOCKS = {"text", "image", "document", "tool_use", "server_tool_use", "tool_result", "thinking",
                "redacted_thinking"}
KNOWN_EVENTS = {"message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop", "ping", "error"}
KNOWN_DELTAS = {"text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"}
TOOL_CALLS = {"tool_use", "server_tool_use"}


def as_blocks(content: Any) -> list:
    """Content as a list of blocks: the API also takes a plain string, which is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


def marker(block: dict) -> Markdown:
    """Where the agent asked for a prompt-cache breakpoint: worth seeing, it shapes the cost."""
    cache = block.get("cache_control")
    return Markdown(", cache_control {}").format(inline(compact(cache))) if cache else Markdown("")


def without_cache_markers(messages: list) -> list:
    """Messages as compared for carried-over history. Agents move cache_control to the newest message on
    every request, and Claude Code sends a message's text as a string, or as a block list when it marks it:
    neither change alone may make an old message look new."""
    plain = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            message = dict(message, content=as_blocks(content))
        elif isinstance(content, list) and any(isinstance(block, dict) and "cache_control" in block
                                               for block in content):
            content = [{key: value for key, value in block.items() if key != "cache_control"}
                       if isinstance(block, dict) else block for block in content]
            message = dict(message, content=content)
        plain.append(message)
    return plain


# Requests ----------------------------------------------------------------------------------------


def render_request(body: Any, label: str, state: dict) -> Rendered:
    if not isinstance(body, dict):
        return Rendered([json_block(body)])
    rendered = Rendered(config_lines(body, SECTION_FIELDS, label, state))
    if "system" in body:
        rendered.add(system_section(body["system"], label, state), "")
    if isinstance(body.get("tools"), list):
        rendered.add(*tools_section(body["tools"], label, state))
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    plain = without_cache_markers(messages)
    carried = state.setdefault("history", History()).split(label, plain)
    new = messages[carried.count:]
    if messages:
        rendered.add(Markdown("**Messages**: {}").format(carried_summary(carried, noun="message")), "")
        render_messages(new, rendered, state, first_index=carried.count + 1)
    if "max_tokens" in body:  # a model turn; count_tokens requests carry no max_tokens and get no answer
        state["pending"] = (label, plain)
        state["last_request"] = (label, messages)
    rendered.payload = {key: value for key, value in body.items() if key != "messages"} | {"messages": new}
    return rendered


def system_section(system: Any, label: str, state: dict) -> str:
    """The system prompt: in full with its blocks and cache markers once, then "the same as" or a diff."""
    blocks = as_blocks(system)
    flat, full = [], []
    for index, block in enumerate(blocks, start=1):
        if not isinstance(block, dict):
            block = {"type": type(block).__name__, "value": block}
        text = block.get("text") if isinstance(block.get("text"), str) else compact(block)
        kind = str(block.get("type", "?"))
        # The flat form is code-block content (it is what later requests are compared and diffed with).
        flat.append(f"[block {index}: {kind}, {len(text):,} chars{marker(block)}]\n{text}")
        full.append(Markdown("Block {}: {}, {:,} chars{}\n\n{}").format(index, kind, len(text), marker(block),
                                                                        code(text, "text")))
    count = Markdown("{} block{}").format(len(blocks), "s" if len(blocks) != 1 else "")
    return text_once("System prompt", "\n\n".join(flat), label, state, Markdown("\n\n").join([count, *full]))


def tools_section(tools: list, label: str, state: dict) -> list[str]:
    rows = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        notes = [key for key in ("defer_loading", "strict") if tool.get(key)]
        if tool.get("cache_control"):
            notes.append(Markdown("cache_control {}").format(inline(compact(tool["cache_control"]))))
        rows.append([str(tool.get("name", "?")), str(tool.get("type", "custom")),
                     first_line(str(tool.get("description", "")), 100), Markdown(", ").join(notes)])
    names = Markdown(", ").join(row[0] if row[1] == "custom" else Markdown("{} ({})").format(row[0], row[1])
                                for row in rows)
    return listing_once("Tools declared", rows, ["name", "type", "description", "notes"], names or Markdown("(none)"),
                        label, state, "Tool table", details("Full tool schemas", json_block(tools)))


def render_messages(messages: list, rendered: Rendered, state: dict, first_index: int = 1) -> None:
    calls = state.setdefault("calls", {})  # tool_use id -> tool name, to name the tool a result answers
    rows, bodies = [], []
    for index, message in enumerate(messages, start=first_index):
        if not isinstance(message, dict):
            rows.append([index, "", type(message).__name__, "", ""])
            bodies.append(details(f"messages[{index}] (not an object)", json_block(message)))
            continue
        role = str(message.get("role", "?"))
        blocks = as_blocks(message.get("content"))
        described = [describe_block(block, calls, rendered) for block in blocks]
        summary = message_summary(blocks, [line for line, _ in described])
        if len(described) > 1:
            summary += f" (+{len(described) - 1} more block{'s' if len(described) > 2 else ''})"
        kinds = ", ".join(str(block.get("type", "?")) if isinstance(block, dict) else "?" for block in blocks)
        size = len(json.dumps(message, ensure_ascii=False))
        rows.append([index, role, kinds, summary, f"{size:,}"])
        bodies.append(details(f"messages[{index}] {role}: {summary}", *[body for _, body in described]))
    if rows:
        rendered.add(table(["#", "role", "blocks", "summary", "bytes"], rows), "", *bodies)


def message_summary(blocks: list, lines: list[str]) -> str:
    """The line that best names a message: its own words before attachments, and never the
    <system-reminder> text blocks agents inject ahead of them."""
    wanted = [(line, block) for line, block in zip(lines, blocks) if line and not line.startswith("<system-reminder>")]
    texts = [line for line, block in wanted if isinstance(block, dict) and block.get("type") == "text"]
    return (texts or [line for line, _ in wanted] or lines or ["(empty)"])[0]


def describe_block(block: Any, calls: dict, rendered: Rendered) -> tuple[str, Markdown]:
    """A one-line summary and the Markdown of one content block."""
    if not isinstance(block, dict):
        return repr(block)[:60], json_block(block)
    kind = str(block.get("type", "?"))
    heading = Markdown("{}{}").format(strong(kind), marker(block))
    if kind == "text":
        text = str(block.get("text", ""))
        return first_line(text), Markdown("{}\n\n{}").format(heading, code(text, "text"))
    if kind in ("image", "document"):
        return f"[{kind}]", Markdown("{}: {}").format(heading, inline(attachment(block)))
    if kind in TOOL_CALLS:
        name = str(block.get("name", "?"))
        calls[str(block.get("id"))] = name
        arguments = block.get("input")
        return (f"{name}({first_line(compact(arguments), 60)})",
                Markdown("**{}** {} (id {}){}\n\n{}").format(kind, inline(name), inline(str(block.get("id"))),
                                                              marker(block), json_block(arguments)))
    if kind == "tool_result":
        name = calls.get(str(block.get("tool_use_id")), "an earlier call")
        text = result_text(block.get("content"))
        error = " (an error)" if block.get("is_error") else ""
        return (f"result of {name}{error}: {first_line(text, 60)}",
                Markdown("**{}** of {}{} (tool_use_id {}){}\n\n{}").format(
                    kind, inline(name), error, inline(str(block.get("tool_use_id"))), marker(block),
                    code(text, "text")))
    if kind == "thinking":
        text = str(block.get("thinking", ""))
        return f"thinking: {first_line(text, 60)}", Markdown("**{}** (signature: {:,} chars){}\n\n{}").format(
            kind, len(str(block.get("signature") or "")), marker(block), code(text or "(empty)", "text"))
    if kind == "redacted_thinking":
        return "redacted thinking", Markdown("{}: {:,} chars of encrypted data").format(
            heading, len(str(block.get("data") or "")))
    rendered.unrecognised.add(f"content block {kind}")
    return f"{kind} block", Markdown("{}\n\n{}").format(heading, json_block(block))


def attachment(block: dict) -> str:
    """A placeholder for an image or document: its kind and size, never its bytes (plain text, not Markdown)."""
    source = block.get("source") if isinstance(block.get("source"), dict) else {}
    where = source.get("media_type") or source.get("url") or source.get("file_id") or ""
    data = source.get("data")
    size = f", {len(data):,} chars of base64" if isinstance(data, str) and source.get("type") == "base64" else ""
    title = f" {json.dumps(str(block['title']), ensure_ascii=False)}" if block.get("title") else ""
    return f"[{source.get('type', '?')}{title} {where}{size}]".replace(" ]", "]")


def result_text(content: Any) -> str:
    """A tool result's content, which is a string or a list of text and image blocks."""
    if isinstance(content, str):
        return content
    parts = []
    for block in as_blocks(content):
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, dict):
            parts.append(f"[{block.get('type', '?')}: {attachment(block)}]")
    return "\n\n".join(parts)


def render_epilogue(state: dict) -> Rendered:
    """The whole conversation of the last model turn in one place, with the answer it got."""
    rendered = Rendered()
    if not state.get("last_request"):
        return rendered
    label, messages = state["last_request"]
    inner = Rendered()
    reply = state.get("last_reply")
    reply_shown = bool(reply and reply[0] == label)
    answered = messages + ([reply[1]] if reply_shown else [])
    render_messages(answered, inner, {"calls": dict(state.get("calls", {}))})
    rendered.add(Markdown("## Full conversation of the last request ({})").format(label), "",
                 details(f"All {len(messages)} messages of {label}" + (", then its answer" if reply_shown else ""),
                         *inner.lines))
    return rendered


# Responses ---------------------------------------------------------------------------------------


def render_response(events: list[Event] | None, body: Any, label: str, state: dict) -> Rendered:
    rendered = Rendered()
    if events is not None:
        render_stream(events, rendered, label, state)
    elif isinstance(body, dict) and body.get("type") == "message":
        content = as_blocks(body.get("content"))  # a JSON answer is always whole
        render_blocks(content, set(), rendered, state)
        finish(body, body.get("usage"), rendered, label, state, content)
    elif isinstance(body, dict) and set(body) - {"context_management"} == {"input_tokens"} \
            and isinstance(body["input_tokens"], int):
        rendered.add(Markdown("**Token count** (count_tokens): {:,} input tokens").format(body["input_tokens"]), "")
    elif isinstance(body, dict) and body.get("type") == "error":
        rendered.add(Markdown("**Error**: {}").format(error_text(body.get("error"))), "")
    elif body is not None:
        rendered.add(details("JSON body", json_block(body)))
    return rendered


def error_text(error: Any) -> Markdown:
    if isinstance(error, dict) and ("type" in error or "message" in error):
        return Markdown("{}: {}").format(inline(str(error.get("type", "?"))),
                                         first_line(str(error.get("message", "")), 500))
    return inline(compact(error))


def render_stream(events: list[Event], rendered: Rendered, label: str, state: dict) -> None:
    counts: dict[str, int] = {}
    blocks: dict[Any, dict] = {}  # by index, as content_block_start gave them
    pieces: dict[Any, list[str]] = {}  # text, thinking or partial JSON: joined once at the end
    signatures: dict[Any, str] = {}
    open_blocks: set = set()
    message: dict = {}
    usage: dict = {}
    errors, stopped = [], False
    for event in events:
        data = event.data if type(event.data) is dict else {}
        kind = data.get("type") or event.name or "(untyped)"
        kind = kind if type(kind) is str else str(kind)
        counts[kind] = counts.get(kind, 0) + 1
        index = data.get("index")
        index = index if isinstance(index, (int, str)) else None
        if kind == "content_block_delta":
            delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
            delta_kind = delta.get("type")
            if delta_kind == "text_delta":
                pieces.setdefault(index, []).append(str(delta.get("text", "")))
            elif delta_kind == "thinking_delta":
                pieces.setdefault(index, []).append(str(delta.get("thinking", "")))
            elif delta_kind == "input_json_delta":
                pieces.setdefault(index, []).append(str(delta.get("partial_json", "")))
            elif delta_kind == "signature_delta":
                signatures[index] = signatures.get(index, "") + str(delta.get("signature", ""))
            elif delta_kind == "citations_delta":
                blocks.setdefault(index, {"type": "text"}).setdefault("citations", []).append(delta.get("citation"))
            else:
                rendered.unrecognised.add(f"delta {delta_kind}")
        elif kind == "content_block_start":
            block = data.get("content_block")
            blocks[index] = dict(block) if isinstance(block, dict) else {"type": "?"}
            open_blocks.add(index)
        elif kind == "content_block_stop":
            open_blocks.discard(index)
        elif kind == "message_start" and isinstance(data.get("message"), dict):
            message = data["message"]
            usage.update(message.get("usage") if isinstance(message.get("usage"), dict) else {})
        elif kind == "message_delta":
            delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
            message = dict(message, **delta)
            # message_delta's usage is cumulative: its counts replace those of message_start.
            usage.update(data.get("usage") if isinstance(data.get("usage"), dict) else {})
        elif kind == "message_stop":
            stopped = True
        elif kind == "error":
            errors.append(data.get("error", data))
        elif kind not in KNOWN_EVENTS:
            rendered.unrecognised.add(f"event {kind}")
    rendered.add(Markdown("**Events ({})**: {}").format(sum(counts.values()), tally(counts)), "")
    for error in errors:
        rendered.add(Markdown("**Error event**: {}").format(error_text(error)), "")
    assembled = [assemble(blocks[index], pieces.get(index, []), signatures.get(index)) for index in blocks]
    render_blocks(assembled, {position for position, index in enumerate(blocks) if index in open_blocks},
                  rendered, state)
    if message:
        finish(message, usage, rendered, label, state, assembled if stopped else None)
    if not stopped:
        rendered.add(Markdown("**No final event**: the stream ended before `message_stop`."), "")


def assemble(block: dict, pieces: list[str], signature: str | None) -> dict:
    """A content block as the stream built it, tool input parsed from its JSON pieces."""
    block = dict(block)
    kind = block.get("type")
    joined = "".join(pieces)
    if kind == "text":
        block["text"] = str(block.get("text") or "") + joined
    elif kind == "thinking":
        block["thinking"] = str(block.get("thinking") or "") + joined
    elif kind in TOOL_CALLS and joined:
        try:
            block["input"] = json.loads(joined)
        except ValueError:
            block["input"] = joined  # cut off mid-way, or not JSON: shown as it arrived
            block["input_not_json"] = True
    if signature is not None:
        block["signature"] = str(block.get("signature") or "") + signature
    return block


def render_blocks(blocks: list[dict], cut_off: set, rendered: Rendered, state: dict) -> None:
    """The model's output, block by block; `cut_off` holds the positions of blocks never closed."""
    calls = state.setdefault("calls", {})
    for position, block in enumerate(blocks):
        kind = str(block.get("type", "?"))
        note = " (cut off before content_block_stop)" if position in cut_off else ""
        if kind == "text":
            rendered.add(Markdown("**Output text**{}").format(note), "", code(str(block.get("text", "")), "text"), "")
        elif kind == "thinking":
            signature = f"signature: {len(str(block.get('signature') or '')):,} chars"
            text = str(block.get("thinking") or "")
            if text:
                rendered.add(Markdown("**Thinking** ({}){}").format(signature, note), "", code(text, "text"), "")
            else:
                rendered.add(Markdown("**Thinking**: no text, as the request's display setting asks ({}){}")
                             .format(signature, note), "")
        elif kind in TOOL_CALLS:
            name = str(block.get("name", "?"))
            calls[str(block.get("id"))] = name
            arguments = block.get("input")
            if block.get("input_not_json"):
                shown = Markdown("{}\n\n(input is not valid JSON)").format(code(str(arguments), "text"))
            else:
                shown = json_block(arguments)
            rendered.add(Markdown("**Tool call** {} (id {}){}").format(inline(name), inline(str(block.get("id"))), note),
                         "", shown, "")
        elif kind == "redacted_thinking":
            rendered.add(Markdown("**Redacted thinking**: {:,} chars of encrypted data")
                         .format(len(str(block.get("data") or ""))), "")
        else:
            rendered.unrecognised.add(f"content block {kind}")
            rendered.add(details(f"Content block {kind}{note}", json_block(block)))


def finish(message: dict, usage: Any, rendered: Rendered, label: str, state: dict, content: list | None) -> None:
    """The message's facts and usage; a finished answer (`content`, None if cut off) joins the history later
    requests carry."""
    pending = state.pop("pending", None)
    if pending and pending[0] == label and content is not None:
        reply = {"role": "assistant", "content": [clean(block) for block in content]}
        state["history"].update(label, pending[1] + without_cache_markers([reply]))
        state["last_reply"] = (label, reply)
    fact = Markdown("{} {}")
    facts = [fact.format("id", inline(str(message.get("id"))))]
    if message.get("model"):
        facts.append(fact.format("model", inline(str(message["model"]))))
    facts.append(fact.format("stop_reason", inline(str(message.get("stop_reason")))))
    if message.get("stop_sequence"):
        facts.append(fact.format("stop_sequence", inline(str(message["stop_sequence"]))))
    rendered.add(Markdown("**Message**: {}").format(Markdown(", ").join(facts)), "")
    if isinstance(usage, dict):
        rendered.tokens = usage_tokens(usage)
        rendered.add(table(["input", "cache creation", "cache read", "output"],
                           [[f"{value:,}" for value in rendered.tokens.values()]]), "")
        extra = {key: value for key, value in usage.items() if key not in USAGE_FIELDS and value}
        if extra:
            rendered.add(Markdown("Other usage: {}").format(inline(compact(extra))), "")


def clean(block: dict) -> dict:
    return {key: value for key, value in block.items() if key != "input_not_json"}


USAGE_FIELDS = {"input_tokens": "input", "cache_creation_input_tokens": "cache_creation",
                "cache_read_input_tokens": "cache_read", "output_tokens": "output"}


def usage_tokens(usage: dict) -> dict[str, int]:
    def number(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return {kind: number(usage.get(field)) for field, kind in USAGE_FIELDS.items()}
