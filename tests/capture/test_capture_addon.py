"""The capture addon, driven through mitmproxy's test context without opening a socket; the flows exported from
what it recorded hold the same masked values."""

import base64
import errno
import json
import os

import pytest
import zstandard
from mitmproxy import exceptions, io
from mitmproxy.connection import ConnectionState
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage

from probe.capture.recorder import addon as capture_addon
from probe.capture.recorder.addon import Capture
from probe.capture.recorder.record import TERMINAL_EVENT
from probe.redact import masking as redaction
from probe.write.flow_file import write_flows

SSE_COMPLETED = (
    b'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n'
    b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n'
    b'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1"}}\n\n'
)


@pytest.fixture
def capture(tmp_path):
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(
            addon,
            probe_traffic=str(tmp_path / "traffic.jsonl"),
            probe_proxy_names="8080=model",
        )
        yield addon
        addon.done()


def lines(tmp_path):
    return [json.loads(line) for line in (tmp_path / "traffic.jsonl").read_text().splitlines()]


def exported(tmp_path) -> list:
    """flows.mitm made from the recorded traffic.jsonl as `export --format mitm` makes it, read back by mitmproxy."""
    warnings: list[str] = []
    with open(tmp_path / "flows.mitm", "wb") as file:
        write_flows(tmp_path / "traffic.jsonl", file, warnings)
    assert warnings == []
    with open(tmp_path / "flows.mitm", "rb") as file:
        return list(io.FlowReader(file).stream())


def recorded_once(capture, flow, chunks, tmp_path):
    """Stream one exchange through the addon and shut it down: its JSON line and its exported flow."""
    stream(capture, flow, chunks)
    capture.response(flow)
    capture.done()
    [entry] = lines(tmp_path)
    [saved] = exported(tmp_path)
    return entry, saved


def sse_flow(body_chunks, secret="sk-live-123"):
    flow = tflow.tflow(resp=True)
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    flow.request.method = "POST"
    flow.request.headers["authorization"] = f"Bearer {secret}"
    flow.request.headers["content-type"] = "application/json"
    flow.request.content = json.dumps({"model": "gpt-x", "input": "hello"}).encode()
    flow.response.headers.clear()
    flow.response.headers["content-type"] = "text/event-stream"
    flow.response.headers["set-cookie"] = "session=abc"
    flow.response.content = b""
    return flow


def stream(capture, flow, chunks, end=True):
    capture.requestheaders(flow)
    capture.responseheaders(flow)
    forwarded = [flow.response.stream(chunk) for chunk in chunks]
    if end:
        flow.response.stream(b"")
    return forwarded


def test_stream_passes_chunks_through_unchanged_and_records_them(capture, tmp_path):
    flow = sse_flow([])
    chunks = [SSE_COMPLETED[:50], SSE_COMPLETED[50:]]
    assert stream(capture, flow, chunks) == chunks
    capture.response(flow)
    [entry] = lines(tmp_path)
    assert entry["schema"] == 1 and entry["kind"] == "http" and entry["proxy"] == "model"
    assert entry["complete"] is True and entry["error"] is None
    assert entry["response"]["body"] == SSE_COMPLETED.decode()
    assert entry["response"]["body_format"] == "text"
    assert [size for _, size in entry["response"]["chunks"]] == [50, len(SSE_COMPLETED) - 50]
    assert entry["request"]["body"] == {"model": "gpt-x", "input": "hello"}
    assert entry["request"]["body_format"] == "json"
    timing = entry["timing"]
    assert timing["start"] <= timing["first_byte"] <= timing["end"]


def test_secret_headers_are_fingerprinted_and_identical_secrets_match(capture, tmp_path):
    for secret in ("sk-live-123", "sk-live-123", "sk-other-456"):
        flow = sse_flow([], secret)
        stream(capture, flow, [SSE_COMPLETED])
        capture.response(flow)
    entries = lines(tmp_path)
    values = [dict(entry["request"]["headers"])["authorization"] for entry in entries]
    assert all(
        value.startswith("[REDACTED sha256:") and len(value) == len("[REDACTED sha256:12345678]") for value in values
    )
    assert values[0] == values[1] != values[2]
    assert dict(entries[0]["response"]["headers"])["set-cookie"].startswith("[REDACTED sha256:")
    assert "sk-live-123" not in (tmp_path / "traffic.jsonl").read_text()


