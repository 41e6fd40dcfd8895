"""Large bodies through the real mitmdump: each stored once in bodies/<sha256>, the sha256 of what the file holds,
equal to the body the client received where nothing was masked; a secret masked in the file; and a kill mid-body
leaves traffic.jsonl readable with every earlier exchange and no body file that could be taken for whole."""

import hashlib
import json
import os
import re
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import answer_with_chunked_sse, read_traffic, send_chunk

from probe.read.traffic import body_bytes, iter_exchanges
from probe.redact import masking as redaction

TOKEN = "sk-proj-" + "BODYFILESECRET1234567890ab"
MB = 1 << 20


def events(size: int, note: str = "") -> list[bytes]:
    """SIZE bytes of Responses API deltas, then response.completed (holding `note`)."""
    delta = b'data: {"type":"response.output_text.delta","delta":"' + b"the model streams " * 3600 + b'"}\n\n'
    last = b"data: " + json.dumps({"type": "response.completed", "note": note}).encode() + b"\n\n"
    return [delta] * (size // len(delta)) + [last]


class Upstream(BaseHTTPRequestHandler):
    """POST /plain/N and /secret/N: N MB streamed whole; /endless: streamed until the connection goes."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        answer_with_chunked_sse(self)
        kind, _, size = self.path.strip("/").partition("/")
        try:
            if kind == "endless":
                while True:
                    send_chunk(self, events(MB)[0])
                    time.sleep(0.002)
            for event in events(int(size or 0) * MB, f"key {TOKEN}" if kind == "secret" else ""):
                send_chunk(self, event)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def log_message(self, *args):
        pass


def upstream() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def fetch(url: str, path: str, stop_after: int | None = None, then=None) -> bytes:
    """The body the client received (chunked framing removed); or, past `stop_after` raw bytes, `then()` is called
    with the connection still open, and those bytes returned."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as client:
        client.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{{}}".encode())
        received = bytearray()
        while not received.endswith(b"\r\n0\r\n\r\n"):
            data = client.recv(MB)
            if not data:
                break
            received += data
            if stop_after is not None and len(received) > stop_after:
                then()
                return bytes(received)
    _, _, chunked = bytes(received).partition(b"\r\n\r\n")
    body, offset = bytearray(), 0
    while True:
        line_end = chunked.index(b"\r\n", offset)
        size = int(chunked[offset:line_end], 16)
        if size == 0:
            return bytes(body)
        body += chunked[line_end + 2 : line_end + 2 + size]
        offset = line_end + 4 + size


def check_named(run) -> list[str]:
    """Every file in bodies/: a sha256 name its bytes hash to. Returns the names."""
    names = sorted(os.listdir(run / "bodies"))
    for name in names:
        assert re.fullmatch(r"[0-9a-f]{64}", name), name
        assert hashlib.sha256((run / "bodies" / name).read_bytes()).hexdigest() == name
    return names


def test_large_bodies_are_stored_once_by_their_sha256_and_masked(proxied):
    server = upstream()
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{server.server_port}/")
    url = proxies.urls["model"]
    plain = [fetch(url, "/plain/12") for _ in range(2)]  # the same body twice: one file
    secret = fetch(url, "/secret/10")
    proxies.stop()
    server.shutdown()
    assert plain[0] == plain[1] == b"".join(events(12 * MB)) and TOKEN.encode() in secret
    entries = read_traffic(run)
    assert len(entries) == 3 and all(entry["complete"] for entry in entries)
    digest = hashlib.sha256(plain[0]).hexdigest()
    for entry in entries[:2]:
        response = entry["response"]
        assert response["body"] is None and response["body_size"] == len(plain[0])
        assert response["body_sha256"] == digest and response["body_file"] == f"bodies/{digest}"
        assert response["body_file_size"] == len(plain[0]) and "redacted_tokens" not in response
    response = entries[2]["response"]
    masked = secret.replace(TOKEN.encode(), redaction.fingerprint(TOKEN).encode())
    assert response["body_sha256"] == hashlib.sha256(secret).hexdigest() and response["body_size"] == len(secret)
    assert response["body_file"] == "bodies/" + hashlib.sha256(masked).hexdigest()
    assert response["redacted_tokens"] == 1
    assert (run / response["body_file"]).read_bytes() == masked
    assert check_named(run) == sorted([digest, hashlib.sha256(masked).hexdigest()])
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert warnings == [] and [body_bytes(exchange.response_body) for exchange in exchanges] == [*plain, masked]
    for path in run.rglob("*"):
        assert path.is_dir() or TOKEN.encode() not in path.read_bytes(), path


def test_a_kill_mid_body_leaves_the_earlier_exchanges_readable_and_no_half_file(proxied):
    server = upstream()
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{server.server_port}/")
    url = proxies.urls["model"]
    small, large = fetch(url, "/plain/0"), fetch(url, "/plain/9")
    deadline = time.monotonic() + 20
    while len(read_traffic(run)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    def kill():
        os.killpg(proxies.process.pid, signal.SIGKILL)
        proxies.process.wait()

    fetch(url, "/endless", stop_after=30 * MB, then=kill)  # well past the threshold: its file is being written
    server.shutdown()
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert warnings == [] and [body_bytes(exchange.response_body) for exchange in exchanges] == [small, large]
    assert exchanges[1].response_body.file == "bodies/" + hashlib.sha256(large).hexdigest()
    # Only the whole body has a name; the one cut off had none, and vanished with the process.
    assert check_named(run) == [hashlib.sha256(large).hexdigest()]
