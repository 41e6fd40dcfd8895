"""The Chat Completions renderer: what a reader sees for qwen-code's requests and streamed answers, and others'."""

import json

from conftest import Rendering

from probe.apis.openai_chat import report as renderer
from probe.mock import chat_api
from probe.read.sse import Event, parse

SHELL = {
    "type": "function",
    "function": {
        "name": "run_shell_command",
        "description": "Executes a given shell command (as `bash -c <command>`) in a subprocess.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}, "is_background": {"type": "boolean"}},
            "required": ["command"],
        },
    },
}
READ = {
    "type": "function",
    "function": {"name": "read_file", "description": "Reads a file.", "parameters": {"type": "object"}, "strict": True},
}
# The shape of qwen-code 0.24.4's first request (texts shortened): one system message, then the prompt after
# the context it injects as parts of the same user message.
FIRST = {
    "model": "qwen-mock",
    "messages": [
        {"role": "system", "content": "You are Qwen Code, a non-interactive CLI agent.\nBe brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>\nThe following skills are available.\n</system-reminder>"},
                {"type": "text", "text": "<system-reminder>\nThe current date is: Monday.\n</system-reminder>"},
                {"type": "text", "text": "write a hello world function"},
            ],
        },
    ],
    "max_tokens": 32768,
    "stream": True,
    "stream_options": {"include_usage": True},
    "tools": [READ, SHELL],
}
CALL_ID = "call_f6185261493648e68a548c65"
ANSWER = {
    "role": "assistant",
    "content": "Let me run run_shell_command first.",
    "tool_calls": [
        {
            "id": CALL_ID,
            "type": "function",
            "function": {"name": "run_shell_command", "arguments": '{"command":"echo agent-probe tool call"}'},
        }
    ],
}
RESULT = {
    "role": "tool",
    "tool_call_id": CALL_ID,
    "content": [{"type": "text", "text": "Command: echo agent-probe tool call\nOutput: agent-probe tool call"}],
}
SECOND = dict(FIRST, messages=FIRST["messages"] + [ANSWER, RESULT])


def text(rendered) -> str:
    return "\n".join(rendered.lines)


def chunk(delta: dict, finish_reason=None, index: int = 0, **more) -> Event:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return Event(
        None, {"id": "chatcmpl-7", "object": "chat.completion.chunk", "model": "m-1", "choices": [choice]} | more
    )


def usage_chunk(usage: dict) -> Event:
    return Event(None, {"id": "chatcmpl-7", "object": "chat.completion.chunk", "choices": [], "usage": usage})


DONE = Event(None, "[DONE]")
USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 80,
    "total_tokens": 1280,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 50, "accepted_prediction_tokens": 3},
}


def mock_events(request: dict) -> list[Event]:
    """The mock's answer as the capture holds it: `data:` lines, then `data: [DONE]`."""
    body = "".join(f"data: {json.dumps(data)}\n\n" for data in chat_api.plan_chunks(request)) + "data: [DONE]\n\n"
    return parse(body)


def test_first_request_shows_config_system_prompt_tools_and_messages():
    rendered = Rendering(renderer).request(FIRST, "#1")
    shown = text(rendered)
    assert '- **model**: `"qwen-mock"`' in shown and "- **max_tokens**: `32768`" in shown
    assert '- **stream_options**: `{"include_usage": true}`' in shown
    assert "<details><summary>System prompt (57 chars)</summary>" in shown
    assert "You are Qwen Code, a non-interactive CLI agent.\nBe brief." in shown
    assert "**Tools declared (2)**: read_file, run_shell_command" in shown
    assert "| read_file | function | Reads a file. | strict `true` |" in shown
    assert "**Messages**: + 2 new messages" in shown
    assert "messages\\[1\\] system: in the System prompt above." in shown
    # The summary names the user's words, not the reminders injected before them.
    assert "| 2 | message | user | text, text, text | write a hello world function (+2 more parts) |" in shown
    assert shown.count("You are Qwen Code") == 1  # the system message is not shown again as a message
    assert rendered.unrecognised == set()


