"""Renders Gemini API (generateContent, streamed or not, countTokens) turns as Markdown, in that API's words; and
the Code Assist API's, whose account calls are named for what they do."""

import dataclasses
import json

from probe.apis import turn_markdown
from probe.apis.gemini import code_assist, reader
from probe.apis.report_shape import counted, read_with, usage_counts
from probe.apis.said_once import config_lines
from probe.apis.tool_markdown import tools_section
from probe.common.markdown import Markdown, Rendered, details, first_line, inline, json_block
from probe.read.conversation import Item, Part, Turn

# The conversation model of each exchange comes from this API's reader: the report, turns.jsonl and the diff.
API, PROVIDER, OPERATION, read_request, read_response, history_key, stream_asked = read_with(reader)
HISTORY_FIELD = "contents"  # the request field holding the re-sent history (left out of the key-path counts)
GENERATION_CONFIG = ("generationConfig", "generation_config")
USAGE_FIELDS = {
    "promptTokenCount": "prompt",
    "cachedContentTokenCount": "cached",
    "candidatesTokenCount": "candidates",
    "thoughtsTokenCount": "thoughts",
    "toolUsePromptTokenCount": "tool_use_prompt",
    "totalTokenCount": "total",
}
TOKEN_COLUMNS = ["prompt", "cached", "candidates", "thoughts", "tool use prompt", "total"]
COUNT_FIELDS = {"totalTokens", "cachedContentTokenCount"}  # countTokens' answer, shown in its line
SHOWN_FIELDS = {"finishReason", "index", "modelVersion"}  # candidate fields in the facts line, not the table


def attachment(part: Part) -> str:
    """A placeholder for inline data or a file: its type and size, never its bytes (plain text, not Markdown)."""
    raw = part.raw if isinstance(part.raw, dict) else {}
    source = raw.get(part.type) if isinstance(raw.get(part.type), dict) else {}
    mime = source.get("mimeType") or source.get("mime_type") or "?"
    data = source.get("data")
    if isinstance(data, str):
        return f"[{part.type} {mime}, {len(data):,} chars of base64 (about {len(data) * 3 // 4:,} bytes)]"
    uri = source.get("fileUri") or source.get("file_uri")
    return f"[{part.type} {mime}{' ' + str(uri) if uri else ''}]"


def opaque_signatures(part: Part) -> Part:
    """The part as shown: a thought signature is opaque, so only its size is worth a line."""
    if not isinstance(part.raw, dict) or not any(key in part.raw for key in reader.SIGNATURES):
        return part
    raw = {
        key: f"({len(str(value)):,} chars, opaque)" if key in reader.SIGNATURES else value
        for key, value in part.raw.items()
    }
    return dataclasses.replace(part, raw=raw)


def shown(items: list[Item]) -> list[Item]:
    """Items as shown: copies only of those holding a thought signature, so a re-sent history costs nothing."""
    result = []
    for item in items:
        parts = [opaque_signatures(part) for part in item.parts]
        same = all(new is old for new, old in zip(parts, item.parts))
        result.append(item if same else dataclasses.replace(item, parts=parts))
    return result


# Requests ----------------------------------------------------------------------------------------


def request_config(turn: Turn) -> dict:
    """The settings, generationConfig's spread out one per line (`generationConfig.temperature`…), so a later
    request shows only the setting that changed, and a response schema gets a line of its own."""
    config = {"model": turn.model} if turn.model is not None else {}
    for key, value in turn.config.items():
        if key in GENERATION_CONFIG and isinstance(value, dict) and value:
            config |= {f"{key}.{name}": setting for name, setting in value.items()}
        else:
            config[key] = value
    return config


def render_request(turn: Turn, label: str, state: dict) -> Rendered:
    account = code_assist.account_call(turn.path)
    if account is not None:  # its fields said once per method, apart from the model calls' settings
        rendered = Rendered([Markdown("**Code Assist account call**: {}").format(account), ""])
        title = f"Fields of {code_assist.method_of(turn.path)}"
        rendered.add(*config_lines(turn.config, set(), label, state, title))
        rendered.unrecognised |= set(turn.unrecognised)
        return rendered
    rendered = Rendered(config_lines(request_config(turn), set(), label, state))
    if turn.system:
        rendered.add(turn_markdown.instructions_section("System instruction", turn.system, label, state), "")
    if turn.tools:
        rendered.add(*tools_section(turn.tools, label, state, with_namespace=False))
    turn_markdown.history_items(turn, state, rendered, ("Contents", "content", "contents"), attachment, shown)
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


