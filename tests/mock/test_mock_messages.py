"""The mock's Anthropic Messages mode, chosen by path, through the real proxies and captured whole."""

import http.client
import json

from conftest import post_json, read_traffic

from probe.read.sse import parse

TOOLS = [{"name": "Read", "input_schema": {"type": "object"}}, {"name": "Bash", "input_schema": {"type": "object"}}]
PROMPT = {
    "role": "user",
    "content": [
        {"type": "text", "text": "<system-reminder>\nx\n</system-reminder>"},
        {"type": "text", "text": "write a hello world function"},
    ],
}


def stream(base_url: str, body: dict) -> list[dict]:
    status, headers, data = post_json(base_url, "/v1/messages?beta=true", body)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    return [event.data for event in parse(data.decode())]


def test_tool_use_turn_then_final_answer_to_its_tool_result(proxied):
    start, run = proxied
    proxies = start("mock")
    base = proxies.urls["model"]
    request = {
        "model": "claude-test",
        "max_tokens": 100,
        "stream": True,
        "system": "Be brief.",
        "tools": TOOLS,
        "messages": [PROMPT],
    }
    first = stream(base, request)
    assert [event["type"] for event in first[:2]] == ["message_start", "ping"]
    assert first[-2]["delta"]["stop_reason"] == "tool_use" and first[-1] == {"type": "message_stop"}
    starts = [event["content_block"] for event in first if event["type"] == "content_block_start"]
    assert [block["type"] for block in starts] == ["thinking", "text", "tool_use"]
    tool = starts[2]
    pieces = "".join(
        event["delta"]["partial_json"]
        for event in first
        if event["type"] == "content_block_delta" and event["delta"]["type"] == "input_json_delta"
    )
    assert tool["name"] == "Bash" and json.loads(pieces) == {
        "command": "echo agent-probe tool call",
        "description": "Print a marker line",
    }
    usage = first[-2]["usage"]
    assert usage["cache_creation_input_tokens"] > 0 and usage["cache_read_input_tokens"] == 0

    follow_up = dict(
        request,
        messages=[
            PROMPT,
            {"role": "assistant", "content": [dict(tool, input=json.loads(pieces))]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool["id"], "content": "agent-probe tool call"}],
            },
        ],
    )
    final = stream(base, follow_up)
    text = "".join(event["delta"]["text"] for event in final if event["type"] == "content_block_delta")
    assert text.startswith('Here is my answer to "write a hello world function"')
    assert final[-2]["delta"]["stop_reason"] == "end_turn"
    assert final[-2]["usage"]["cache_read_input_tokens"] == usage["cache_creation_input_tokens"]
    proxies.stop()
    entries = read_traffic(run)
    assert [entry["request"]["body"] for entry in entries] == [request, follow_up]
    assert all(entry["complete"] for entry in entries)


def test_json_answer_count_tokens_and_side_channels(proxied):
    start, run = proxied
    proxies = start("mock")
    base = proxies.urls["model"]
    request = {"model": "claude-test", "max_tokens": 100, "messages": [PROMPT]}
    status, _, data = post_json(base, "/v1/messages", request)
    message = json.loads(data)
    assert status == 200 and message["type"] == "message" and message["stop_reason"] == "end_turn"
    assert message["content"][0]["text"].startswith('Here is my answer to "write a hello world function"')
    status, _, data = post_json(base, "/v1/messages/count_tokens?beta=true", {"model": "m", "messages": [PROMPT]})
    assert status == 200 and json.loads(data)["input_tokens"] == len(json.dumps([PROMPT])) // 4
    status, _, data = post_json(base, "/api/event_logging/batch", {"events": []})
    assert (status, json.loads(data)) == (200, {})
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("HEAD", "/api/hello")
    assert connection.getresponse().status == 200
    connection.close()
    proxies.stop()
    paths = [
        (entry["request"]["method"], entry["request"]["path"], entry["response"]["status"])
        for entry in read_traffic(run)
    ]
    assert paths == [
        ("POST", "/v1/messages", 200),
        ("POST", "/v1/messages/count_tokens?beta=true", 200),
        ("POST", "/api/event_logging/batch", 200),
        ("HEAD", "/api/hello", 200),
    ]
