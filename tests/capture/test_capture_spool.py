"""Large response bodies: masked as they stream into a file of their own, `bodies/<sha256>` beside traffic.jsonl,
named by the sha256 of what it holds once whole, and referred to from their line (a compressed one is spooled
unnamed and decoded whole into its line)."""

import gzip
import hashlib
import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import answer_with_chunked_sse, read_traffic, send_chunk
from mitmproxy.connection import ConnectionState
from mitmproxy.test import taddons, tflow

from probe.capture.recorder import body_file as capture_body_file
from probe.capture.recorder import spool as capture_spool
from probe.capture.recorder.addon import Capture
from probe.capture.recorder.tee import TIMINGS_KEPT
from probe.redact import masking as redaction

TOKEN = "sk-proj-" + "SPOOLEDSECRET1234567890"


@pytest.fixture
def capture(tmp_path):
    """The addon with a 4 KB spool threshold, and no threads: every step runs as the hooks are called."""
    addon = Capture()
    with taddons.context(addon) as context:
        context.configure(addon, probe_traffic=str(tmp_path / "traffic.jsonl"), probe_spool_threshold=4096)
        yield addon
        addon.done()


def streamed(capture, chunks, content_type="text/event-stream", headers=()) -> tflow.tflow:
    flow = tflow.tflow(resp=True)
    flow.request.method = "POST"
    flow.request.content = b'{"model": "m"}'
    flow.response.headers.clear()
    flow.response.headers["content-type"] = content_type
    for name, value in headers:
        flow.response.headers[name] = value
    flow.response.content = b""
    capture.requestheaders(flow)
    capture.responseheaders(flow)
    for chunk in chunks:
        assert flow.response.stream(chunk) is chunk
    flow.response.stream(b"")
    return flow


def sse_events(count: int, secret_at: int | None = None) -> list[bytes]:
    events = []
    for number in range(count):
        delta = f"word {number} " + (f"key {TOKEN} " if number == secret_at else "")
        event = {"type": "response.output_text.delta", "delta": delta, "n": number}
        events.append(b"event: response.output_text.delta\ndata: " + json.dumps(event).encode() + b"\n\n")
    return events


def only_line(tmp_path) -> dict:
    [entry] = [json.loads(line) for line in (tmp_path / "traffic.jsonl").read_text().splitlines()]
    return entry