# Responses ---------------------------------------------------------------------------------------


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    rendered = turn_markdown.response_opening(turn, state, error_text)
    if code_assist.is_account_call(turn.path):
        if not turn.request_bytes:  # a GET: no request was rendered to name the call
            rendered.add(Markdown("**Code Assist account call**: {}").format(code_assist.account_call(turn.path)), "")
        rendered.add(*turn_markdown.response_fields_lines(turn))
        rendered.unrecognised |= set(turn.unrecognised)
        return rendered  # an account call has no answer of the model's
    if not turn.events and turn.usage is not None and "totalTokens" in turn.usage.raw and not turn.output:
        count = Markdown("**Token count** (countTokens): {} tokens").format(counted(turn.usage.input))
        if turn.usage.cache_read is not None:
            count = Markdown("{}, {} of them in the cached content").format(count, counted(turn.usage.cache_read))
        rendered.add(count, "")
        extra = {key: value for key, value in turn.usage.raw.items() if key not in COUNT_FIELDS and value}
        if extra:
            rendered.add(details("Other count fields", json_block(extra)), "")
        rendered.unrecognised |= set(turn.unrecognised)
        return rendered  # counting is not spending: no tokens for the header
    output = dataclasses.replace(turn, output=shown(turn.output))
    turn_markdown.output_section(output, state.setdefault("calls", {}), rendered, attachment)
    for line in part_fields(turn):
        rendered.add(line, "")
    for item in turn.output:
        rendered.add(*candidate_lines(turn, item))
    if turn.usage is not None:
        extra = usage_counts(turn.usage.raw, rendered, USAGE_FIELDS, TOKEN_COLUMNS)
        if extra:
            rendered.add(details("Other usage", json_block(extra)), "")
    if turn.events and turn.stop_reason is None and not turn.errors:
        rendered.add(Markdown("**No finish reason**: the stream ended before a chunk with `finishReason`."), "")
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


def part_fields(turn: Turn) -> list[Markdown]:
    """The fields of answer parts that the output above does not show (a function call's thought signature):
    named, opaque ones by their size only."""
    lines = []
    for item in turn.output:
        for position, part in enumerate(item.parts, start=1):
            if part.kind in ("other", "image") or not isinstance(part.raw, dict) or not part.raw:
                continue  # shown whole already
            facts = [
                Markdown("{} ({:,} chars, opaque)").format(key, len(str(value)))
                if key in reader.SIGNATURES
                else Markdown("{} {}").format(key, inline(json.dumps(value, ensure_ascii=False)))
                for key, value in part.raw.items()
            ]
            lines.append(
                Markdown("Part {} ({}) also carries: {}").format(position, part.type, Markdown("; ").join(facts))
            )
    return lines


def candidate_lines(turn: Turn, item: Item) -> list[Markdown]:
    """The candidate's facts (finish reason, ids), then every other field it or its response carried: safety
    ratings, citations, grounding, prompt feedback…"""
    metadata = item.metadata
    facts = [("finishReason", metadata.get("finishReason"))] if "finishReason" in metadata else []
    if isinstance(metadata.get("index"), int) and len(turn.output) > 1:
        facts.insert(0, ("index", metadata["index"]))
    facts += [("responseId", turn.response_id)] if turn.response_id else []
    facts += [("modelVersion", metadata["modelVersion"])] if "modelVersion" in metadata else []
    lines = [turn_markdown.facts_line("Candidate", facts), ""] if facts else []
    feedback = metadata.get("promptFeedback")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        lines += [Markdown("**Prompt blocked**: blockReason {}").format(inline(str(feedback["blockReason"]))), ""]
    rest = {key: value for key, value in metadata.items() if key not in SHOWN_FIELDS}
    if rest:
        names = ", ".join(rest)
        lines += [details(f"Other candidate and response fields ({first_line(names, 100)})", json_block(rest)), ""]
    return lines


def error_text(error) -> Markdown:
    """Google's error shape: `{"code": 400, "message": …, "status": "INVALID_ARGUMENT", "details": […]}`; the
    details and any other field come before the message, which may run over lines."""
    if isinstance(error, dict) and ("status" in error or "message" in error):
        rest = {key: value for key, value in error.items() if key not in ("status", "code", "message")}
        return Markdown("{} ({}){}: {}").format(
            inline(str(error.get("status", "?"))),
            inline(str(error.get("code", "?"))),
            Markdown("; {}").format(inline(json.dumps(rest, ensure_ascii=False, default=str))) if rest else "",
            turn_markdown.error_message(str(error.get("message", ""))),
        )
    if isinstance(error, dict) and isinstance(error.get("promptFeedback"), dict):
        return Markdown("prompt blocked: {}").format(inline(json.dumps(error["promptFeedback"], ensure_ascii=False)))
    return inline(json.dumps(error, ensure_ascii=False, default=str))


def render_epilogue(state: dict) -> Rendered:
    """The whole conversation of the last request in one place, with the answer it got."""
    return turn_markdown.full_conversation(state, "contents", "content", attachment, shown)
