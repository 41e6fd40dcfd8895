"""Upstream faults: a reset mid-stream and a stalled upstream are recorded, and the agent gets an answer."""

import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from conftest import read_traffic

from probe.capture.proxies import start_proxies
from probe.runs.targets import parse_target

PARTIAL = b'event: response.created\ndata: {"type": "response.created"}\n\n'
COMPLETED = b'event: response.completed\ndata: {"type": "response.completed", "response": {}}\n\n'
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


pytestmark = pytest.mark.xdist_group("faults")  # the cases share one upstream and two mitmdumps


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class FaultyUpstream:
    """A raw socket server misbehaving after reading the request, in the way the request's path names first
    (`/reset-mid-stream/v1/responses`): one server, one connection at a time each, serves every case of a module."""

    def __init__(self):
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
            # A stalled answer holds its connection: the others must not wait for it.
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket):
        behaviour = connection.recv(65536).split(b" ", 2)[1].decode().split("/")[1]
        if behaviour == "reset-mid-stream":
            connection.sendall(HEAD + chunk(PARTIAL))
            time.sleep(0.2)
            # SO_LINGER 0 makes close() send a TCP reset instead of an orderly end.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        elif behaviour == "stall-mid-stream":
            connection.sendall(HEAD + chunk(PARTIAL))
            self.release.wait(30)
            connection.close()
        elif behaviour == "trailers":
            # A whole answer, its last chunk carrying a trailer: mitmproxy 11 and 12.3 cannot read it and cut
            # the agent's answer off after the terminal event.
            connection.sendall(
                HEAD.replace(b"\r\n\r\n", b"\r\ntrailer: x-checksum\r\n\r\n")
                + chunk(COMPLETED)
                + b"0\r\nx-checksum: 1f\r\n\r\n"
            )
            time.sleep(0.5)
            connection.close()
        elif behaviour == "close-after-terminal-event":
            connection.sendall(HEAD + chunk(COMPLETED))  # no last chunk: the answer is cut off
            time.sleep(0.2)
            connection.close()
        elif behaviour == "shorter-than-its-length":
            # The terminal event arrives, then the upstream closes 400 bytes short of its Content-Length.
            length = b"content-length: %d" % (len(COMPLETED) + 400)
            connection.sendall(HEAD.replace(b"transfer-encoding: chunked", length) + COMPLETED)
            time.sleep(0.2)
            connection.close()
        elif behaviour == "stall-before-answer":
            self.release.wait(30)
            connection.close()

    def close(self):
        self.release.set()
        self.server.close()


def target_with_stall_timeout(seconds):
    text = f"""
name: faults
description: one proxy with a short stall timeout
renderer: probe.apis.openai_responses.report
proxies: [{{name: model, listen: 0, upstream: "https://api.openai.com/"}}]
agent: {{command: ["true"]}}
stall_timeout: {seconds}
"""
    return parse_target(text, "faults.yaml")


@pytest.fixture(scope="module")
def upstream():
    server = FaultyUpstream()
    yield server
    server.close()


def shared_proxies(folder: Path, upstream: FaultyUpstream, stall_timeout: float):
    """One mitmdump for every case with this stall timeout: each case finds its own exchange by its path."""
    run = folder / "run"
    run.mkdir()
    proxies = start_proxies(target_with_stall_timeout(stall_timeout), run, f"http://127.0.0.1:{upstream.port}/")
    return proxies, run


@pytest.fixture(scope="module")
def stall_after_1_s(tmp_path_factory, upstream):
    proxies, run = shared_proxies(tmp_path_factory.mktemp("stall-1"), upstream, 1)
    yield proxies, run
    proxies.stop()


@pytest.fixture(scope="module")
def stall_after_5_s(tmp_path_factory, upstream):
    proxies, run = shared_proxies(tmp_path_factory.mktemp("stall-5"), upstream, 5)
    yield proxies, run
    proxies.stop()


def recorded(run: Path, behaviour: str) -> dict:
    """The one exchange of this case, once the addon has written it (when the exchange ended)."""
    deadline = time.monotonic() + 30
    while True:
        entries = [entry for entry in read_traffic(run) if f"/{behaviour}/" in entry["request"]["url"]]
        if entries or time.monotonic() > deadline:
            [entry] = entries
            return entry
        time.sleep(0.02)


def exchange(proxies, behaviour: str, timeout=20) -> tuple[bytes, float]:
    host, port = proxies.urls["model"].removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as client:
        client.sendall(b"POST /%s/v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}" % behaviour.encode())
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
def test_upstream_fault_is_recorded_with_the_bytes_received(stall_after_1_s, behaviour):
    proxies, run = stall_after_1_s
    received, elapsed = exchange(proxies, behaviour)
    entry = recorded(run, behaviour)
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
def test_an_answer_the_agent_did_not_get_whole_is_incomplete(stall_after_5_s, behaviour):
    """The record says `complete` only if the agent got the whole answer: an upstream that ends badly after its
    terminal event reaches the agent cut off, whichever mitmproxy forwards it."""
    proxies, run = stall_after_5_s
    received, _ = exchange(proxies, behaviour, timeout=10)
    entry = recorded(run, behaviour)
    got_whole = received.split(b"\r\n\r\n", 1)[1].endswith(b"\r\n\r\n") and b"\r\n0\r\n" in received
    assert entry["response"]["body"] == COMPLETED.decode()  # all the upstream sent, terminal event included
    if behaviour != "shorter-than-its-length":  # (there mitmproxy forwards none of the body)
        assert COMPLETED in received
    assert entry["complete"] is got_whole
    if behaviour != "trailers":  # (a later mitmproxy may read trailers: then the answer goes through whole)
        assert not got_whole
    if not got_whole:
        assert entry["error"]
