"""Throughput: a 200 MB streamed response and a 50 MB request body, direct and through the probe proxies.

Also through a plain streaming mitmdump (no addon), which is mitmproxy's own speed, for comparison.
Reports MB/s (median of the runs), the ratio to direct, and the CPU seconds each proxy process used.
"""

import argparse
import signal
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from machine import describe_machine
from proxy_routes import cpu_seconds, start_ours, start_plain, wait_until_idle

from probe.capture import processes, watchdog

MB = 1_000_000
CHUNK = 64 * 1024
EVENT = b'data: {"type": "response.output_text.delta", "delta": "' + b"x" * 900 + b'"}\n\n'


class Upstream:
    """Streams `response_size` bytes of SSE as chunked HTTP as fast as it can, after reading the request."""

    def __init__(self, response_size: int):
        body = EVENT * (response_size // len(EVENT) + 1)
        self.body = memoryview(body[:response_size])
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket):
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(65536)
            head, _, rest = head.partition(b"\r\n\r\n")
            length = int(
                next(
                    (line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
                    b"0",
                )
            )
            received = len(rest)
            while received < length:
                received += len(connection.recv(1 << 20))
            small = length > 0  # an upload is answered briefly: the figure is for the request
            body = b'{"ok": true}' if small else self.body
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n"
                % (b"application/json" if small else b"text/event-stream")
            )
            for offset in range(0, len(body), CHUNK):
                piece = body[offset : offset + CHUNK]
                connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            connection.sendall(b"0\r\n\r\n")


def exchange(port: int, upload: bytes) -> float:
    """Seconds from sending the request to the end of the response."""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        started = time.perf_counter()
        client.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-type: application/octet-stream\r\n"
            b"content-length: %d\r\n\r\n" % len(upload) + upload
        )
        tail = b""
        while True:
            data = client.recv(1 << 20)
            if not data:
                break
            tail = (tail + data)[-16:]
            if tail.endswith(b"\r\n0\r\n\r\n"):
                break
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--response-mb", type=int, default=200)
    parser.add_argument("--request-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    upstream = Upstream(args.response_mb * MB)
    upload = b"u" * (args.request_mb * MB)
    watchdog.start()  # should this benchmark be killed, its watchdog stops the proxies it started
    with tempfile.TemporaryDirectory() as run:
        ours = start_ours(f"http://127.0.0.1:{upstream.port}/", Path(run))
        plain, plain_port = start_plain(f"http://127.0.0.1:{upstream.port}/")
        routes = {
            "direct": (upstream.port, None),
            "probe proxies": (ours.ports["model"], ours.process.pid),
            "plain mitmdump": (plain_port, plain.pid),
        }
        print(describe_machine())
        for what, body, size in (("response", b"", args.response_mb), ("request", upload, args.request_mb)):
            times = {name: [] for name in routes}
            cpu = {name: 0.0 for name in routes}
            for _ in range(args.runs):  # interleaved, so every route sees the same conditions
                for name, (port, pid) in routes.items():
                    wait_until_idle(pid)
                    before = cpu_seconds(pid) if pid else 0
                    times[name].append(exchange(port, body))
                    wait_until_idle(pid)
                    cpu[name] += (cpu_seconds(pid) - before) if pid else 0
            direct = size / statistics.median(times["direct"])
            print(f"{size} MB {what}, median of {args.runs} runs:")
            for name, samples in times.items():
                rate = size / statistics.median(samples)
                proxy_cpu = f", proxy CPU {cpu[name] / args.runs:.2f} s per exchange" if routes[name][1] else ""
                print(f"  {name:15} {rate:8.0f} MB/s  ({rate / direct:.2f} of direct{proxy_cpu})")
        ours.stop()
        processes.stop(plain, signal.SIGINT, grace=15)
    watchdog.stop()


if __name__ == "__main__":
    main()
