"""A fast upstream for the proxy benchmarks, in a process of its own: it answers from prebuilt bytes chosen by path.

`/sse/EVENTS` streams EVENTS server-sent events of 64 KB each, one chunk per event (chunked, identity, as
`text/event-stream`). `/v1/responses?form=chunked|length&kb=KB` answers a Responses API stream of about KB
kilobytes in ~120-byte events, one chunk per event or with a content-length. Connections are kept alive.
Its own process keeps its CPU out of the benchmark's, and out of its GIL.
"""

import argparse
import contextlib
import functools
import json
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
LARGE_EVENT_SIZE = 64 * 1024
BATCH = 16  # large events per sendall: 1 MB at a time keeps the upstream's CPU low
WORDS = ["the", "quick", "model", "streams", "its", "answer", "word", "by", "word", "while", "the", "proxy", "records"]


@functools.cache
def large_event() -> bytes:
    """One 64 KB SSE event: a Responses API text delta of ordinary words."""
    head, tail = b'data: {"type":"response.output_text.delta","delta":"', b'"}\n\n'
    text = (" ".join(WORDS) + " ").encode() * (LARGE_EVENT_SIZE // 40)
    return head + text[: LARGE_EVENT_SIZE - len(head) - len(tail)] + tail


def large_body(events: int) -> tuple[int, str]:
    """The size and sha256 of the body `/sse/EVENTS` sends, as the recording must describe it."""
    import hashlib

    digest = hashlib.sha256()
    for _ in range(events):
        digest.update(large_event())
    return events * LARGE_EVENT_SIZE, digest.hexdigest()


def codex_events(kilobytes: float) -> list[bytes]:
    """A Responses API stream of about `kilobytes` KB: created, ~120-byte text deltas, completed with usage."""
    created = {
        "type": "response.created",
        "response": {"id": "resp_bench", "object": "response", "status": "in_progress", "model": "gpt-5-codex"},
    }
    events = [created]
    texts = []
    while sum(len(json.dumps(event)) + 40 for event in events) < kilobytes * 1000 - 600:
        delta = " " + WORDS[len(texts) % len(WORDS)] + " " + WORDS[(len(texts) * 7) % len(WORDS)]
        texts.append(delta)
        events.append({"type": "response.output_text.delta", "output_index": 0, "delta": delta})
    message = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "".join(texts)}]}
    usage = {
        "input_tokens": 17000,
        "input_tokens_details": {"cached_tokens": 16000},
        "output_tokens": len(texts) * 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 17000 + len(texts) * 2,
    }
    completed = {"type": "response.completed", "response": dict(created["response"], status="completed", usage=usage)}
    completed["response"]["output"] = [message] if kilobytes > 20 else []  # the text once more, as the API does
    events.append(completed)
    return [
        f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode() for event in events
    ]


@functools.cache
def codex_answer(form: str, kilobytes: float) -> bytes:
    events = codex_events(kilobytes)
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    if form == "length":
        body = b"".join(events)
        return head + b"content-length: %d\r\n\r\n" % len(body) + body
    return (
        head
        + b"transfer-encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)
        + (b"0\r\n\r\n")
    )


def send_large(connection: socket.socket, events: int) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    framed = b"%x\r\n%s\r\n" % (LARGE_EVENT_SIZE, large_event())
    batch = framed * BATCH
    for _ in range(events // BATCH):
        connection.sendall(batch)
    connection.sendall(framed * (events % BATCH) + b"0\r\n\r\n")


def answer(connection: socket.socket) -> None:
    """Serve one kept-alive connection until the client closes it."""
    pending = bytearray()
    with connection:
        while True:
            while b"\r\n\r\n" not in pending:
                data = connection.recv(1 << 20)
                if not data:
                    return
                pending += data
            end = pending.index(b"\r\n\r\n")
            head, length = bytes(pending[:end]), 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            del pending[: end + 4]
            while len(pending) < length:
                data = connection.recv(1 << 20)
                if not data:
                    return
                pending += data
            del pending[:length]
            target = urllib.parse.urlsplit(head.split(b" ")[1].decode())
            if target.path.startswith("/sse/"):
                send_large(connection, int(target.path.rsplit("/", 1)[1]))
            else:
                query = dict(urllib.parse.parse_qsl(target.query))
                connection.sendall(codex_answer(query.get("form", "chunked"), float(query.get("kb", 50))))


def serve(listener: socket.socket) -> None:
    while True:
        connection, _ = listener.accept()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        threading.Thread(target=answer, args=(connection,), daemon=True).start()


@contextlib.contextmanager
def upstream_running():
    """This upstream's port while it runs in its own process group; a watchdog stops it, and every proxy the
    benchmark starts, should the benchmark be killed."""
    sys.path.insert(0, str(HERE.parent))
    from probe.capture import processes, watchdog

    watchdog.start()
    try:
        process = processes.spawn([sys.executable, str(Path(__file__))], stdout=subprocess.PIPE, text=True)
        try:
            yield int(process.stdout.readline())
        finally:
            processes.stop(process)
    finally:
        watchdog.stop()


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    serve(listener)


if __name__ == "__main__":
    main()
