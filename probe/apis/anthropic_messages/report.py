"""Renders Anthropic Messages API turns (streamed SSE or JSON, count_tokens too) as Markdown, in its words."""

import json

from probe.apis import turn_markdown
from probe.apis.anthropic_messages import reader
from probe.apis.report_shape import counted, read_with, usage_counts
from probe.apis.said_once import config_lines
from probe.apis.tool_markdown import tools_section
from probe.common.markdown import Markdown, Rendered, compact, details, first_line, inline, json_block
from probe.read.conversation import Part, Turn

# The conversation model of each exchange comes from this API's reader: the report, turns.jsonl and the diff.
API, PROVIDER, OPERATION, read_request, read_response, history_key, stream_asked = read_with(reader)
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
        rendered.add(turn_markdown.instructions_section("System prompt", turn.system, label, state, as_blocks=True), "")
    if turn.tools:
        rendered.add(*tools_section(turn.tools, label, state, with_namespace=False))
    turn_markdown.history_items(turn, state, rendered, ("Messages", "message", "messages"), attachment)
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


# Responses ---------------------------------------------------------------------------------------


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    rendered = turn_markdown.response_opening(turn, state, error_text)
    if not turn.events and turn.usage is not None and not turn.output:
        rendered.add(
            Markdown("**Token count** (count_tokens): {} input tokens").format(counted(turn.usage.input)),
            "",
        )
        other_fields(rendered, "Other fields", {k: v for k, v in turn.usage.raw.items() if k != "input_tokens"})
        rendered.unrecognised |= set(turn.unrecognised)
        return rendered  # counting is not spending: no tokens for the header
    turn_markdown.output_section(turn, state.setdefault("calls", {}), rendered)
    part_fields(turn, rendered)
    for item in turn.output:
        # The message's own fields: the model that answered (when not the one asked for), then the rest as sent.
        metadata = dict(item.metadata)
        facts = [("id", item.id), ("model", metadata.pop("model", turn.model))]
        facts.append(("stop_reason", "null" if turn.stop_reason is None else turn.stop_reason))
        stop_sequence = metadata.pop("stop_sequence", None)
        if stop_sequence:
            facts.append(("stop_sequence", stop_sequence))
        rendered.add(turn_markdown.facts_line("Message", [fact for fact in facts if fact[1] is not None]), "")
        other_fields(rendered, "Other message fields", metadata)
    if turn.usage is not None:
        extra = usage_counts(turn.usage.raw, rendered, USAGE_FIELDS, TOKEN_COLUMNS)
        if extra:
            rendered.add(Markdown("Other usage: {}").format(inline(json.dumps(extra, ensure_ascii=False))), "")
    if turn.events and "message_stop" not in turn.events:
        rendered.add(Markdown("**No final event**: the stream ended before `message_stop`."), "")
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


OPAQUE_FIELDS = {"signature", "data"}  # a thinking block's seal and a redacted one's content: shown by size above


def part_fields(turn: Turn, rendered: Rendered) -> None:
    """The fields of answer blocks that the output above does not show (a text's citations, a server tool call's
    caller), as sent."""
    for item in turn.output:
        for position, part in enumerate(item.parts, start=1):
            if part.kind in ("other", "image") or not isinstance(part.raw, dict):
                continue  # shown whole already
            fields = {key: value for key, value in part.raw.items() if key not in OPAQUE_FIELDS}
            other_fields(rendered, f"Block {position} ({part.type}) also carries", fields)


def other_fields(rendered: Rendered, title: str, fields: dict) -> None:
    """Fields the API sent that have no place above (a refusal's details, the context edits applied, the
    container), collapsed as JSON; those sent empty or null say nothing and are left out."""
    shown = {key: value for key, value in fields.items() if value not in (None, "", [], {})}
    if shown:
        rendered.add(details(f"{title}: {', '.join(shown)}", json_block(shown)), "")


def error_text(error) -> Markdown:
    """An error in the API's words: the error object (as a JSON answer and an `error` event wrap it, with the
    request's id beside it), else whatever was sent."""
    if isinstance(error, dict) and error.get("type") == "error" and isinstance(error.get("error"), dict):
        envelope = {key: value for key, value in error.items() if key not in ("type", "error")}
        described = error_text(error["error"])
        if not envelope:
            return described
        shown = [
            Markdown("{} {}").format(key, inline(value if isinstance(value, str) else compact(value)))
            for key, value in envelope.items()
        ]
        return Markdown("{} ({})").format(described, Markdown(", ").join(shown))
    if isinstance(error, dict) and ("type" in error or "message" in error):
        return Markdown("{}: {}").format(
            inline(str(error.get("type", "?"))), first_line(str(error.get("message", "")), 500)
        )
    return inline(json.dumps(error, ensure_ascii=False, default=str))


def render_epilogue(state: dict) -> Rendered:
    """The whole conversation of the last request in one place, with the answer it got."""
    return turn_markdown.full_conversation(state, "messages", "message", attachment)
