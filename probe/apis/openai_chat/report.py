"""Renders OpenAI Chat Completions turns (streamed chunks or one JSON) as Markdown, in that API's words."""

import json
from dataclasses import replace
from typing import Any

from probe.apis import turn_markdown
from probe.apis.openai_chat import reader
from probe.apis.openai_chat.choices import cached_beside
from probe.apis.report_shape import read_with, usage_table, usage_tokens
from probe.apis.said_once import config_lines
from probe.apis.tool_markdown import tools_section
from probe.common.markdown import Markdown, Rendered, details, first_line, inline, json_block
from probe.read.conversation import Item, Part, Turn

# The conversation model of each exchange comes from this API's reader: the report, turns.jsonl and the diff.
API, PROVIDER, OPERATION, read_request, read_response, history_key, stream_asked = read_with(reader)
HISTORY_FIELD = "messages"  # the request field holding the re-sent history (left out of the key-path counts)
TOKEN_COLUMNS = ["input", "cached", "output", "reasoning", "total"]
COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")  # input, output and total, in this API's words
DETAILS = ("prompt_tokens_details", "completion_tokens_details")  # where the cached input and the reasoning are
USAGE_FIELDS = {
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
}
SHOWN_DETAILS = {"prompt_tokens_details": "cached_tokens", "completion_tokens_details": "reasoning_tokens"}
# Fields of an answer's choice shown in its facts line; the others are listed beside them.
FACT_FIELDS = ("finish_reason", "created", "system_fingerprint", "service_tier")


def attachment(part: Part) -> str:
    """An image as its address, or a data URL as its media type and size: never its bytes (plain text)."""
    raw = part.raw if isinstance(part.raw, dict) else {}
    image = raw.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    detail = f", detail {image['detail']}" if isinstance(image, dict) and image.get("detail") else ""
    if isinstance(url, str) and url.startswith("data:"):
        media = url[5:].split(";", 1)[0].split(",", 1)[0] or "?"
        return f"[{part.type}: data URL {media}, {len(url):,} chars{detail}]"
    return f"[{part.type}: {first_line(str(url), 200)}{detail}]"


def without_bytes(item: Item) -> Item:
    """An item as shown: audio and file parts keep their fields, but base64 in them is only counted. The item
    itself is left whole (turns.jsonl keeps everything)."""
    if not any(part.kind == "other" and isinstance(part.raw, dict) for part in item.parts):
        return item
    parts = [
        replace(part, raw=counted(part.raw)) if part.kind == "other" and isinstance(part.raw, dict) else part
        for part in item.parts
    ]
    return replace(item, parts=parts)


