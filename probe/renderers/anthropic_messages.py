"""Renders Anthropic Messages API turns (streamed SSE or JSON, count_tokens too) as Markdown, in its words."""

import json

from probe.conversation import Part, Turn
from probe.dedupe import config_lines
from probe.markdown import Markdown, Rendered, first_line, inline
from probe.readers import anthropic_messages as reader
from probe.turn_markdown import (
    counted,
    facts_line,
    full_conversation,
    history_summary,
    instructions_section,
    items_section,
    output_section,
    response_opening,
    tools_section,
    usage_table,
)

# The conversation model of each exchange comes from this API's reader: the report, turns.jsonl and the diff.
API, PROVIDER, OPERATION, history_key = reader.API, reader.PROVIDER, reader.OPERATION, reader.history_key
read_request, read_response = reader.read_request, reader.read_response
HISTORY_FIELD = "messages"  # the request field holding the re-sent history (left out of the key-path counts)
USAGE_FIELDS = {
    "input_tokens": "input",
    "cache_creation_input_tokens": "cache_creation",
    "cache_read_input_tokens": "cache_read",
    "output_tokens": "output",
}
TOKEN_COLUMNS = ["input", "cache creation", "cache read", "output"]


def attachment(part: Part) -> str:
    """A placeholder for an image or document: its kind and size, never its bytes (plain text, not Markdown)."""
    raw = part.raw if isinstance(part.raw, dict) else {}
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    where = source.get("media_type") or source.get("url") or source.get("file_id") or ""
    data = source.get("data")
    size = f", {len(data):,} chars of base64" if isinstance(data, str) and source.get("type") == "base64" else ""
    title = f" {json.dumps(str(raw['title']), ensure_ascii=False)}" if raw.get("title") else ""
    return f"[{source.get('type', '?')}{title} {where}{size}]".replace(" ]", "]")


# Requests ----------------------------------------------------------------------------------------


def render_request(turn: Turn, label: str, state: dict) -> Rendered:
    config = ({"model": turn.model} if turn.model is not None else {}) | turn.config
    rendered = Rendered(config_lines(config, set(), label, state))
    if turn.system:
        rendered.add(instructions_section("System prompt", turn.system, label, state, as_blocks=True), "")
    if turn.tools:
        rendered.add(*tools_section(turn.tools, label, state, with_namespace=False))
    if turn.input:
        carried = turn.carried.items if turn.carried else 0
        new = turn.input[carried:]
        rendered.add(Markdown("**Messages**: {}").format(history_summary(turn, "message")), "")
        items_section(
            new,
            carried + 1,
            "messages",
            state.setdefault("calls", {}),
            rendered,
            [item.size for item in new],
            attachment=attachment,
        )
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


# Responses ---------------------------------------------------------------------------------------


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    rendered = response_opening(turn, state, error_text)
    if not turn.events and turn.usage is not None and not turn.output:
        rendered.add(Markdown("**Token count** (count_tokens): {} input tokens").format(counted(turn.usage.input)), "")
        rendered.unrecognised |= set(turn.unrecognised)
        return rendered  # counting is not spending: no tokens for the header
    output_section(turn, state.setdefault("calls", {}), rendered)
    if turn.output:
        facts = (
            [("id", turn.response_id)]
            + ([("model", turn.model)] if turn.model else [])
            + [("stop_reason", turn.stop_reason)]
        )
        stop_sequence = turn.output[0].metadata.get("stop_sequence")
        if stop_sequence:
            facts.append(("stop_sequence", stop_sequence))
        rendered.add(facts_line("Message", facts), "")
    if turn.usage is not None:
        raw = turn.usage.raw
        rendered.tokens = {kind: number(raw.get(field)) for field, kind in USAGE_FIELDS.items()}
        rendered.add(usage_table(TOKEN_COLUMNS, rendered.tokens), "")
        extra = {key: value for key, value in raw.items() if key not in USAGE_FIELDS and value}
        if extra:
            rendered.add(Markdown("Other usage: {}").format(inline(json.dumps(extra, ensure_ascii=False))), "")
    if turn.events and "message_stop" not in turn.events:
        rendered.add(Markdown("**No final event**: the stream ended before `message_stop`."), "")
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


def error_text(error) -> Markdown:
    if isinstance(error, dict) and ("type" in error or "message" in error):
        return Markdown("{}: {}").format(
            inline(str(error.get("type", "?"))), first_line(str(error.get("message", "")), 500)
        )
    return inline(json.dumps(error, ensure_ascii=False, default=str))


def number(value) -> int | None:
    """A count as sent; None (shown as "—") where the API sent none: absent is not zero."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def render_epilogue(state: dict) -> Rendered:
    """The whole conversation of the last request in one place, with the answer it got."""
    return full_conversation(state, "messages", "message", attachment)
