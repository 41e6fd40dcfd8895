"""The Messages API renderer: what a reader sees for Claude Code's requests and streamed answers."""

import json

from conftest import Rendering

from probe.analyse.run_totals import without_carried
from probe.apis.anthropic_messages import report as renderer
from probe.mock import messages_api
from probe.read.sse import Event

PNG_DATA = "iVBORw0KGgo" * 500
TOOLS = [
    {"name": "Bash", "description": "Executes a bash command.\nMore text.", "input_schema": {"type": "object"}},
    {
        "name": "Read",
        "description": "Reads a file.",
        "input_schema": {"type": "object"},
        "cache_control": {"type": "ephemeral"},
    },
    {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
]
FIRST = {
    "model": "claude-opus-5-5",
    "max_tokens": 32000,
    "thinking": {"type": "enabled", "budget_tokens": 4000},
    "stream": True,
    "system": [
        {"type": "text", "text": "x-billing: 1"},
        {"type": "text", "text": "You are Claude Code.\nBe brief.", "cache_control": {"type": "ephemeral"}},
    ],
    "tools": TOOLS,
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>\nstay safe\n</system-reminder>"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_DATA}},
                {"type": "text", "text": "what is in this picture?", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ],
}
ANSWER = {
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": "Look at the file first.", "signature": "c2lnbmF0dXJl"},
        {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls -la"}},
    ],
}
SECOND = dict(
    FIRST,
    messages=[
        # Claude Code moves the cache marker to the newest message, and sends unmarked text as a string.
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>\nstay safe\n</system-reminder>"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_DATA}},
                {"type": "text", "text": "what is in this picture?"},
            ],
        },
        ANSWER,
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "is_error": True,
                    "content": [{"type": "text", "text": "ls: permission denied"}],
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
    ],
)


def sse(*events: dict) -> list[Event]:
    return [Event(event["type"], event) for event in events]


def answer_events(usage_end: dict) -> list[Event]:
    """A stream that cuts tool input mid-string, as the real API does."""
    return sse(
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-5-5",
                "content": [],
                "stop_reason": None,
                "usage": {
                    "input_tokens": 12,
                    "cache_creation_input_tokens": 900,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 1,
                },
            },
        },
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Look at "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "the file first."}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {}},
        },
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"comm'}},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": 'and": "ls -la"}'},
        },
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": usage_end},
        {"type": "message_stop"},
    )


def text(rendered) -> str:
    return "\n".join(rendered.lines)


def test_first_request_shows_config_system_blocks_tools_and_messages():
    rendered = Rendering(renderer).request(FIRST, "#1")
    shown = text(rendered)
    assert '- **model**: `"claude-opus-5-5"`' in shown
    assert "- **max_tokens**: `32000`" in shown
    assert '- **thinking**: `{"type": "enabled", "budget_tokens": 4000}`' in shown
    assert "System prompt (" in shown and "2 blocks" in shown
    assert 'Block 2: text, 30 chars, cache_control `{"type": "ephemeral"}`' in shown
    assert "You are Claude Code.\nBe brief." in shown
    assert "**Tools declared (3)**: Bash, Read, web_search (web_search_20250305)" in shown
    # A tool's type only as sent: Claude Code's own tools send none.
    assert '| Read |  | Reads a file. | cache_control `{"type": "ephemeral"}` |' in shown
    assert "| Bash |  | Executes a bash command. |  |" in shown
    assert "**Messages**: + 1 new message" in shown
    # The summary skips the injected reminder and names the user's words; images are placeholders.
    assert "| 1 | message | user | text, image, text | what is in this picture? (+2 more parts) |" in shown
    assert f"[base64 image/png, {len(PNG_DATA):,} chars of base64]" in shown
    assert PNG_DATA not in shown
    assert rendered.unrecognised == set()


def test_follow_up_refers_back_and_shows_only_the_new_messages():
    rendering = Rendering(renderer)
    rendering.request(FIRST, "#1")
    response = rendering.response(answer_events({"output_tokens": 30}), None, "#1")
    assert response.tokens == {"input": 12, "cache_creation": 900, "cache_read": 0, "output": 30}
    shown = text(rendering.request(SECOND, "#2"))
    assert "**Model and config**: as in #1" in shown
    assert "**System prompt** (" in shown and "the same as request #1" in shown
    assert "**Tools declared (3)**: the same set as request #1" in shown
    # The moved cache marker does not make the first message new, and the answer of #1 is carried too.
    assert "**Messages**: + 1 new message; 2 carried over from #1" in shown
    assert "| 3 | message | user | tool_result | output of Bash (an error): ls: permission denied |" in shown
    assert (
        '**tool_result**: of Bash (call_id `toolu_01`); is_error `true`; cache_control `{"type": "ephemeral"}`' in shown
    )
    assert "what is in this picture?" not in shown
    # The key-path tables count the carried messages once: only the new one is left in the body they count.
    assert without_carried(SECOND, rendering.turns["#2"], renderer)["messages"] == SECOND["messages"][2:]


def test_changed_system_prompt_is_shown_as_a_diff():
    rendering = Rendering(renderer)
    rules = "".join(f"Rule {number}: keep going.\n" for number in range(40))
    first = dict(FIRST, system=[FIRST["system"][0], {"type": "text", "text": rules + "Be brief."}])
    rendering.request(first, "#1")
    changed = dict(FIRST, system=[FIRST["system"][0], {"type": "text", "text": rules + "Be thorough."}])
    shown = text(rendering.request(changed, "#2"))
    assert "changed since request #1" in shown
    assert "-Be brief." in shown and "+Be thorough." in shown


