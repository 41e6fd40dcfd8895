"""The receiver of --agent-telemetry on its own: OTLP/HTTP exports of each signal, as protobuf, JSON, gzip or in
chunks, land in telemetry.jsonl as the same records, masked; an export too large or unreadable is one line saying so,
and the receiver goes on taking exports, on 127.0.0.1 only."""

import base64
import gzip
import http.client
import json
import socket
import urllib.parse

import pytest
from google.protobuf import json_format
from secret_corpus import SECRETS

from probe.capture.account.receiver import Receiver
from probe.common.otlp_records import request_class

SECRET = SECRETS[0]
EXPORTS = {
    "logs": {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "an-agent"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000000000000000",
                                "body": {"stringValue": "claude_code.api_request"},
                                "attributes": [
                                    {"key": "event.name", "value": {"stringValue": "api_request"}},
                                    {"key": "input_tokens", "value": {"intValue": "12"}},
                                    {"key": "prompt", "value": {"stringValue": f"DB_PASSWORD={SECRET}"}},
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    },
    "traces": {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "chat",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000001000000000",
                            }
                        ]
                    }
                ]
            }
        ]
    },
    "metrics": {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "token.usage",
                                "sum": {"dataPoints": [{"asInt": "40", "timeUnixNano": "1700000000000000000"}]},
                            }
                        ]
                    }
                ]
            }
        ]
    },
}


def protobuf_of(signal: str) -> bytes:
    """The export as protobuf: OTLP/JSON writes ids in hex, protobuf's own JSON mapping reads bytes as base64."""
    text = json.dumps(EXPORTS[signal])
    for hex_id in ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"):
        text = text.replace(hex_id, base64.b64encode(bytes.fromhex(hex_id)).decode())
    return json_format.ParseDict(json.loads(text), request_class(signal)()).SerializeToString()


def post(base: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes, str]:
    """POST to base + path (base: the receiver's endpoint, its token in its path)."""
    place = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(place.netloc, timeout=10)
    connection.request("POST", place.path + path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, data, answer.getheader("content-type")


def sent_in_chunks(body: bytes) -> bytes:
    half = len(body) // 2
    return (
        b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    )


@pytest.fixture
def receiver(tmp_path):
    running = Receiver(tmp_path / "telemetry.jsonl", limit=64 * 1024).start()
    yield running
    running.stop()


def lines_of(receiver: Receiver) -> list[dict]:
    return [json.loads(line) for line in receiver.path.read_text().splitlines()]


def without_arrival(line: dict) -> dict:
    return {key: value for key, value in line.items() if key not in ("received", "encoding", "export")}


@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
def test_each_encoding_of_an_export_lands_as_the_same_records(receiver, signal):
    path = f"/v1/{signal}"
    protobuf, as_json = protobuf_of(signal), json.dumps(EXPORTS[signal]).encode()
    sent = [
        (protobuf, {"Content-Type": "application/x-protobuf"}),
        (as_json, {"Content-Type": "application/json"}),
        (gzip.compress(protobuf), {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}),
        (
            sent_in_chunks(gzip.compress(as_json)),
            {"Content-Type": "application/json", "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"},
        ),
    ]
    answers = [post(receiver.endpoint, path, body, headers) for body, headers in sent]
    # OTLP/HTTP: 200 with the empty Export*ServiceResponse, in the request's encoding.
    assert answers == [
        (200, b"", "application/x-protobuf"),
        (200, b"{}", "application/json"),
        (200, b"", "application/x-protobuf"),
        (200, b"{}", "application/json"),
    ]
    lines = lines_of(receiver)
    assert [(line["export"], line["encoding"]) for line in lines] == [
        (0, "protobuf"),
        (1, "json"),
        (2, "protobuf"),
        (3, "json"),
    ]
    assert len({json.dumps(without_arrival(line), sort_keys=True) for line in lines}) == 1
    assert all(line["signal"] == signal and "unreadable" not in line for line in lines)
    assert receiver.exports == 4 and receiver.records == 4
    if signal == "logs":
        assert lines[0]["attributes"]["input_tokens"] == 12
        assert lines[0]["resource"]["service.name"] == "an-agent"
    assert SECRET not in receiver.path.read_text()  # masked at any depth, as the traffic is


def test_an_oversized_and_a_garbage_export_are_a_line_each_and_the_receiver_goes_on(receiver):
    too_large = post(
        receiver.endpoint, "/v1/logs", b"\x00" * (64 * 1024 + 1), {"Content-Type": "application/x-protobuf"}
    )
    bomb = gzip.compress(b" " * (1024 * 1024))  # small as sent, over the limit once unpacked
    unpacked_too_large = post(
        receiver.endpoint, "/v1/logs", bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    garbage = post(
        receiver.endpoint, "/v1/traces", b"\xff\xfe not protobuf", {"Content-Type": "application/x-protobuf"}
    )
    wrong_path = post(receiver.endpoint, "/v1/other", b"{}", {"Content-Type": "application/json"})
    still = post(receiver.endpoint, "/v1/metrics", protobuf_of("metrics"), {"Content-Type": "application/x-protobuf"})
    assert [too_large[0], unpacked_too_large[0], garbage[0], wrong_path[0], still[0]] == [413, 413, 200, 404, 200]
    lines = lines_of(receiver)
    assert [line.get("unreadable", "")[:20] for line in lines[:3]] == [
        "65,537 bytes, over t",
        "over the 65,536-byte",
        "ValueError: not an O",
    ]
    assert [(line["signal"], line["export"]) for line in lines] == [
        ("logs", 0),
        ("logs", 1),
        ("traces", 2),
        ("metrics", 3),
    ]
    assert lines[2]["size"] == 15 and lines[3]["name"] == "token.usage"
    assert receiver.records == 1


def test_it_listens_on_this_machine_only(receiver):
    host, port = receiver.server.server_address[:2]
    assert host == "127.0.0.1" and receiver.url == f"http://127.0.0.1:{port}"
    outward = [
        address[4][0]
        for address in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not address[4][0].startswith("127.")
    ]
    for address in outward:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()