def test_stream_joins_tool_call_arguments_and_reads_usage():
    rendering = Rendering(renderer)
    rendering.request(FIRST, "#1")
    rendered = rendering.response(mock_events(FIRST), None, "#1")
    shown = text(rendered)
    turn = rendering.turns["#1"]
    [message] = turn.output
    texts, call = message.parts
    assert texts.text == "Let me run run_shell_command first."
    assert (call.name, call.arguments) == ("run_shell_command", dict(chat_api.HARMLESS_CALLS[0][1]))
    assert call.call_id.startswith("call_") and call.complete
    assert "**Tool call** `run_shell_command`" in shown and '"command": "echo agent-probe tool call"' in shown
    assert f"**Completion**: id `{turn.response_id}`, model `qwen-mock`, finish_reason `tool_calls`" in shown
    assert turn.stop_reason == "tool_calls" and turn.response_id.startswith("chatcmpl-")
    usage = chat_api.usage_for(FIRST, rendered.tokens["output"])
    assert rendered.tokens == {
        "input": usage["prompt_tokens"],
        "cached": 0,
        "output": usage["completion_tokens"],
        "reasoning": 0,
        "total": usage["total_tokens"],
    }
    assert "**Events (" in shown and "\\[DONE\\] ×1" in shown and "No final event" not in shown
    assert rendered.unrecognised == set()


def test_reasoning_interleaved_calls_and_usage_details_are_assembled():
    events = [
        chunk({"role": "assistant", "content": None, "reasoning_content": "Check "}),
        chunk({"reasoning_content": "the files."}),
        chunk({"content": "Reading "}),
        chunk({"content": "two files."}),
        # Two calls streamed side by side, told apart by `index`; one server repeats the name in every delta.
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "read_file"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "read_file"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "read_file", "arguments": '{"pa'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"path": "b.py"}'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'th": "a.py"}'}}]}),
        chunk({}, "tool_calls", system_fingerprint="fp_1"),
        usage_chunk(USAGE),
        DONE,
    ]
    rendering = Rendering(renderer)
    shown = text(rendering.response(events, None, "#1"))
    turn = rendering.turns["#1"]
    reasoning, words, first, second = turn.output[0].parts
    assert (reasoning.kind, reasoning.text) == ("reasoning", "Check the files.")
    assert words.text == "Reading two files."
    assert (first.name, first.call_id, first.arguments) == ("read_file", "call_a", {"path": "a.py"})
    assert (second.name, second.call_id, second.arguments) == ("read_file", "call_b", {"path": "b.py"})
    usage = turn.usage
    assert (usage.input, usage.output, usage.cache_read, usage.reasoning) == (1200, 80, 1024, 50)
    assert "**Thinking**" in shown and "Check the files." in shown
    assert "| 1,200 | 1,024 | 80 | 50 | 1,280 |" in shown
    assert 'Other usage: `{"completion_tokens_details": {"accepted_prediction_tokens": 3}}`' in shown
    assert "finish_reason `tool_calls`, system_fingerprint `fp_1`" in shown


def test_follow_up_carries_the_history_and_names_the_call():
    rendering = Rendering(renderer)
    rendering.request(FIRST, "#1")
    rendering.response(mock_events(FIRST), None, "#1")
    answer = rendering.turns["#1"].output[0]
    call = answer.parts[1]
    resent = {
        "role": "assistant",
        "content": answer.parts[0].text,
        "tool_calls": [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
        ],
    }
    result = dict(RESULT, tool_call_id=call.call_id)
    follow_up = dict(FIRST, messages=FIRST["messages"] + [resent, result])
    shown = text(rendering.request(follow_up, "#2"))
    assert "**Model and config**: as in #1" in shown
    assert "**System prompt** (57 chars): the same as request #1" in shown
    assert "**Tools declared (2)**: the same set as request #1" in shown
    # The answer #1 streamed is the assistant message #2 sends back: carried over, not new.
    assert "**Messages**: + 1 new message; 3 carried over from #1" in shown
    assert "| 4 | message | tool | text | output of run_shell_command: Command: echo agent-probe tool call |" in shown
    assert "write a hello world function" not in shown
    final = text(rendering.response(mock_events(follow_up), None, "#2"))
    assert 'Here is my answer to "write a hello world function"' in final and "finish_reason `stop`" in final
    epilogue = text(rendering.epilogue())
    assert "## Full conversation of the last request (#2)" in epilogue
    assert "All 4 messages of #2, then its answer" in epilogue
    assert (
        "| 3 | message | assistant | text, function | Let me run run_shell_command first. (+1 more part) |" in epilogue
    )