def test_exported_flow_is_redacted_but_the_forwarded_flow_keeps_its_headers(capture, tmp_path):
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED])
    capture.response(flow)
    assert flow.request.headers["authorization"] == "Bearer sk-live-123"
    capture.done()
    assert not (tmp_path / "flows.mitm").exists()  # the capture writes traffic.jsonl only
    [saved] = exported(tmp_path)
    assert saved.request.headers["authorization"].startswith("[REDACTED sha256:")
    assert saved.response.content == SSE_COMPLETED
    assert b"sk-live-123" not in (tmp_path / "flows.mitm").read_bytes()


def test_client_hang_up_after_terminal_event_is_complete(capture, tmp_path):
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED], end=False)
    flow.error = tflow.terr("Client disconnected.")
    flow.client_conn.state = ConnectionState.CLOSED  # the agent hung up
    capture.error(flow)
    [entry] = lines(tmp_path)
    assert entry["complete"] is True
    assert entry["error"] == "Client disconnected."
    assert entry["response"]["body"].endswith('"response":{"id":"resp_1"}}\n\n')


def test_upstream_failing_after_terminal_event_is_incomplete(capture, tmp_path):
    # The agent is still connected: mitmproxy cuts its answer off, so it did not get the exchange whole.
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED], end=False)
    flow.error = tflow.terr("HTTP/1 protocol error: peer closed connection without sending complete message body")
    capture.error(flow)
    [entry] = lines(tmp_path)
    assert entry["complete"] is False and entry["error"].startswith("HTTP/1 protocol error: peer closed")
    assert entry["response"]["body"].endswith('"response":{"id":"resp_1"}}\n\n')


def test_stream_cut_off_before_terminal_event_is_marked_incomplete(capture, tmp_path):
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED[:60]], end=False)
    flow.error = tflow.terr("Server disconnected.")
    capture.error(flow)
    [entry] = lines(tmp_path)
    assert entry["complete"] is False and entry["error"] == "Server disconnected."
    assert entry["response"]["body"] == SSE_COMPLETED[:60].decode()


def test_refused_upstream_is_recorded_with_its_error(capture, tmp_path):
    flow = tflow.tflow()
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    capture.requestheaders(flow)
    flow.error = tflow.terr("Connection refused")
    capture.error(flow)
    [entry] = lines(tmp_path)
    assert entry["response"] is None and entry["complete"] is False
    assert entry["error"] == "Connection refused"


def test_stream_still_open_at_shutdown_is_written_as_cut_off(capture, tmp_path):
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED[:60]], end=False)
    capture.done()
    [entry] = lines(tmp_path)
    assert entry["complete"] is False and "proxy stopped" in entry["error"]


def test_bodies_are_decoded_and_stored_as_json_text_or_base64(capture, tmp_path):
    flow = tflow.tflow(resp=True)
    flow.request.headers["content-encoding"] = "zstd"  # codex compresses bodies this way with a ChatGPT login
    flow.request.raw_content = zstandard.ZstdCompressor().compress(b'{"a": [1, 2]}')
    flow.response.headers.clear()
    capture.requestheaders(flow)
    capture.responseheaders(flow)
    flow.response.stream(b"\xff\xfe\x00binary")
    flow.response.stream(b"")
    capture.response(flow)
    [entry] = lines(tmp_path)
    assert entry["request"]["body"] == {"a": [1, 2]} and entry["request"]["content_encoding"] == "zstd"
    assert entry["response"]["body_format"] == "base64"
    assert base64.b64decode(entry["response"]["body"]) == b"\xff\xfe\x00binary"
    assert entry["response"]["body_size"] == 9


def websocket_flow():
    flow = tflow.twebsocketflow(messages=False)
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    flow.request.headers["authorization"] = "Bearer sk-ws-secret"
    return flow


def send(capture, flow, from_client, payload):
    text = json.dumps(payload).encode()
    flow.websocket.messages.append(WebSocketMessage(1, from_client, text))  # 1 = text frame
    capture.websocket_message(flow)


