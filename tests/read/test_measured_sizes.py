"""Sizes a capture states are never trusted: every body's size is measured from what its line holds (text, base64,
JSON, a WebSocket frame, a body kept in bodies/), the telemetry decoder's cap applies to that measure, and an
import writes the measured size and hash, whatever the source claimed."""

import base64
import hashlib
import json
import os

import pytest

from probe.analyse.hosts import events
from probe.capture.imports import traffic_jsonl
from probe.capture.imports.masking import mask_line
from probe.read.traffic import exchange_of_line

PROTOBUF = os.urandom(events.BODY_LIMIT + 4096)  # past the telemetry cap, as bytes no decoder can read short
TEXT = "log line with a long tail " * 200_000  # 5.2 MB of text
JSON_VALUE = {"events": [{"name": f"event {n}", "attributes": {"k": "v" * 40}} for n in range(60_000)]}


def line(request_body: dict, path: str = "/v1/logs", messages: list | None = None) -> dict:
    return {
        "schema": 1,
        "kind": "websocket" if messages else "http",
        "id": "x",
        "proxy": "all-hosts",
        "timing": {},
        "request": {"method": "POST", "url": f"https://telemetry.example{path}", "path": path, "headers": [],
                    **request_body},
        "response": {"status": 200, "headers": [], "body": None, "body_format": "empty", "body_size": 0},
        **({"messages": messages} if messages else {}),
    }  # fmt: skip


def read(entry: dict, warnings: list | None = None):
    return exchange_of_line(json.dumps(entry).encode(), 1, None, 1, warnings if warnings is not None else [])


BODIES = {
    "base64": ({"body": base64.b64encode(PROTOBUF).decode(), "body_format": "base64"}, len(PROTOBUF)),
    "text": ({"body": TEXT, "body_format": "text"}, len(TEXT)),
    "json": ({"body": JSON_VALUE, "body_format": "json"}, len(json.dumps(JSON_VALUE, separators=(",", ":")))),
}


@pytest.mark.parametrize("claim", [100, 0, -5, "lots", None, 2**80])
@pytest.mark.parametrize("form", BODIES)
def test_a_body_is_as_large_as_what_its_line_holds_whatever_it_claims(form, claim):
    fields, true_size = BODIES[form]
    exchange = read(line(fields | {"body_size": claim}))
    assert exchange.request_body.size == true_size
    # The cap on decoding telemetry reads that measure: a body past it is noted, never decoded.
    decoded = events.decode(exchange, "otlp")
    assert decoded.names == [] and decoded.note == (
        f"otlp body of {true_size:,} bytes not decoded (over {events.BODY_LIMIT:,})"
    )


def test_a_json_body_keeps_a_stated_size_only_as_the_form_it_was_sent_in():
    value = {"a": [1, 2, 3], "b": "héllo"}
    indented = json.dumps(value, indent=2, ensure_ascii=False).encode()
    compact = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    assert read(line({"body": value, "body_format": "json", "body_size": len(indented)})).request_body.size == len(
        indented
    )
    for claim in (compact - 1, 3, 9 * compact, 10**12):  # smaller than the body, or no form of it
        assert read(line({"body": value, "body_format": "json", "body_size": claim})).request_body.size == compact


def test_a_websocket_frame_and_a_body_file_are_measured_too(tmp_path):
    frame = {"from": "client", "t": None, "type": "binary", "size": 1, "body": base64.b64encode(b"x" * 5000).decode(),
             "body_format": "base64"}  # fmt: skip
    exchange = read(line({"body": None, "body_format": "empty"}, "/v1/responses", [frame]))
    assert [f.body.size for f in exchange.frames] == [5000]
    data = b"z" * 70_000
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / digest).write_bytes(data)
    entry = line({"body_file": f"bodies/{digest}", "body_file_size": len(data), "body_format": "text",
                  "body_size": 12})  # fmt: skip
    warnings: list[str] = []
    exchange = exchange_of_line(json.dumps(entry).encode(), 1, None, 1, warnings, tmp_path)
    assert warnings == [] and exchange.request_body.size == len(data) and exchange.request_body.value == "z" * 70_000
    exchange = exchange_of_line(json.dumps(entry).encode(), 1, None, 1, warnings, tmp_path / "elsewhere")
    assert exchange.request_body.size == 0 and len(warnings) == 1  # left out: nothing is there to measure


def test_an_import_records_the_measured_size_and_hash_never_the_claimed_ones(tmp_path):
    frame = {"from": "server", "t": None, "type": "text", "size": 3, "sha256": "0" * 64, "body": "a frame of text"}
    lying = line({"body": TEXT, "body_format": "text", "body_size": 100, "body_sha256": "f" * 64}, "/v1/x", [frame])
    lying["response"] |= {"body": {"ok": True}, "body_format": "json", "body_size": 10**9}
    source = tmp_path / "traffic.jsonl"
    source.write_text(json.dumps(lying) + "\n")
    [imported] = list(traffic_jsonl.read(source))
    masked, _ = mask_line(imported)
    request, response, written = masked["request"], masked["response"], masked["messages"][0]
    assert (request["body_size"], request["body_sha256"]) == (len(TEXT), hashlib.sha256(TEXT.encode()).hexdigest())
    assert (response["body_size"], response["body_sha256"]) == (11, hashlib.sha256(b'{"ok":true}').hexdigest())
    assert (written["size"], written["sha256"]) == (15, hashlib.sha256(b"a frame of text").hexdigest())
