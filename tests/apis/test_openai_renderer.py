"""The Responses API renderer: what a reader sees for codex's requests and streamed answers."""

from conftest import Rendering

from probe.apis.openai_responses import report as renderer
from probe.mock import responses_api
from probe.read.sse import Event

CODEX_REQUEST = {
    "model": "gpt-6.1-sol",
    "stream": True,
    "reasoning": {"effort": "low"},
    "input": [
        {
            "type": "additional_tools",
            "role": "developer",
            "tools": [
                {
                    "type": "namespace",
                    "name": "functions",
                    "tools": [
                        {"type": "custom", "name": "exec", "description": "Run JavaScript"},
                        {"type": "function", "name": "wait", "description": "Wait for a cell", "parameters": {}},
                    ],
                },
                {
                    "type": "namespace",
                    "name": "clock",
                    "tools": [{"type": "function", "name": "sleep", "description": "Sleep", "parameters": {}}],
                },
            ],
        },
        {"type": "configuration_update", "settings": {"sandbox": "read-only"}},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "write a hello world function"}],
        },
        {"type": "brand_new_item", "payload": 1},
    ],
}


def events_for(request):
    return [Event(event["type"], event) for event in responses_api.plan_events(request)]


def test_request_shows_config_tools_and_every_input_item():
    rendered = Rendering(renderer).request(CODEX_REQUEST, "#1")
    text = "\n".join(rendered.lines)
    assert '- **model**: `"gpt-6.1-sol"`' in text
    assert "**Tools declared (3, in 2 namespaces)**: functions: exec (custom), wait; clock: sleep" in text
    assert "**Input**: + 5 new items" in text
    assert "| 4 | message | user | input_text | write a hello world function |" in text
    assert "You are Codex." in text
    assert rendered.unrecognised == {"input item brand_new_item"}
    assert '"payload": 1' in text  # unknown items are shown, never dropped


def test_tool_call_turn_shows_reasoning_call_and_usage():
    rendering = Rendering(renderer)
    rendering.request(CODEX_REQUEST, "#1")
    rendered = rendering.response(events_for(CODEX_REQUEST), None, "#1")
    text = "\n".join(rendered.lines)
    assert "**Reasoning summary**" in text and "I will call sleep once before answering." in text
    assert "**Tool call** `clock.sleep`" in text and '"duration_ms": 10' in text
    assert rendered.tokens["reasoning"] == 24 and rendered.tokens["total"] == rendered.tokens["input"] + 36
    assert "| input | cached | output | reasoning | total |" in text
    assert not [kind for kind in rendered.unrecognised if not kind.startswith("input item")]  # the mock's stream
    assert len(rendering.builder.contexts) == 1


def test_follow_up_links_to_the_response_it_continues_and_names_the_call():
    rendering = Rendering(renderer)
    rendering.request(CODEX_REQUEST, "#1")
    first = rendering.response(events_for(CODEX_REQUEST), None, "#1")
    response_id = rendering.turns["#1"].response_id
    [call_id] = [part.call_id for item in rendering.turns["#1"].output for part in item.parts if part.call_id]
    follow_up = {
        "type": "response.create",
        "previous_response_id": response_id,
        "input": [{"type": "function_call_output", "call_id": call_id, "output": "Sleep completed."}],
    }
    text = "\n".join(rendering.request(follow_up, "#2").lines)
    assert f"Continues response `{response_id}` from exchange #1" in text
    assert "output of clock.sleep: Sleep completed." in text
    answer = "\n".join(rendering.response(events_for(follow_up), None, "#2").lines)
    assert "**Output text**" in answer and 'return "Hello, world!"' in answer
    assert first.tokens


def test_unknown_events_are_counted_and_cut_streams_say_so():
    events = [
        Event(None, {"type": "response.created", "response": {"id": "r"}}),
        Event(None, {"type": "response.surprise", "x": 1}),
    ]
    rendered = Rendering(renderer).response(events, None, "#1")
    text = "\n".join(rendered.lines)
    assert rendered.unrecognised == {"event response.surprise"}
    assert "response.surprise ×1" in text and "No final event" in text


def test_non_streamed_response_body():
    body = {
        "object": "response",
        "id": "resp_9",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "plain answer"}]}],
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    }
    rendered = Rendering(renderer).response(None, body, "#1")
    assert "plain answer" in "\n".join(rendered.lines)
    assert rendered.tokens == {"input": 5, "cached": None, "output": 2, "reasoning": None, "total": 7}  # absent: None


def test_hostile_shapes_do_not_raise():
    for body in ({"input": [1, None, {"type": 5}]}, {"input": "just text"}, [], None, {"tools": "x"}):
        Rendering(renderer).request(body, "#1")
    Rendering(renderer).response([Event(None, "not json"), Event("x", {"type": None})], None, "#1")


def test_calls_and_text_are_recovered_from_partial_or_minimal_streams():
    added = {
        "type": "response.output_item.added",
        "item": {"id": "fc_1", "type": "function_call", "name": "shell", "call_id": "c1", "arguments": ""},
    }
    delta = {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '{"cmd": "ls"}'}
    cut = "\n".join(Rendering(renderer).response([Event(None, added), Event(None, delta)], None, "#1").lines)
    assert "**Tool call** `shell`" in cut and '"cmd": "ls"' in cut and "No final event" in cut
    # A server that sends only the final event still gets its output shown.
    final = {
        "type": "response.completed",
        "response": {
            "id": "r",
            "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": "only in the final event"}]}],
        },
    }
    text = "\n".join(Rendering(renderer).response([Event(None, final), Event(None, "[DONE]")], None, "#1").lines)
    assert "only in the final event" in text


def test_repeated_history_instructions_and_tools_are_shown_once():
    rendering = Rendering(renderer)
    first = dict(CODEX_REQUEST, instructions="Be brief.\n" * 50)
    rendering.request(first, "#1")
    answer = responses_api.plan_events(first)
    rendering.response([Event(None, event) for event in answer], None, "#1")
    outputs = answer[-1]["response"]["output"]
    follow_up = dict(
        first,
        input=first["input"]
        + outputs
        + [{"type": "function_call_output", "call_id": outputs[-1]["call_id"], "output": "done"}],
    )
    text = "\n".join(rendering.request(follow_up, "#2").lines)
    assert "**Input**: + 1 new item; 7 carried over from #1" in text  # 5 sent + 2 answered by the model
    assert "**Instructions** (500 chars): the same as request #1" in text
    assert "**Tools declared (3, in 2 namespaces)**: the same set as request #1" in text
    assert "You are Codex." not in text  # the carried-over system prompt is not repeated
    changed = dict(follow_up, instructions="Be brief.\n" * 49 + "Be kind.\n")
    text = "\n".join(rendering.request(changed, "#3").lines)
    assert "changed since request #2" in text and "+Be kind." in text
    epilogue = "\n".join(rendering.epilogue().lines)
    assert "## Full context of the last request (#3)" in epilogue and "You are Codex." in epilogue