def counted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: counted(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [counted(inner) for inner in value]
    return turn_markdown.opaque(value)


def is_instruction(item: Item) -> bool:
    """A system or developer message holding only text: shown in the System prompt section, not twice."""
    return item.role in reader.SYSTEM_ROLES and all(part.kind == "text" for part in item.parts)


def messages_section(
    items: list[Item], first: int, calls: dict, rendered: Rendered, gap: tuple[int, int] | None = None
) -> None:
    """Messages in a table each (system text aside, which the System prompt section shows), then each in full;
    `gap`: where messages of a history too long to read were left out (turn_markdown.items_section)."""
    at, not_read = gap if gap is not None else (len(items) + 1, 0)
    start = 0
    while start < len(items):
        instruction = is_instruction(items[start])
        end = start
        while end < len(items) and is_instruction(items[end]) == instruction:
            end += 1
        if instruction:
            shown = ", ".join(
                f"messages[{first + offset + (not_read if offset >= at else 0)}] {items[offset].role}"
                for offset in range(start, end)
            )
            rendered.add(Markdown("{}: in the System prompt above.").format(shown), "")
        else:
            run = [without_bytes(item) for item in items[start:end]]
            holds_gap = start <= at < end
            turn_markdown.items_section(
                run, first + start + (not_read if start > at else 0), "messages", calls, rendered,
                [item.size for item in run], attachment=attachment, gap=(at - start, not_read) if holds_gap else None,
            )  # fmt: skip
        start = end


# Requests ----------------------------------------------------------------------------------------


def render_request(turn: Turn, label: str, state: dict) -> Rendered:
    config = ({"model": turn.model} if turn.model is not None else {}) | turn.config
    rendered = Rendered(config_lines(config, set(), label, state))
    if turn.system:
        rendered.add(turn_markdown.instructions_section("System prompt", turn.system, label, state), "")
    if turn.tools:
        rendered.add(*tools_section(turn.tools, label, state, with_namespace=False))
    if turn.input:
        calls = state.setdefault("calls", {})
        turn_markdown.history_section(
            turn,
            "Messages",
            "message",
            rendered,
            lambda new, first, gap: messages_section(new, first, calls, rendered, gap),
        )
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


# Responses ---------------------------------------------------------------------------------------


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    rendered = turn_markdown.response_opening(turn, state, error_text)
    calls = state.setdefault("calls", {})
    several = len(turn.output) > 1
    for item in turn.output:
        if several:
            rendered.add(Markdown("**Choice {}**").format(inline(str(item.metadata.get("index", "?")))), "")
        turn_markdown.output_section(replace(turn, output=[without_bytes(item)]), calls, rendered, attachment)
        rendered.add(*choice_facts(turn, item))
    if turn.usage is not None:
        rendered.tokens = usage_tokens(turn.usage.raw, COUNTS, DETAILS)
        if cached_beside(turn.usage.raw):
            rendered.tokens["cached"] = turn.usage.cache_read
        rendered.add(usage_table(TOKEN_COLUMNS, rendered.tokens), "")
        extra = other_usage(turn.usage.raw)
        if extra:
            rendered.add(Markdown("Other usage: {}").format(inline(json.dumps(extra, ensure_ascii=False))), "")
    if turn.events and reader.DONE not in turn.events:
        rendered.add(Markdown("**No final event**: the stream ended before `data: [DONE]`."), "")
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


def choice_facts(turn: Turn, item: Item) -> list[Markdown]:
    """A choice's facts line (the completion's id, the model that answered, its finish_reason…), then its other
    fields."""
    facts = [("id", turn.response_id)] if turn.response_id else []
    model = item.metadata.get("model") or turn.model
    facts += [("model", model)] if model else []
    facts += [(name, item.metadata[name]) for name in FACT_FIELDS if item.metadata.get(name) is not None]
    lines = [turn_markdown.facts_line("Completion", facts), ""] if facts else []
    extra = {
        key: turn_markdown.opaque(value)
        for key, value in item.metadata.items()
        if key not in FACT_FIELDS and key not in ("index", "model") and value is not None
    }
    if extra:
        count = len(extra)
        lines += [details(f"Other fields ({count})", json_block(extra)), ""]
    return lines


def error_text(error: Any) -> Markdown:
    """An error as the API words it: `{message, type, code, param}`. Vendors vary which of them they send, and
    some add their own (vLLM's `object`, a gateway's `metadata` with the upstream's words): those follow the
    type and code, as sent, and the message comes last, exactly as sent."""
    if isinstance(error, dict) and "message" in error:
        labels = [inline(str(error[key])) for key in ("type", "code") if error.get(key) is not None]
        rest = {key: value for key, value in error.items() if key not in ("message", "type", "code")}
        rest = {key: value for key, value in rest.items() if value is not None}
        if rest:
            labels.append(inline(json.dumps(rest, ensure_ascii=False, default=str)))
        message = turn_markdown.error_message(str(error.get("message", "")))
        return Markdown("{}: {}").format(Markdown(" ").join(labels), message) if labels else message
    return inline(json.dumps(error, ensure_ascii=False, default=str))


def other_usage(usage: dict) -> dict:
    """Usage fields the table does not show (audio tokens, a vendor's own counts), when they say something."""
    shown = USAGE_FIELDS | ({"cached_tokens"} if cached_beside(usage) else set())
    extra = {key: value for key, value in usage.items() if key not in shown and value}
    for field, shown in SHOWN_DETAILS.items():
        details_of = usage.get(field)
        if isinstance(details_of, dict):
            rest = {key: value for key, value in details_of.items() if key != shown and value}
            if rest:
                extra[field] = rest
        elif details_of:
            extra[field] = details_of
    return extra


def render_epilogue(state: dict) -> Rendered:
    """The whole conversation of the last request in one place, with the answer it got."""
    return turn_markdown.full_conversation(
        state, "messages", "message", attachment, shown=lambda items: list(map(without_bytes, items))
    )
