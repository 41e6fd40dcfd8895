"""The mock's answers to Mistral's SDK (its user agent): Mistral's shape of a chat completion, through the real
proxies, and read back with no field left unread."""

import http.client
import json
import re

from conftest import Rendering, post_json

from probe.apis.openai_chat import report as renderer
from probe.read.sse import parse

BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a shell command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    },
}
# The shape of Mistral Vibe 3.0.2's first request (texts shortened): what its mistralai SDK sends.
REQUEST = {
    "model": "mistral-vibe-cli-latest",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "list the files"}],
    "temperature": 1.0,
    "max_tokens": 250057,
    "stream": True,
    "metadata": {"call_type": "main_call", "session_id": "cf726601"},
    "tools": [BASH],
    "parallel_tool_calls": True,
    "reasoning_effort": "high",
}
SDK = {"user-agent": "mistral-client-python/2.6.0"}


def stream(base_url: str, body: dict, headers: dict) -> list:
    """The answer's events, as sent."""
    status, answered, data = post_json(base_url, "/v1/chat/completions", body, headers)
    assert status == 200 and answered["content-type"] == "text/event-stream"
    return parse(data.decode())


def test_mistral_sdk_gets_a_whole_tool_call_thinking_and_usage_in_the_last_chunk(proxied):
    start, _run = proxied
    base = start("mock").urls["model"]
    events = stream(base, REQUEST, SDK)
    *chunks, done = [event.data for event in events]
    assert done == "[DONE]"
    assert len({chunk["id"] for chunk in chunks}) == 1 and re.fullmatch(r"[0-9a-f]{32}", chunks[0]["id"])
    choices = [chunk["choices"][0] for chunk in chunks]
    # No logprobs nor refusal (Mistral sends neither); the reasoning is a thinking chunk of text chunks.
    assert all(set(choice) == {"index", "delta", "finish_reason"} for choice in choices)
    assert choices[1]["delta"]["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "The user asks: list the files."}]}
    ]
    # The tool call comes whole, name and arguments in one delta, with a 9-character id and no prefix, in the
    # last chunk, which carries the finish_reason and the usage.
    last = chunks[-1]
    (call,) = last["choices"][0]["delta"]["tool_calls"]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call["id"])
    assert call["function"] == {"name": "bash", "arguments": '{"command": "echo agent-probe tool call"}'}
    assert last["choices"][0]["finish_reason"] == "tool_calls"
    assert set(last["usage"]) == {"prompt_tokens", "total_tokens", "completion_tokens", "prompt_tokens_details"}
    assert all("usage" not in chunk for chunk in chunks[:-1])

    # OpenAI's SDK still gets OpenAI's shape: the arguments in pieces after the opening delta.
    *openai_chunks, _ = [event.data for event in stream(base, REQUEST, {"user-agent": "OpenAI/Python 2.54.0"})]
    calls = [call for chunk in openai_chunks for call in chunk["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0]["id"].startswith("call_") and len(calls) > 2

    # Read back: the thinking, the words and the call, with the usage, and nothing left unread.
    rendering = Rendering(renderer)
    rendering.request(REQUEST, "#1")
    shown = "\n".join(rendering.response(events, None, "#1").lines)
    turn = rendering.turns["#1"]
    reasoning, words, tool_call = turn.output[0].parts
    assert (reasoning.kind, reasoning.type, reasoning.text) == (
        "reasoning",
        "thinking",
        "The user asks: list the files.",
    )
    assert words.text == "Let me run bash first."
    assert (tool_call.name, tool_call.call_id) == ("bash", call["id"])
    assert tool_call.arguments == {"command": "echo agent-probe tool call"}
    assert (turn.usage.input, turn.usage.output) == (last["usage"]["prompt_tokens"], last["usage"]["completion_tokens"])
    assert turn.stop_reason == "tool_calls" and turn.unrecognised == []
    assert "The user asks: list the files." in shown


def test_mistral_history_its_thinking_documents_and_references_are_read(proxied):
    start, _run = proxied
    base = start("mock").urls["model"]
    answer = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "Run ls."}]},
            {"type": "text", "text": "Listing."},
        ],
        "tool_calls": [{"id": "L3clvU1mx", "type": "function", "index": 0,
                        "function": {"name": "bash", "arguments": '{"command": "ls"}'}}],
        "prefix": False,
    }  # fmt: skip
    result = {"role": "tool", "tool_call_id": "L3clvU1mx", "name": "bash", "content": "a.txt\n"}
    user = {
        "role": "user",
        "content": [
            {"type": "document_url", "document_url": "https://example.com/a.pdf", "document_name": "a.pdf"},
            {"type": "reference", "reference_ids": [1, 2]},
            {"type": "image_url", "image_url": "https://example.com/a.png"},
        ],
    }
    body = REQUEST | {"messages": [*REQUEST["messages"], user, answer, result], "stream": False}
    status, _headers, data = post_json(base, "/v1/chat/completions", body, SDK)
    completion = json.loads(data)
    assert status == 200 and completion["object"] == "chat.completion"
    message = completion["choices"][0]["message"]
    assert [part["type"] for part in message["content"]] == ["thinking", "text"] and message["tool_calls"] is None

    rendering = Rendering(renderer)
    rendering.request(body, "#1")
    rendering.response(None, completion, "#1")
    turn = rendering.turns["#1"]
    thinking, words, call = turn.input[3].parts
    assert (thinking.kind, thinking.text, words.text, call.call_id) == ("reasoning", "Run ls.", "Listing.", "L3clvU1mx")
    assert [part.type for part in turn.input[2].parts] == ["document_url", "reference", "image_url"]
    assert [part.kind for part in turn.output[0].parts] == ["reasoning", "text"]
    assert turn.unrecognised == []


def test_mistral_vibes_managed_settings_are_answered_as_none_enforced(proxied):
    """Mistral Vibe fetches the settings its organisation enforces (GET {vibe_base_url}/api/v1/code/managed-config)
    at every start: the mock's answer is that of an organisation that enforces none."""
    start, _run = proxied
    base = start("mock").urls["model"]
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/api/v1/code/managed-config", headers={"authorization": "Bearer k"})
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"state": "no_config", "toml": None}
    connection.close()