def test_websocket_exchange_is_written_when_its_terminal_event_arrives(capture, tmp_path):
    flow = websocket_flow()
    capture.websocket_start(flow)
    send(capture, flow, True, {"type": "response.create", "input": []})
    send(capture, flow, False, {"type": "response.created", "response": {"id": "r1"}})
    assert not (tmp_path / "traffic.jsonl").read_text()  # nothing final yet
    send(capture, flow, False, {"type": "response.completed", "response": {"id": "r1"}})
    # The socket is still open, yet the finished exchange is already on disk.
    [entry] = lines(tmp_path)
    assert entry["kind"] == "websocket" and entry["seq"] == 0 and entry["complete"] is True
    assert entry["ended_by"] == "terminal-event"
    assert [frame["from"] for frame in entry["messages"]] == ["client", "server", "server"]
    assert entry["messages"][0]["body"] == {"type": "response.create", "input": []}
    assert dict(entry["request"]["headers"])["authorization"].startswith("[REDACTED sha256:")
    send(capture, flow, True, {"type": "response.create", "previous_response_id": "r1", "input": []})
    capture.websocket_end(flow)
    second = lines(tmp_path)[1]
    assert second["seq"] == 1 and second["complete"] is False and second["ended_by"] == "socket-closed"


def test_unanswered_websocket_frames_are_flushed_at_shutdown(capture, tmp_path):
    flow = websocket_flow()
    capture.websocket_start(flow)
    send(capture, flow, True, {"type": "response.create"})
    capture.done()
    [entry] = lines(tmp_path)
    assert entry["ended_by"] == "proxy-stopped" and len(entry["messages"]) == 1


def test_bad_proxy_names_option_is_rejected():
    addon = Capture()
    with taddons.context(addon) as context, pytest.raises(exceptions.OptionsError, match="PORT=NAME"):
        context.configure(addon, probe_proxy_names="model")


def test_token_shapes_in_bodies_and_url_secrets_are_masked_at_capture(capture, tmp_path):
    flow = sse_flow([])
    flow.request.url = "http://address:22/v1/models/x:stream?alt=sse&key=AIzaSyTHISISAFAKEKEY123456789"
    flow.request.content = json.dumps(
        {"note": "my key is sk-proj-FAKEFAKEFAKE123 ok", "task": "task-abcdefghijk"}
    ).encode()
    stream(capture, flow, [SSE_COMPLETED])
    capture.response(flow)
    capture.done()
    [entry] = lines(tmp_path)
    exported(tmp_path)
    assert "AIzaSy" not in entry["request"]["url"] and "alt=sse&key=[REDACTED sha256:" in entry["request"]["url"]
    assert entry["request"]["body"]["note"].startswith("my key is [REDACTED sha256:")
    assert entry["request"]["body"]["task"] == "task-abcdefghijk"  # no false positive inside a word
    assert entry["request"]["redacted_tokens"] == 1
    for name in ("traffic.jsonl", "flows.mitm"):
        content = (tmp_path / name).read_bytes()
        assert b"sk-proj-FAKE" not in content and b"AIzaSyTHIS" not in content
    assert flow.request.url.endswith("AIza" + "SyTHISISAFAKEKEY123456789")  # the forwarded request is untouched


def test_keep_secrets_stores_everything_raw(tmp_path):
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(addon, probe_traffic=str(tmp_path / "traffic.jsonl"), probe_keep_secrets=True)
        flow = sse_flow([])
        flow.request.content = b'{"k": "sk-proj-FAKEFAKEFAKE123"}'
        stream(addon, flow, [SSE_COMPLETED])
        addon.response(flow)
        addon.done()
    [entry] = lines(tmp_path)
    assert dict(entry["request"]["headers"])["authorization"] == "Bearer sk-live-123"
    assert entry["request"]["body"] == {"k": "sk-proj-" + "FAKEFAKEFAKE123"}


def test_unanswered_request_at_shutdown_is_written(capture, tmp_path):
    flow = tflow.tflow()
    flow.request.content = b'{"model": "m"}'
    capture.requestheaders(flow)
    capture.done()
    [entry] = lines(tmp_path)
    assert entry["response"] is None and entry["request"]["body"] == {"model": "m"}
    assert entry["complete"] is False and "proxy stopped" in entry["error"]