def test_every_role_and_content_part_is_shown_without_its_bytes():
    image = "data:image/png;base64," + "iVBORw0KGgo" * 300
    audio = "UklGRiQAAABXQVZF" * 300
    body = {
        "model": "gpt-legacy",
        "functions": [{"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}],
        "function_call": "auto",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {
                "role": "user",
                "name": "alice",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": image, "detail": "low"}},
                    {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}},
                    {"type": "file", "file": {"filename": "notes.pdf", "file_id": "file-1"}},
                    {"type": "hologram", "beam": 2},
                ],
            },
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "I cannot."}]},
            {"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": "{}"}},
            {"role": "function", "name": "get_weather", "content": "sunny"},
        ],
    }
    rendered = Rendering(renderer).request(body, "#1")
    shown = text(rendered)
    assert "**Tools declared (1)**: get_weather" in shown and '- **function_call**: `"auto"`' in shown
    assert "messages\\[1\\] developer: in the System prompt above." in shown and "Answer in French." in shown
    assert f"[image_url: data URL image/png, {len(image):,} chars, detail low]" in shown
    assert "(4,800 characters, opaque)" in shown and '"format": "wav"' in shown
    assert image not in shown and audio not in shown
    assert '"filename": "notes.pdf"' in shown and '"beam": 2' in shown
    assert "| 3 | message | assistant | refusal | I cannot. |" in shown
    assert "| 4 | message | assistant | function_call | get_weather(\\{}) |" in shown
    assert "| 5 | message | function | text | output of an earlier call: sunny |" in shown
    assert '"name": "alice"' in shown  # a field the reader has no place for stays in the message's metadata
    assert rendered.unrecognised == {"content part hologram"}


def test_json_completion_several_choices_and_error_bodies():
    completion = chat_api.plan_completion(FIRST)
    completion["choices"].append(
        {"index": 1, "message": {"role": "assistant", "content": "Another way."}, "finish_reason": "length"}
    )
    rendering = Rendering(renderer)
    rendered = rendering.response(None, completion, "#1")
    shown = text(rendered)
    assert "**Choice `0`**" in shown and "**Choice `1`**" in shown and "Another way." in shown
    assert '"command": "echo agent-probe tool call"' in shown
    assert rendering.turns["#1"].stop_reason == "tool_calls, length"
    assert rendered.tokens["input"] == completion["usage"]["prompt_tokens"]
    error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "bad_key"}}
    assert "**Error**: `invalid_request_error` `bad_key`: `Incorrect API key provided`" in text(
        Rendering(renderer).response(None, error, "#2")
    )
    gateway = text(Rendering(renderer).response(None, {"detail": "Not Found"}, "#3"))
    assert '"detail": "Not Found"' in gateway  # a body of no known shape is shown, not dropped


