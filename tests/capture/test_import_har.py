"""The HAR reader (probe.capture.imports.har) on entries made here: HAR's timings become the capture's times where
the file gives them and stay null where it does not, base64 content is decoded, Chrome's `_webSocketMessages` become
a socket's turns (binary frames included), and a HAR is told from its content, whatever its name."""

import base64
import json

from probe.capture.imports import har
from probe.capture.imports.formats import Skipped, detect
from probe.capture.imports.masking import mask_line

START = "2026-01-01T00:00:00.000Z"
EPOCH = 1767225600.0


def lines_of(tmp_path, *entries, name="x.har") -> list:
    source = tmp_path / name
    source.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": list(entries)}}))
    return list(har.read(source))


def test_times_are_kept_where_the_file_gives_them_and_null_where_it_does_not(tmp_path):
    base = {"request": {"method": "GET", "url": "https://h/v1/models"}, "response": {"status": 200}}
    timings = {"blocked": 2, "dns": -1, "connect": 10, "ssl": 5, "send": 3, "wait": 100, "receive": 50}
    timed, untimed, unstarted = lines_of(
        tmp_path, base | {"startedDateTime": START, "timings": timings}, base | {"startedDateTime": START}, base
    )
    # ssl is part of connect in HAR; -1 is "does not apply".
    assert timed["timing"] == {"start": EPOCH, "request_end": EPOCH + 0.015, "response_headers": EPOCH + 0.115,
                               "first_byte": EPOCH + 0.115, "end": EPOCH + 0.165}  # fmt: skip
    nulls = {"request_end": None, "response_headers": None, "first_byte": None, "end": None}
    assert untimed["timing"] == {"start": EPOCH, **nulls} and unstarted["timing"] == {"start": None, **nulls}


def test_bodies_headers_and_a_failed_request(tmp_path):
    sse = 'event: message_start\ndata: {"type":"message_start"}\n\n'
    answered, failed = lines_of(
        tmp_path,
        {
            "startedDateTime": START,
            "request": {
                "method": "POST",
                "url": "https://api.anthropic.com/v1/messages?beta=true",
                "httpVersion": "HTTP/2",
                "headers": [{"name": "content-type", "value": "application/json"}],
                "postData": {"mimeType": "application/json", "text": '{"model": "claude", "stream": true}'},
            },
            "response": {
                "status": 200,
                "statusText": "OK",
                "headers": [
                    {"name": "content-type", "value": "text/event-stream"},
                    {"name": "content-encoding", "value": "gzip"},
                ],
                "content": {"text": base64.b64encode(sse.encode()).decode(), "encoding": "base64"},
            },
        },
        {"request": {"method": "POST", "url": "https://h/x"}, "response": {"status": 0, "_error": "net::ERR_FAILED"}},
    )
    request, response = answered["request"], answered["response"]
    assert request["path"] == "/v1/messages?beta=true" and request["http_version"] == "HTTP/2"
    assert request["body"] == {"model": "claude", "stream": True} and request["body_format"] == "json"
    # Decoded from base64, and not decoded again for its Content-Encoding: HAR's content is the decoded body.
    assert response["body"] == sse and response["body_format"] == "text" and response["status"] == 200
    assert answered["complete"] is True and answered["error"] is None
    assert failed["response"] is None and failed["error"] == "net::ERR_FAILED" and failed["complete"] is False


def test_chrome_websocket_messages_become_the_sockets_turns(tmp_path):
    frames = [
        {"type": "send", "time": EPOCH + 1, "opcode": 1, "data": '{"type":"response.create"}'},
        {"type": "receive", "time": EPOCH + 2, "opcode": 1, "data": '{"type":"response.created"}'},
        {"type": "receive", "time": EPOCH + 3, "opcode": 2, "data": base64.b64encode(b"\x00\x01").decode()},
        {"type": "receive", "time": EPOCH + 4, "opcode": 1, "data": '{"type":"response.completed"}'},
        {"type": "send", "time": EPOCH + 5, "opcode": 1, "data": '{"type":"response.create"}'},
    ]
    first, second = lines_of(
        tmp_path,
        {
            "startedDateTime": START,
            "request": {"method": "GET", "url": "wss://api.openai.com/v1/responses", "headers": []},
            "response": {"status": 101, "headers": []},
            "_webSocketMessages": frames,
        },
    )
    assert first["kind"] == second["kind"] == "websocket" and first["flow_id"] == second["flow_id"] == "har-1"
    assert (first["ended_by"], first["complete"], second["ended_by"], second["complete"]) == (
        "terminal-event", True, "socket-closed", False
    )  # fmt: skip
    assert [(frame["from"], frame["t"], frame["type"]) for frame in first["messages"]] == [
        ("client", EPOCH + 1, "text"), ("server", EPOCH + 2, "text"), ("server", EPOCH + 3, "binary"),
        ("server", EPOCH + 4, "text"),
    ]  # fmt: skip
    assert first["messages"][2]["body"] == "AAE=" and first["messages"][0]["body"] == {"type": "response.create"}
    assert first["timing"] == {"start": EPOCH + 1, "first_byte": EPOCH + 2, "end": EPOCH + 4}
    masked, fresh = mask_line(first)
    assert fresh == set() and masked["messages"][1]["body"] == {"type": "response.created"}


def test_websocket_messages_without_a_time_keep_none(tmp_path):
    frames = [
        {"type": "send", "opcode": 1, "data": '{"type":"response.create"}'},
        {"type": "receive", "opcode": 1, "data": '{"type":"response.completed"}'},
    ]
    [turn] = lines_of(
        tmp_path,
        {
            "startedDateTime": START,
            "request": {"method": "GET", "url": "wss://api.openai.com/v1/responses", "headers": []},
            "response": {"status": 101, "headers": []},
            "_webSocketMessages": frames,
        },
    )
    assert [frame["t"] for frame in turn["messages"]] == [None, None]  # not the moment of the import
    # The socket's opening (the entry's startedDateTime) is its start; when its answer came is unknown.
    assert turn["timing"] == {"start": EPOCH, "first_byte": None, "end": None}


def test_a_har_is_told_from_its_content_not_its_name(tmp_path):
    source = tmp_path / "capture.mitm"
    source.write_bytes(b"\xef\xbb\xbf" + b'{ "log" : {"creator": {"name": "Charles"}, "entries": []}}')
    assert detect(source) is har
    assert not har.sniff(b'{"entries": [], "log": {}}') and not har.sniff(b"[]") and not har.sniff(b"")


def test_an_entry_of_wrong_types_is_skipped_with_why(tmp_path):
    [skipped] = lines_of(tmp_path, {"request": {"method": "GET", "url": ["not", "text"]}})
    assert skipped == Skipped("entry 1", "not an exchange (TypeError: expected text, found list)")
