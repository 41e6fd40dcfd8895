"""The mock's Chat Completions mode, chosen by path, through the real proxies and captured whole."""

import json

from conftest import post_json, read_traffic

from probe.mock import chat_api
from probe.read.sse import parse

SHELL = {
    "type": "function",
    "function": {
        "name": "run_shell_command",
        "description": "Executes a given shell command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    },
}
READ = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
PROMPT = {
    "role": "user",
    "content": [
        {"type": "text", "text": "<system-reminder>\nThe current date is: Monday.\n</system-reminder>"},
        {"type": "text", "text": "write a hello world function"},
    ],
}
REQUEST = {
    "model": "qwen-mock",
    "messages": [{"role": "system", "content": "Be brief."}, PROMPT],
    "max_tokens": 100,
    "stream": True,
    "stream_options": {"include_usage": True},
    "tools": [READ, SHELL],
}


def stream(base_url: str, body: dict) -> list:
    status, headers, data = post_json(base_url, "/v1/chat/completions", body)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    return [event.data for event in parse(data.decode())]


def deltas(chunks: list[dict]) -> list[dict]:
    return [choice["delta"] for chunk in chunks for choice in chunk["choices"]]


def test_tool_call_turn_then_final_answer_to_its_tool_result(proxied):
    start, run = proxied
    proxies = start("mock")
    base = proxies.urls["model"]
    first = stream(base, REQUEST)
    assert first[-1] == "[DONE]"
    chunks = first[:-1]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert deltas(chunks)[0]["role"] == "assistant"
    text = "".join(delta.get("content") or "" for delta in deltas(chunks))
    assert text == "Let me run run_shell_command first."
    calls = [call for delta in deltas(chunks) for call in delta.get("tool_calls", [])]
    opening, *pieces = calls
    assert opening["function"]["name"] == "run_shell_command" and opening["id"].startswith("call_")
    assert len(pieces) == 3 and all(call["index"] == 0 and "name" not in call["function"] for call in pieces)
    arguments = "".join(call["function"]["arguments"] for call in calls)
    assert json.loads(arguments) == {"command": "echo agent-probe tool call"}  # only what the schema declares
    assert [choice["finish_reason"] for chunk in chunks for choice in chunk["choices"]][-1] == "tool_calls"
    # include_usage: a last chunk without choices holds the counts; every other chunk says `usage: null`.
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == [] and all(chunk["usage"] is None for chunk in chunks[:-1])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0

    answer = {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": opening["id"], "type": "function", "function": {"name": "run_shell_command", "arguments": arguments}}
        ],
    }
    result = {
        "role": "tool",
        "tool_call_id": opening["id"],
        "content": [{"type": "text", "text": "agent-probe tool call"}],
    }
    follow_up = dict(REQUEST, messages=REQUEST["messages"] + [answer, result])
    final = stream(base, follow_up)[:-1]
    text = "".join(delta.get("content") or "" for delta in deltas(final))
    assert text == chat_api.final_answer_text("write a hello world function")
    assert not any("tool_calls" in delta for delta in deltas(final))
    assert [choice["finish_reason"] for chunk in final for choice in chunk["choices"]][-1] == "stop"
    assert final[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == final[-1]["usage"]["prompt_tokens"] // 2
    proxies.stop()
    entries = read_traffic(run)
    assert [entry["request"]["body"] for entry in entries] == [REQUEST, follow_up]
    assert all(entry["complete"] and entry["response"]["body"].endswith("data: [DONE]\n\n") for entry in entries)


def test_without_include_usage_or_stream_and_with_legacy_or_unknown_tools(proxied):
    start, _ = proxied
    proxies = start("mock")
    base = proxies.urls["model"]
    quiet = stream(base, dict(REQUEST, stream_options=None))[:-1]
    assert all("usage" not in chunk for chunk in quiet) and all(chunk["choices"] for chunk in quiet)
    status, headers, data = post_json(base, "/v1/chat/completions", dict(REQUEST, stream=False))
    completion = json.loads(data)
    assert status == 200 and headers["content-type"] == "application/json"
    assert completion["object"] == "chat.completion" and completion["choices"][0]["finish_reason"] == "tool_calls"
    [call] = completion["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"])["command"] == "echo agent-probe tool call"
    assert completion["usage"]["completion_tokens"] > 0
    proxies.stop()
    # Only declared tools are called: with none the mock knows, it answers, unless the request requires a call.
    assert chat_api.choose_tool_call({"tools": [READ]}) is None
    assert chat_api.choose_tool_call({"tools": [READ], "tool_choice": "required"}) == ("read_file", {})
    # A client that declares the legacy `functions` gets the legacy `function_call`, streamed in pieces too.
    legacy = {"functions": [{"name": "bash", "parameters": SHELL["function"]["parameters"]}], "messages": [PROMPT]}
    [choice] = chat_api.plan_completion(legacy)["choices"]
    assert choice["finish_reason"] == "function_call" and choice["message"]["function_call"]["name"] == "bash"
    pieces = [chunk["choices"][0]["delta"].get("function_call") for chunk in chat_api.plan_chunks(legacy)]
    arguments = "".join(piece["arguments"] for piece in pieces if piece)
    assert json.loads(arguments) == {"command": "echo agent-probe tool call"}  # no description: none is declared
    plain = chat_api.plan_completion({"messages": [{"role": "user", "content": "hi"}]})
    assert plain["choices"][0]["message"]["content"].startswith('Here is my answer to "hi"')
    assert plain["choices"][0]["finish_reason"] == "stop"