def test_websocket_turn_ended_by_the_next_client_message_is_incomplete(capture, tmp_path):
    flow = websocket_flow()
    capture.websocket_start(flow)
    send(capture, flow, True, {"type": "response.create", "input": []})
    send(capture, flow, False, {"type": "response.created", "response": {"id": "r1"}})
    send(capture, flow, True, {"type": "response.create", "input": ["again"]})  # no terminal event came
    [entry] = lines(tmp_path)
    assert entry["ended_by"] == "next-client-message" and entry["complete"] is False
    assert entry["error"].startswith("next-client-message before a terminal event")


@pytest.fixture
def reporting(tmp_path):
    """The addon with the status pipe a capture process reads; yields (addon, the pipe's read end)."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(addon, probe_traffic=str(tmp_path / "traffic.jsonl"), probe_status_fd=write)
        yield addon, read
        addon.done()
    os.close(read)


def test_a_failed_write_is_cut_back_reported_and_the_next_record_is_whole(reporting, tmp_path, monkeypatch):
    """A write that fails half-way must not leave a partial line for the next exchange to be glued to."""
    capture, read = reporting
    real_write = os.write

    def half_then_fail(fd, data):
        if fd == capture.traffic_fd and len(data) > 4000:
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.EIO, "Input/output error")
        return real_write(fd, data)

    monkeypatch.setattr(capture_addon.os, "write", half_then_fail)
    for size in (10, 5000, 20):
        flow = sse_flow([])
        flow.request.content = json.dumps({"pad": "x" * size}).encode()
        stream(capture, flow, [SSE_COMPLETED])
        capture.response(flow)
    entries = lines(tmp_path)  # every line parses: the half-written one was cut back off
    assert [len(entry["request"]["body"]["pad"]) for entry in entries] == [10, 20]
    reported = os.read(read, 65536).decode()
    assert reported.startswith("recording-error response of http://address:22/path: OSError: [Errno 5]")
    assert reported.count("\n") == 1


def test_a_full_disk_is_reported_as_fatal(reporting, tmp_path, monkeypatch):
    capture, read = reporting

    real_write = os.write

    def no_space(fd, data):
        if fd == capture.traffic_fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)  # a pipe needs no disk: the news still gets through

    monkeypatch.setattr(capture_addon.os, "write", no_space)
    flow = sse_flow([])
    stream(capture, flow, [SSE_COMPLETED])
    capture.response(flow)
    monkeypatch.undo()
    assert os.read(read, 65536) == b"fatal recording stopped: No space left on device while writing traffic.jsonl\n"
    assert (tmp_path / "traffic.jsonl").read_bytes() == b""


HIDDEN = {  # a secret in every place a flow can carry one, each in its own disguise
    "path": "ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    "query": "plain-query-key",
    "api-key header": "plain-header-key",
    "bearer in any header": "forwarded0123456789",
    "project header": "proj_plainproject",
    "escaped in a gzip body": "sk-ant-api03-" + "Xy7Zq9Wv2Uu4Tt6Ss8Rr0Qq1Pp3Oo5Nn",
    "password field": "hunter2-plain",
    "response text": "AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C",
    "access_token field": "plain-access-token",
    "trailer": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "reason phrase": "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL",
}


def secret_laden_flow():
    import gzip

    from mitmproxy import http as mitmhttp

    flow = sse_flow([])
    flow.request.url = f"http://address:22/v1/files/{HIDDEN['path']}/content?key={HIDDEN['query']}&alt=sse"
    flow.request.headers["api-key"] = HIDDEN["api-key header"]
    flow.request.headers["x-original-auth-value"] = "plain"  # secret-named by its parts: masked whole
    flow.request.headers["x-forwarded"] = f"Bearer {HIDDEN['bearer in any header']}"
    flow.request.headers["openai-project"] = HIDDEN["project header"]
    flow.request.headers["content-encoding"] = "gzip"
    escaped_token = "".join(f"\\u{ord(character):04x}" for character in HIDDEN["escaped in a gzip body"])
    flow.request.raw_content = gzip.compress(
        f'{{"input": "use {escaped_token}", "password": "{HIDDEN["password field"]}", "model": "m"}}'.encode()
    )
    flow.response.reason = f"OK {HIDDEN['reason phrase']}"
    flow.response.trailers = mitmhttp.Headers(x_checksum=f"by {HIDDEN['trailer']}")
    answer = (
        f'data: {{"type": "delta", "delta": "key {HIDDEN["response text"]}"}}\n\n'
        f'data: {{"type": "done", "access_token": "{HIDDEN["access_token field"]}"}}\n\n'
        'data: {"type": "response.completed", "response": {"id": "r"}}\n\n'
    ).encode()
    return flow, answer


def test_every_place_a_secret_hides_is_masked_alike_in_the_capture_and_its_flows(capture, tmp_path):
    flow, answer = secret_laden_flow()
    entry, saved = recorded_once(capture, flow, [answer], tmp_path)
    stored_bytes = [
        (tmp_path / "traffic.jsonl").read_bytes(),
        (tmp_path / "flows.mitm").read_bytes(),
        saved.request.get_content(),
        saved.response.get_content(),
    ]
    for place, secret in HIDDEN.items():
        for stored in stored_bytes:
            assert secret.encode() not in stored, f"the {place} secret was stored"
    assert b"\\u0073\\u006b" not in stored_bytes[0] + stored_bytes[1]  # nor its escaped form
    # Both files hold the same masked values.
    assert saved.request.url == entry["request"]["url"] and "alt=sse" in entry["request"]["url"]
    # The body is stored decoded: its Content-Encoding header goes, lest mitmproxy decode it again.
    assert entry["request"]["content_encoding"] == "gzip" and "content-encoding" not in saved.request.headers
    assert [list(pair) for pair in saved.request.headers.items(multi=True)] == [
        pair for pair in entry["request"]["headers"] if pair[0] != "content-encoding"
    ]
    assert [list(pair) for pair in saved.response.headers.items(multi=True)] == entry["response"]["headers"]
    assert json.loads(saved.request.get_content()) == entry["request"]["body"]
    assert entry["request"]["body"]["model"] == "m" and entry["request"]["redacted_tokens"] == 2
    assert saved.response.get_content().decode() == entry["response"]["body"]
    assert (
        saved.response.reason == entry["response"]["reason"] == f"OK {redaction.fingerprint(HIDDEN['reason phrase'])}"
    )
    assert [list(pair) for pair in saved.response.trailers.items(multi=True)] == entry["response"]["trailers"]
    assert flow.request.headers["api-key"] == HIDDEN["api-key header"]  # the forwarded flow is untouched


def test_websocket_frames_text_and_binary_are_masked_alike_in_the_capture_and_its_flows(capture, tmp_path):
    token = HIDDEN["response text"]
    flow = websocket_flow()
    capture.websocket_start(flow)
    send(capture, flow, True, {"type": "response.create", "input": f"my key {token}", "password": "p4ss-plain"})
    flow.websocket.messages.append(WebSocketMessage(2, False, b"\x00\xff" + token.encode() + b"\x00"))  # binary
    capture.websocket_message(flow)
    send(capture, flow, False, {"type": "response.completed", "response": {"id": "r1"}})
    capture.websocket_end(flow)
    capture.done()
    entries = lines(tmp_path)
    [saved] = exported(tmp_path)
    for stored in ((tmp_path / "traffic.jsonl").read_bytes(), (tmp_path / "flows.mitm").read_bytes()):
        assert token.encode() not in stored and b"p4ss-plain" not in stored
    frames = entries[0]["messages"]
    assert frames[0]["body"]["input"] == f"my key {redaction.fingerprint(token)}"
    assert base64.b64decode(frames[1]["body"]) == b"\x00\xff" + redaction.fingerprint(token).encode() + b"\x00"
    [create] = [message for message in saved.websocket.messages if b'"response.create"' in message.content]
    assert json.loads(create.content) == frames[0]["body"]
    [binary] = [message for message in saved.websocket.messages if message.content.startswith(b"\x00\xff")]
    assert binary.content == base64.b64decode(frames[1]["body"])


def test_a_decompression_bomb_is_kept_as_sent_with_a_note(tmp_path):
    import gzip
    import tracemalloc

    bomb = gzip.compress(b"\0" * (64 << 20))
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(addon, probe_traffic=str(tmp_path / "traffic.jsonl"), probe_decode_cap=1 << 20)
        flow = sse_flow([])
        flow.response.headers["content-encoding"] = "gzip"
        tracemalloc.start()
        stream(addon, flow, [bomb])
        addon.response(flow)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        addon.done()
    [entry] = lines(tmp_path)
    response = entry["response"]
    assert response["body_format"] == "base64" and base64.b64decode(response["body"]) == bomb
    assert response["content_encoding_error"] == "gzip: decoded size passed the 1,048,576-byte cap; kept as sent"
    assert peak < 16 << 20  # never the 64 MB the body expands to


def gzip_named(data: bytes, name: str) -> bytes:
    import gzip
    import io as bytes_io

    buffer = bytes_io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer, mtime=0) as file:
        file.write(data)
    return buffer.getvalue()


TOKEN = "ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R"
WIRE_CASES = {  # bodies whose wire bytes hold the secret outside anything a decoder returns
    "an encoding nobody here decodes": ("compress", f"plain text with {TOKEN}".encode()),
    "a gzip file name": ("gzip", gzip_named(b'{"harmless": true}', f"{TOKEN}.json")),
    "bytes after the gzip stream": ("gzip", gzip_named(b'{"harmless": true}', "") + f" {TOKEN}".encode()),
}


@pytest.mark.parametrize("case", WIRE_CASES)
def test_secrets_in_wire_bytes_are_masked_in_the_capture_and_its_flows(capture, tmp_path, case):
    encoding, wire = WIRE_CASES[case]
    flow = sse_flow([])
    flow.request.headers["content-encoding"] = encoding
    flow.request.raw_content = wire
    entry, saved = recorded_once(capture, flow, [SSE_COMPLETED], tmp_path)
    for stored in ((tmp_path / "traffic.jsonl").read_bytes(), (tmp_path / "flows.mitm").read_bytes()):
        assert TOKEN.encode() not in stored
    request = entry["request"]
    if request["body_format"] == "base64":  # kept as sent: the masked wire bytes, in both files alike
        assert request["redacted_tokens"] == 1 and request["body_size"] == len(wire)
        assert base64.b64decode(request["body"]) == saved.request.raw_content
        assert saved.request.headers["content-encoding"] == encoding  # still encoded, so its header stays
        assert redaction.fingerprint(TOKEN).encode() in saved.request.raw_content
    else:  # decoded: the flow file holds the body without the wire's extra bytes, and its headers stay true
        assert json.loads(saved.request.get_content()) == request["body"] == {"harmless": True}


def test_a_bomb_with_a_token_after_it_is_kept_masked(tmp_path):
    import gzip

    bomb = gzip.compress(b"\0" * (8 << 20)) + f"\n{TOKEN}\n".encode()
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(addon, probe_traffic=str(tmp_path / "traffic.jsonl"), probe_decode_cap=1 << 20)
        flow = sse_flow([])
        flow.response.headers["content-encoding"] = "gzip"
        stream(addon, flow, [bomb])
        addon.response(flow)
        addon.done()
    [entry] = lines(tmp_path)
    response = entry["response"]
    assert "passed the 1,048,576-byte cap" in response["content_encoding_error"]
    assert response["redacted_tokens"] == 1 and response["body_size"] == len(bomb)
    assert base64.b64decode(response["body"]).endswith(f"\n{redaction.fingerprint(TOKEN)}\n".encode())
    [saved] = exported(tmp_path)
    assert TOKEN.encode() not in (tmp_path / "flows.mitm").read_bytes()
    assert saved.response.raw_content == base64.b64decode(response["body"])


@pytest.mark.parametrize(
    ("stream", "complete"),
    [
        (b'event: response.completed\ndata: {"type":"response.completed"}\n\n', True),
        (b'event: message_stop\ndata: {"type": "message_stop"}\n\n', True),
        (b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n', True),  # Chat Completions
        (b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', False),
        (b'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}\n\n', True),  # Gemini
        (b'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}\n\n', False),
        (b'data: {"choices":[{"delta":{"content":"data: [DONE] inside a text"}}]}\n\n', False),
    ],
)
def test_a_stream_is_complete_once_it_holds_its_apis_last_event(stream, complete):
    """The client may hang up before the final chunk: the stream's own last event says the answer arrived."""
    assert bool(TERMINAL_EVENT.search(stream)) is complete