def stored(run, response: dict) -> bytes:
    """The bytes of the body file a line refers to, checked against its name and the size the line gives."""
    assert response["body"] is None and response["body_file"].startswith("bodies/")
    data = (run / response["body_file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == response["body_file"].removeprefix("bodies/")
    assert len(data) == response["body_file_size"]
    return data


def test_a_spooled_sse_body_is_stored_whole_and_masked_with_its_sha256_and_thinned_timings(capture, tmp_path):
    events = sse_events(3000, secret_at=1234)
    events.append(b'data: {"type":"response.completed","response":{"api_key":"plainvalue"}}\n\n')
    body = b"".join(events)
    flow = streamed(capture, events)
    capture.response(flow)
    entry = only_line(tmp_path)
    response = entry["response"]
    assert response["body_format"] == "text" and response["body_size"] == len(body)
    assert response["body_sha256"] == hashlib.sha256(body).hexdigest()
    expected = body.decode().replace(TOKEN, redaction.fingerprint(TOKEN))
    masked_field = json.dumps({"api_key": redaction.fingerprint("plainvalue")}, separators=(",", ":"))
    expected = expected.replace('{"api_key":"plainvalue"}', masked_field)
    assert stored(tmp_path, response) == expected.encode()
    assert response["redacted_tokens"] == 2 and entry["complete"] is True
    assert os.listdir(tmp_path / "bodies") == [response["body_file"].removeprefix("bodies/")]
    # 3,001 chunks arrived within milliseconds: the first TIMINGS_KEPT one by one, the rest joined.
    assert TIMINGS_KEPT <= len(response["chunks"]) < len(events)
    assert sum(size for _, size in response["chunks"]) == len(body)
    kept = TIMINGS_KEPT - 1  # (the last entry kept one by one goes on to gather those that follow)
    assert [size for _, size in response["chunks"][:kept]] == [len(event) for event in events[:kept]]
    assert entry["request"]["body"] == {"model": "m"}


def test_a_spooled_body_that_is_not_utf8_is_stored_as_base64_masked(capture, tmp_path):
    data = bytes(range(256)) * 64 + f" {TOKEN} ".encode() + bytes(range(255, -1, -1)) * 64
    chunks = [data[index : index + 1000] for index in range(0, len(data), 1000)]
    capture.response(streamed(capture, chunks, "application/octet-stream"))
    response = only_line(tmp_path)["response"]
    assert response["body_format"] == "base64" and response["body_size"] == len(data)
    assert response["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert stored(tmp_path, response) == data.replace(TOKEN.encode(), redaction.fingerprint(TOKEN).encode())
    assert response["redacted_tokens"] == 1


def test_a_large_compressed_body_is_decoded_whole(capture, tmp_path):
    text = b"".join(sse_events(500, secret_at=7))
    wire = gzip.compress(text)
    chunks = [wire[index : index + 512] for index in range(0, len(wire), 512)]
    capture.response(streamed(capture, chunks, headers=[("content-encoding", "gzip")]))
    response = only_line(tmp_path)["response"]
    assert response["content_encoding"] == "gzip" and response["body_size"] == len(text)
    assert response["body"] == text.decode().replace(TOKEN, redaction.fingerprint(TOKEN))


def test_a_spooled_stream_cut_off_after_its_terminal_event_is_complete(capture, tmp_path):
    events = sse_events(400) + [b'data: {"type":"response.completed","response":{}}\n\n']
    flow = streamed(capture, events)
    flow.error = tflow.terr("Client disconnected.")
    flow.client_conn.state = ConnectionState.CLOSED  # the agent hung up
    capture.error(flow)
    entry = only_line(tmp_path)
    assert entry["complete"] is True and entry["error"] == "Client disconnected."
    body = b"".join(events)
    # Nothing was masked: the file holds the body as it arrived, and its name is the body's sha256.
    assert stored(tmp_path, entry["response"]) == body
    assert entry["response"]["body_file"] == "bodies/" + hashlib.sha256(body).hexdigest()


def test_body_file_segments_are_cut_after_a_line_end_and_have_no_name_until_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(capture_body_file, "SEGMENT", 64)
    masked = []
    monkeypatch.setattr(redaction, "mask_text_lines", lambda segment: (masked.append(segment) or segment, 0))
    body = capture_body_file.BodyFile(str(tmp_path), masking=True)
    lines = [f"line {number} {TOKEN}\n".encode() for number in range(40)]
    for line in lines:
        body.add_all([line])
    assert os.listdir(tmp_path / "bodies") == []  # no name while it streams: a kill leaves nothing to take
    body.finish()
    assert b"".join(masked) == b"".join(lines) and len(masked) > 5
    assert all(segment.endswith(b"\n") for segment in masked)
    name = hashlib.sha256(b"".join(lines)).hexdigest()
    assert body.name == f"bodies/{name}" and os.listdir(tmp_path / "bodies") == [name]
    body.close()


def test_a_body_file_that_turns_out_not_utf8_is_masked_as_bytes_from_there(tmp_path):
    body = capture_body_file.BodyFile(str(tmp_path), masking=True)
    text = b"".join(f"line {number} ok\n".encode() for number in range(100_000))
    body.add_all([text, b"\xff\xfe" + f" {TOKEN} ".encode() + bytes(range(256))])
    body.finish()
    assert not body.is_utf8 and body.masked == 1
    data = (tmp_path / body.name).read_bytes()
    assert data == text + b"\xff\xfe" + f" {redaction.fingerprint(TOKEN)} ".encode() + bytes(range(256))
    body.close()


def test_segments_are_cut_after_a_line_end_so_that_no_token_is_split(tmp_path, monkeypatch):
    monkeypatch.setattr(capture_spool, "SEGMENT", 64)
    spool = capture_spool.Spool(str(tmp_path))
    lines = [f"line {number} {TOKEN}\n".encode() for number in range(40)]
    spool.add_all(lines)
    spool.finish()
    segments = list(spool.segments(cut_at_lines=True))
    assert b"".join(segments) == b"".join(lines) and len(segments) > 5
    assert all(segment.endswith(b"\n") for segment in segments)
    assert os.listdir(tmp_path) == []  # the spool has no name: nothing is left behind, even after a kill
    spool.close()


class LargeStream(BaseHTTPRequestHandler):
    """Streams SIZE bytes of SSE in 64 KB events, a token in the last one, chunked."""

    protocol_version = "HTTP/1.1"
    size = 40 << 20

    def do_POST(self):
        answer_with_chunked_sse(self)
        for event in large_events(self.size):
            send_chunk(self, event)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def large_events(size: int) -> list[bytes]:
    filler = b"data: " + json.dumps({"delta": "x" * 65000}).encode() + b"\n\n"
    last = b"data: " + json.dumps({"type": "response.completed", "note": f"key {TOKEN}"}).encode() + b"\n\n"
    return [filler] * (size // len(filler)) + [last]


def test_a_40_mb_stream_through_mitmdump_is_recorded_whole_and_masked(proxied):
    server = ThreadingHTTPServer(("127.0.0.1", 0), LargeStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{server.server_port}/")
    request = urllib.request.Request(proxies.urls["model"] + "/v1/responses", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        received = answer.read()
    proxies.stop()
    server.shutdown()
    body = b"".join(large_events(LargeStream.size))
    assert received == body
    [entry] = read_traffic(run)
    response = entry["response"]
    assert response["body_size"] == len(body) and response["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert stored(run, response) == body.replace(TOKEN.encode(), redaction.fingerprint(TOKEN).encode())
    assert entry["complete"] is True and response["redacted_tokens"] == 1
    assert sum(size for _, size in response["chunks"]) == len(body)
    for path in [*run.iterdir(), *(run / "bodies").iterdir()]:  # no spool left behind, and no file holds the token
        assert path.name in ("traffic.jsonl", "proxies.log", "bodies") or path.parent.name == "bodies"
        assert path.is_dir() or TOKEN.encode() not in path.read_bytes()


def test_a_segment_the_text_masker_trips_over_is_stored_masked_as_bytes(tmp_path, monkeypatch):
    def trips(segment):
        raise RecursionError("nested too deeply")

    monkeypatch.setattr(redaction, "mask_text_lines", trips)
    body = capture_body_file.BodyFile(str(tmp_path), masking=True)
    text = f"data: key {TOKEN}\n\n".encode() * 10
    body.add_all([text])
    body.finish()
    assert (tmp_path / body.name).read_bytes() == text.replace(TOKEN.encode(), redaction.fingerprint(TOKEN).encode())
    assert body.masked == 10
    body.close()
    body.close()  # closing twice does no harm (the descriptor's number may be another file's by then)
