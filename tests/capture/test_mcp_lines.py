"""The lines an HTTP MCP proxy writes to mcp.jsonl: a body's messages (a batch split, a message too big cut to its
head, a body that is not JSON), masked, and Server-Sent Events decoded however their bytes are split."""

import json

from probe.capture.recorder import record as stored
from probe.capture.recorder.mcp_lines import MESSAGE_LIMIT, BoundedBody, EventStream, message_lines

BASE = {"t": 1.0, "server": "ev", "transport": "http", "from": "agent", "http": {}}
SECRET = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"  # a GitHub token's shape


def lines_of(data: bytes) -> list[dict]:
    body = BoundedBody()
    body.add(data)
    return message_lines(body.data(), body.size, body.cut, BASE, stored.Policy())


def test_a_batch_is_one_line_per_message_each_with_its_index():
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, {"jsonrpc": "2.0", "method": "notifications/x"}]
    data = json.dumps(batch).encode()
    assert lines_of(data) == [
        BASE | {"size": len(data), "batch": 0, "message": batch[0]},
        BASE | {"size": len(data), "batch": 1, "message": batch[1]},
    ]


def test_secrets_in_a_message_are_masked_at_any_depth_of_escaping():
    arguments = json.dumps({"token": SECRET, "note": f"use {SECRET}"})  # JSON inside a JSON string
    message = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "x", "arguments": arguments}}
    [line] = lines_of(json.dumps(message).encode())
    assert SECRET not in json.dumps(line) and "[REDACTED sha256:" in line["message"]["params"]["arguments"]


def test_a_message_past_the_limit_keeps_only_its_head_and_a_body_not_json_its_text():
    big = json.dumps({"jsonrpc": "2.0", "id": 9, "result": {"text": "x" * MESSAGE_LIMIT, "key": SECRET}})
    [line] = lines_of(big.encode())
    assert line["message"] is None and line["cut"] is True and line["size"] == len(big)
    assert line["head"] == big[:2000]
    across = json.dumps(
        {"jsonrpc": "2.0", "id": 9, "result": {"text": "x" * 1940 + " " + SECRET + " " + "x" * MESSAGE_LIMIT}}
    )
    [line] = lines_of(across.encode())
    assert len(line["head"]) == 2000 and SECRET[:8] not in line["head"] and line["head"].endswith(" [REDACTED s")
    metadata = json.dumps({"resource": "http://127.0.0.1/mcp", "authorization_servers": []})
    assert lines_of(metadata.encode()) == [BASE | {"size": len(metadata), "not_json": metadata}]
    [line] = lines_of(f"Bad Gateway {SECRET}".encode())
    assert line == BASE | {"size": 52, "not_json": line["not_json"]}
    assert line["not_json"].startswith("Bad Gateway [REDACTED sha256:")


def test_events_are_decoded_however_their_bytes_are_split():
    stream = (
        b'id: 1\r\nevent: message\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'  # one event's data on two lines, CRLF
        b"id: prime\ndata:\n\n: a comment\n\n"  # a priming event (no data) and a comment: no message
        b'data: {"b": 2}\r\r'  # CR alone ends lines too
        b'data: {"c": 3}'  # the stream ends inside an event
    )
    for size in (1, 2, 7, len(stream)):
        events = EventStream()
        found = [
            body.data()
            for chunk in range(0, len(stream), size)
            for _, body in events.feed(stream[chunk : chunk + size])
        ]
        found += [body.data() for _, body in events.finish()]
        assert found == [b'{"a":\n1}', b'{"b": 2}', b'{"c": 3}'], size


def test_an_event_past_the_limit_is_counted_not_kept():
    events = EventStream()
    data = b'{"x":"' + b"y" * (MESSAGE_LIMIT + 10) + b'"}'
    found = []
    for start in range(0, len(data), 1 << 20):
        found += events.feed((b"data: " if start == 0 else b"") + data[start : start + (1 << 20)])
    found += events.feed(b"\n\n")
    [(_, body)] = found
    assert body.cut and body.size == len(data) and data.startswith(body.data()) and 2000 <= len(body.data()) <= 8000