def test_stream_assembles_thinking_text_and_tool_input():
    shown_rendered = Rendering(renderer).response(
        answer_events({"output_tokens": 30, "cache_read_input_tokens": 0}), None, "#1"
    )
    shown = text(shown_rendered)
    assert "**Events (14)**: message_start ×1, ping ×1, content_block_start ×2, content_block_delta ×6" in shown
    assert "**Thinking** (signature: 12 chars)" in shown and "Look at the file first." in shown
    assert "**Tool call** `Bash` (call_id `toolu_01`)" in shown
    assert '"command": "ls -la"' in shown  # parsed from pieces cut mid-key
    assert "**Message**: id `msg_01`, model `claude-opus-5-5`, stop_reason `tool_use`" in shown
    assert "| 12 | 900 | 0 | 30 |" in shown
    assert "No final event" not in shown
    assert shown_rendered.unrecognised == set()


def test_text_answer_error_event_and_unknown_kinds_are_shown():
    events = sse(
        {"type": "message_start", "message": {"id": "msg_02", "model": "m", "usage": {"input_tokens": 5}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello, "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "world."}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "sparkle_delta", "x": 1}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "hologram", "beam": 2}},
        {"type": "content_block_stop", "index": 1},
        {"type": "brand_new_event"},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    rendered = Rendering(renderer).response(events, None, "#1")
    shown = text(rendered)
    assert "**Output text**\n\n```text\nHello, world.\n```" in shown
    assert "**Error event**: `overloaded_error`: Overloaded" in shown
    assert '"beam": 2' in shown
    assert "**No final event**: the stream ended before `message_stop`." in shown
    assert rendered.unrecognised == {"delta sparkle_delta", "content block hologram", "event brand_new_event"}


def test_stream_cut_inside_tool_input_shows_what_arrived():
    events = answer_events({"output_tokens": 3})[:10]  # through '{"comm'
    shown = text(Rendering(renderer).response(events, None, "#1"))
    assert "**Tool call** `Bash` (call_id `toolu_01`) (cut off before its end)" in shown
    assert '{"comm' in shown and "(arguments cut off: not valid JSON)" in shown
    assert "No final event" in shown


def test_json_message_count_tokens_and_error_bodies():
    message = messages_api.plan_message({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    shown = text(Rendering(renderer).response(None, message, "#1"))
    assert "**Output text**" in shown and 'Here is my answer to "hi"' in shown
    assert "stop_reason `end_turn`" in shown
    counted = Rendering(renderer).response(None, {"input_tokens": 12345}, "#2")
    assert text(counted).startswith("**Token count** (count_tokens): 12,345 input tokens")
    assert counted.tokens == {}  # counting is not spending
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}
    assert "**Error**: `invalid_request_error`: max_tokens: too large" in text(
        Rendering(renderer).response(None, error, "#3")
    )


def test_the_message_fields_citations_and_an_errors_request_id_are_shown():
    """What a message carries beside its blocks (a refusal's details, the context edits applied, the model that
    answered), a text's citations, and the request id an error body carries, all reach the report."""
    rendering = Rendering(renderer)
    rendering.request({"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}, "#1")
    events = sse(
        {"type": "message_start", "message": {"id": "msg_r", "model": "claude-x-20260101", "role": "assistant"}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "No."}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "policy text"}},
        },
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "refusal",
                "stop_details": {"type": "refusal", "category": "cyber", "explanation": "It could enable harm."},
            },
            "context_management": {"applied_edits": [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2}]},
            "usage": {"output_tokens": 2},
        },
        {"type": "message_stop"},
    )
    shown = text(rendering.response(events, None, "#1"))
    assert "**Message**: id `msg_r`, model `claude-x-20260101`, stop_reason `refusal`" in shown
    assert "Other message fields: stop_details, context_management" in shown
    assert '"explanation": "It could enable harm."' in shown and '"cleared_tool_uses": 2' in shown
    assert "Block 1 (text) also carries: citations" in shown and '"cited_text": "policy text"' in shown
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_9"}
    assert "**Error**: `overloaded_error`: Overloaded (request_id `req_9`)" in text(
        Rendering(renderer).response(None, error, "#2")
    )
    counted = text(
        Rendering(renderer).response(
            None, {"input_tokens": 9, "context_management": {"original_input_tokens": 12}}, "#3"
        )
    )
    assert "Other fields: context_management" in counted and '"original_input_tokens": 12' in counted


def test_epilogue_rebuilds_the_last_conversation_with_its_answer():
    rendering = Rendering(renderer)
    rendering.request(FIRST, "#1")
    rendering.response(answer_events({"output_tokens": 30}), None, "#1")
    shown = text(rendering.epilogue())
    assert "## Full conversation of the last request (#1)" in shown
    assert "All 1 messages of #1, then its answer" in shown
    assert "| 2 | message | assistant | thinking, tool_use | Look at the file first. (+1 more part) |" in shown


def test_mock_streams_are_rendered_without_unknown_kinds():
    request = dict(FIRST, tools=[{"name": "Bash", "input_schema": {}}])
    events = [Event(event["type"], event) for event in messages_api.plan_events(request)]
    rendered = Rendering(renderer).response(events, None, "#1")
    shown = text(rendered)
    assert rendered.unrecognised == set()
    assert (
        "**Tool call** `Bash`" in shown
        and json.dumps(messages_api.HARMLESS_CALLS[0][1], indent=2).splitlines()[1] in shown
    )
    assert rendered.tokens["cache_creation"] > 0 and rendered.tokens["cache_read"] == 0