def test_a_call_keeps_the_id_and_name_of_its_first_fragment():
    events = [
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "bash"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "", "type": "function", "function": {"name": "", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": None, "function": {"arguments": '"command": "ls"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    rendering = Rendering(renderer)
    rendering.response(events, None, "#1")
    [call] = rendering.turns["#1"].output[0].parts
    assert (call.call_id, call.name, call.arguments) == ("call_1", "bash", {"command": "ls"})


def test_an_error_is_shown_as_sent_its_message_whole_and_every_field_named():
    # OpenRouter's error chunk: the upstream's own words in `metadata`, and a message that spans lines.
    error = {
        "code": 502,
        "message": "Provider returned error\n  upstream: overloaded_error",
        "metadata": {"provider_name": "Anthropic", "raw": '{"type":"overloaded_error"}'},
    }
    shown = text(Rendering(renderer).response([Event(None, {"error": error}), Event(None, "[DONE]")], None, "#1"))
    assert '**Error event**: `502` `{"metadata": {"provider_name": "Anthropic", "raw": ' in shown
    assert "```text\nProvider returned error\n  upstream: overloaded_error\n```" in shown  # the message whole
    vllm = {"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}
    rendering = Rendering(renderer)
    shown = text(rendering.response(None, vllm, "#2"))
    assert '**Error**: `NotFoundError` `404` `{"object": "error"}`: ``The model `x` does not exist.``' in shown
    assert rendering.turns["#2"].errors == [vllm] and not rendering.turns["#2"].unknown


def test_cut_streams_error_chunks_and_unknown_fields_are_shown():
    events = [
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"content": "lo", "sparkle": "x"}, obfuscation="abc"),
        chunk({"tool_calls": [{"index": 0, "id": "call_c", "type": "function", "function": {"name": "bash"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"comm'}}]}),
        Event(None, {"error": {"message": "upstream overloaded", "code": 529}}),
        Event(None, {"object": "vendor.heartbeat"}),
    ]
    rendered = Rendering(renderer).response(events, None, "#1")
    shown = text(rendered)
    assert "**Output text** (cut off before its end)" in shown and "Hello" in shown
    assert "**Tool call** `bash` (call_id `call_c`) (cut off before its end)" in shown
    assert '{"comm' in shown and "(arguments cut off: not valid JSON)" in shown
    assert "**Error event**: `529`: `upstream overloaded`" in shown
    assert "**No final event**: the stream ended before `data: [DONE]`." in shown
    assert '"obfuscation": "abc"' in shown and '"sparkle": "x"' in shown
    assert rendered.unrecognised == {"delta field sparkle", "event vendor.heartbeat"}


def test_hostile_shapes_do_not_raise():
    for body in (
        {"messages": [1, None, {"role": 5, "content": 7}], "tools": [3, {"type": "function", "function": 2}]},
        {"messages": "hi", "functions": {"x": 1}},
        [],
        None,
        {"messages": [{"role": "assistant", "tool_calls": [None, {"type": None}], "function_call": {"name": 1}}]},
    ):
        Rendering(renderer).request(body, "#1")
    rendering = Rendering(renderer)
    odd = rendering.request({"messages": "hi", "functions": {"x": 1}}, "#1")
    assert odd.unrecognised == {"messages that is str", "functions that is dict"}
    assert '"x": 1' in text(rendering.response(None, None, "#1"))  # shown with the exchange, as other readers do
    for events in (
        [Event(None, "not json"), Event(None, {"choices": [None, {"index": [1], "delta": 3}]})],
        [chunk({"tool_calls": [None, {"index": True, "function": {"arguments": {"a": 1}}}]})],
        [chunk({"function_call": {"name": "f", "arguments": "{}"}}, "function_call"), DONE],
    ):
        Rendering(renderer).response(events, None, "#1")
    for body in ({"choices": [None, {"message": 3}]}, "text", [1]):
        Rendering(renderer).response(None, body, "#1")


def test_legacy_function_call_stream_is_joined():
    request = {"model": "gpt-legacy", "functions": [{"name": "bash"}], "messages": [{"role": "user", "content": "hi"}]}
    rendering = Rendering(renderer)
    shown = text(rendering.response(mock_events(request), None, "#1"))
    call = rendering.turns["#1"].output[0].parts[-1]
    assert (call.type, call.name, call.call_id) == ("function_call", "bash", None)
    assert call.arguments == chat_api.HARMLESS_CALLS[1][1] and call.complete
    assert "**Tool call** `bash`\n" in shown and "call_id" not in shown.split("**Tool call**")[1].split("\n")[0]
    assert "finish_reason `function_call`" in shown


# Moonshot's Chat Completions (the Kimi Open Platform, kimi-cli's own provider), as kimi-cli 1.51.0's client
# (kosong/chat_provider/kimi.py) reads it: the streamed usage comes in the last choice, not beside the choices, and
# the cached tokens are the usage's own `cached_tokens`; its built-in tools are `builtin_function`s named under
# `function`, with no description or parameters.
MOONSHOT_USAGE = {"prompt_tokens": 6253, "completion_tokens": 33, "total_tokens": 6286, "cached_tokens": 6000}


def test_moonshot_usage_in_the_choice_and_its_cached_tokens_are_read():
    last = chunk({}, "stop")
    last.data["choices"][0]["usage"] = MOONSHOT_USAGE
    events = [chunk({"role": "assistant", "reasoning_content": "List them."}), chunk({"content": "Done."}), last, DONE]
    rendering = Rendering(renderer)
    rendered = rendering.response(events, None, "#1")
    turn = rendering.turns["#1"]
    usage = turn.usage
    assert (usage.input, usage.output, usage.cache_read) == (6253, 33, 6000)
    assert "usage" not in turn.output[0].metadata  # read as the turn's usage, not left among the choice's fields
    assert "| 6,253 | 6,000 | 33 |" in text(rendered)
    assert rendered.unrecognised == set()


def test_moonshot_cached_tokens_beside_the_choices_are_read_once():
    both = dict(MOONSHOT_USAGE, prompt_tokens_details={"cached_tokens": 6000})
    for usage in (MOONSHOT_USAGE, both):  # counted once where a server says them in both places
        rendering = Rendering(renderer)
        rendering.response([chunk({"content": "Done."}, "stop"), usage_chunk(usage), DONE], None, "#1")
        assert rendering.turns["#1"].usage.cache_read == 6000


def test_moonshot_builtin_function_is_named_by_its_function():
    request = dict(FIRST, tools=[READ, {"type": "builtin_function", "function": {"name": "$web_search"}}])
    rendering = Rendering(renderer)
    shown = text(rendering.request(request, "#1"))
    assert [tool.name for tool in rendering.turns["#1"].tools] == ["read_file", "$web_search"]
    assert [tool.type for tool in rendering.turns["#1"].tools] == ["function", "builtin_function"]
    assert "**Tools declared (2)**: read_file, $web_search" in shown
