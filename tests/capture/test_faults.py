"""Upstream faults: a reset mid-stream and a stalled upstream are recorded, and the agent gets an answer."""

import socket
import struct
import threading
import time

import pytest
from conftest import read_traffic

from probe.capture.proxies import start_proxies
from probe.runs.targets import parse_target

PARTIAL = b'event: response.created\ndata: {"type": "response.created"}\n\n'
COMPLETED = b'event: response.completed\ndata: {"type": "response.completed", "response": {}}\n\n'
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class FaultyUpstream:
    """A raw socket server misbehaving in one chosen way after reading the request."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.release = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            connection.recv(65536)
            if self.behaviour == "reset-mid-stream":
                connection.sendall(HEAD + chunk(PARTIAL))
                time.sleep(0.2)
                # SO_LINGER 0 makes close() send a TCP reset instead of an orderly end.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            elif self.behaviour == "stall-mid-stream":
                connection.sendall(HEAD + chunk(PARTIAL))
                self.release.wait(30)
                connection.close()
            elif self.behaviour == "trailers":
                # A whole answer, its last chunk carrying a trailer: mitmproxy 11 and 12.3 cannot read it and cut
                # the agent's answer off after the terminal event.
                connection.sendall(
                    HEAD.replace(b"\r\n\r\n", b"\r\ntrailer: x-checksum\r\n\r\n")
                    + chunk(COMPLETED)
                    + b"0\r\nx-checksum: 1f\r\n\r\n"
                )
                time.sleep(0.5)
                connection.close()
            elif self.behaviour == "close-after-terminal-event":
                connection.sendall(HEAD + chunk(COMPLETED))  # no last chunk: the answer is cut off
                time.sleep(0.2)
                connection.close()
            elif self.behaviour == "shorter-than-its-length":
                # The terminal event arrives, then the upstream closes 400 bytes short of its Content-Length.
                length = b"content-length: %d" % (len(COMPLETED) + 400)
                connection.sendall(HEAD.replace(b"transfer-encoding: chunked", length) + COMPLETED)
                time.sleep(0.2)
                connection.close()
            elif self.behaviour == "stall-before-answer":
                self.release.wait(30)
                connection.close()

    def close(self):
        self.release.set()
        self.server.close()


def target_with_stall_timeout(tmp_path, seconds):
    text = f"""
name: faults
description: one proxy with a short stall timeout
renderer: probe.apis.openai_responses.report
proxies: [{{name: model, listen: 0, upstream: "https://api.openai.com/"}}]
agent: {{command: ["true"]}}
stall_timeout: {seconds}
"""
    return parse_target(text, "faults.yaml")


def exchange(proxies, timeout=20) -> tuple[bytes, float]:
    host, port = proxies.urls["model"].removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as client:
        client.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}")
        received = b""
        while True:
            try:
                data = client.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
            if received.startswith(b"HTTP/1.1 502") and b"\r\n\r\n" in received:
                break
            if received.endswith(b"0\r\n\r\n") or received.endswith(b"\r\n\r\n0\r\nx-checksum: 1f\r\n\r\n"):
                break  # the whole chunked answer: the proxy keeps the connection open for the next request
    return received, time.monotonic() - started


@pytest.mark.parametrize("behaviour", ["reset-mid-stream", "stall-mid-stream", "stall-before-answer"])
def test_upstream_fault_is_recorded_with_the_bytes_received(tmp_path, behaviour):
    upstream = FaultyUpstream(behaviour)
    run = tmp_path / "run"
    run.mkdir()
    proxies = start_proxies(target_with_stall_timeout(tmp_path, 1), run, f"http://127.0.0.1:{upstream.port}/")
    try:
        received, elapsed = exchange(proxies)
    finally:
        proxies.stop()
        upstream.close()
    [entry] = read_traffic(run)
    assert entry["complete"] is False
    if behaviour == "stall-before-answer":
        assert received.startswith(b"HTTP/1.1 502")  # the agent gets an answer instead of hanging
        assert entry["response"] is None
    else:
        assert received.startswith(b"HTTP/1.1 200") and PARTIAL in received
        assert entry["response"]["body"] == PARTIAL.decode()  # the bytes that arrived before the fault
    if behaviour.startswith("stall"):
        assert "upstream stalled: nothing received for 1 s" in entry["error"]
        assert elapsed < 15  # cut off by the 1 s stall timeout, not by the upstream's 30 s
    else:
        assert entry["error"]


@pytest.mark.parametrize("behaviour", ["trailers", "close-after-terminal-event", "shorter-than-its-length"])
def test_an_answer_the_agent_did_not_get_whole_is_incomplete(tmp_path, behaviour):
    """The record says `complete` only if the agent got the whole answer: an upstream that ends badly after its
    terminal event reaches the agent cut off, whichever mitmproxy forwards it."""
    upstream = FaultyUpstream(behaviour)
    run = tmp_path / "run"
    run.mkdir()
    proxies = start_proxies(target_with_stall_timeout(tmp_path, 5), run, f"http://127.0.0.1:{upstream.port}/")
    try:
        received, _ = exchange(proxies, timeout=10)
    finally:
        proxies.stop()
        upstream.close()
    [entry] = read_traffic(run)
    got_whole = received.split(b"\r\n\r\n", 1)[1].endswith(b"\r\n\r\n") and b"\r\n0\r\n" in received
    assert entry["response"]["body"] == COMPLETED.decode()  # all the upstream sent, terminal event included
    if behaviour != "shorter-than-its-length":  # (there mitmproxy forwards none of the body)
        assert COMPLETED in received
    assert entry["complete"] is got_whole
    if behaviour != "trailers":  # (a later mitmproxy may read trailers: then the answer goes through whole)
        assert not got_whole
    if not got_whole:
        assert entry["error"]
