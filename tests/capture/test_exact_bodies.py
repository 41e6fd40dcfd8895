"""Large, binary and non-UTF-8 bodies pass through unchanged and are captured byte-exact."""

import base64
import hashlib
import socket
import threading

import pytest
from conftest import read_traffic

MB = 1024 * 1024


def pattern(size: int, seed: bytes) -> bytes:
    """Deterministic bytes that are not valid UTF-8 and do not compress."""
    blocks, counter = [], 0
    while sum(map(len, blocks)) < size:
        blocks.append(hashlib.sha512(seed + counter.to_bytes(8, "big")).digest() * 512)  # 32 KB
        counter += 1
    return b"".join(blocks)[:size]


class BinaryUpstream:
    """Reads the whole request, remembers its sha256, and streams back `response` in 64 KB chunks."""

    def __init__(self, response: bytes, content_type: str):
        self.response, self.content_type = response, content_type
        self.request_sha = None
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        connection, _ = self.server.accept()
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(65536)
            head, _, rest = head.partition(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            digest, received = hashlib.sha256(rest), len(rest)
            while received < length:
                data = connection.recv(min(4 * MB, length - received))
                digest.update(data)
                received += len(data)
            self.request_sha = digest.hexdigest()
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n"
                % self.content_type.encode()
            )
            view = memoryview(self.response)
            for offset in range(0, len(view), 65536):
                piece = view[offset : offset + 65536]
                connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            connection.sendall(b"0\r\n\r\n")


def exchange(base_url: str, body: bytes) -> tuple[str, int]:
    """Send `body`, read the chunked answer; return its sha256 and size."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as client:
        client.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\ncontent-type: application/octet-stream\r\n"
            b"content-length: %d\r\n\r\n" % len(body)
        )
        client.sendall(body)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += client.recv(65536)
        _, _, buffer = buffer.partition(b"\r\n\r\n")
        digest, size = hashlib.sha256(), 0
        while True:
            while b"\r\n" not in buffer:
                buffer += client.recv(4 * MB)
            line, _, buffer = buffer.partition(b"\r\n")
            length = int(line, 16)
            if length == 0:
                return digest.hexdigest(), size
            while len(buffer) < length + 2:
                buffer += client.recv(4 * MB)
            digest.update(buffer[:length])
            size += length
            buffer = buffer[length + 2 :]


@pytest.mark.parametrize(
    "request_size, response_size, content_type",
    [
        # over five seconds: CI runs it, `nox -s quick` does not
        pytest.param(50 * MB, 200 * MB, "application/octet-stream", marks=pytest.mark.slow),
        (1000, 5000, "text/plain; charset=latin-1"),
    ],
)
def test_bodies_are_captured_byte_exact(proxied, request_size, response_size, content_type):
    request_body, response_body = pattern(request_size, b"request"), pattern(response_size, b"response")
    upstream = BinaryUpstream(response_body, content_type)
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{upstream.port}/")
    received_sha, received_size = exchange(proxies.urls["model"], request_body)
    proxies.stop()
    sent_sha, answer_sha = hashlib.sha256(request_body).hexdigest(), hashlib.sha256(response_body).hexdigest()
    assert upstream.request_sha == sent_sha  # the upstream got exactly what the client sent
    assert (received_sha, received_size) == (answer_sha, response_size)  # and the client exactly the answer
    [entry] = read_traffic(run)
    for side, expected_sha, size in (("request", sent_sha, request_size), ("response", answer_sha, response_size)):
        assert entry[side]["body_format"] == "base64"
        assert entry[side]["body_size"] == size and entry[side]["body_sha256"] == expected_sha
        if size > 8 * MB and side == "response":
            # A large answer is in a file of its own, named by the sha256 of what it holds: the body itself.
            assert entry[side]["body_file"] == f"bodies/{expected_sha}" and entry[side]["body"] is None
            stored = (run / entry[side]["body_file"]).read_bytes()
        else:
            stored = base64.b64decode(entry[side]["body"])
        assert hashlib.sha256(stored).hexdigest() == expected_sha


def test_utf8_text_with_non_ascii_is_stored_as_text(proxied):
    text = "grüße, 日本語, emoji 🎉\n".encode() * 100
    upstream = BinaryUpstream(text, "text/plain; charset=utf-8")
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{upstream.port}/")
    exchange(proxies.urls["model"], text)
    proxies.stop()
    [entry] = read_traffic(run)
    assert entry["response"]["body_format"] == "text" and entry["response"]["body"].encode() == text
    assert entry["request"]["body"].encode() == text
