"""Time to first SSE event: direct, through `python -m probe.proxies`, and through a plain buffering mitmdump."""

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SlowStream(BaseHTTPRequestHandler):
    """An SSE stream of `events` events, `gap` seconds apart."""

    protocol_version = "HTTP/1.1"
    events, gap = 10, 0.1

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for index in range(self.events):
            chunk = f'event: tick\ndata: {{"type": "tick", "n": {index}}}\n\n'.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            time.sleep(self.gap)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def first_event_and_end(port: int) -> tuple[float, float]:
    """Seconds from sending the request to the first event's bytes, and to the end of the stream."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        started = time.perf_counter()
        client.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}")
        received, first = b"", None
        while not received.endswith(b"0\r\n\r\n"):
            data = client.recv(65536)
            if not data:
                break
            received += data
            if first is None and b"data:" in received:
                first = time.perf_counter() - started
        return first, time.perf_counter() - started


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_port}/"
    bin_dir = Path(sys.executable).parent

    with tempfile.TemporaryDirectory() as run:
        ours = subprocess.Popen(
            [sys.executable, "-m", "probe.proxies", "--target", "codex", "--upstream", upstream,
             "--port", "model=0", "--port", "backend=0", "--run", run],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
        our_port = int(re.search(r"127\.0\.0\.1:(\d+)", ours.stdout.readline()).group(1))
        plain_port = free_port()
        plain = subprocess.Popen(
            [str(bin_dir / "mitmdump"), "--listen-host", "127.0.0.1", "-q",
             "--mode", f"reverse:{upstream}@{plain_port}"], start_new_session=True)
        wait_for_port(our_port)
        wait_for_port(plain_port)
        results = {"direct": [], "probe proxies": [], "plain mitmdump": []}
        ports = {"direct": server.server_port, "probe proxies": our_port, "plain mitmdump": plain_port}
        for _ in range(args.runs):  # interleaved, so every path sees the same machine conditions
            for name, port in ports.items():
                results[name].append(first_event_and_end(port))
        for process in (ours, plain):
            os.killpg(process.pid, 2)
            process.wait(timeout=15)

    import mitmproxy.version

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, mitmproxy {mitmproxy.version.VERSION}")
    print(f"stream: {SlowStream.events} events, {SlowStream.gap * 1000:.0f} ms apart; median of {args.runs} runs")
    direct = statistics.median(first for first, _ in results["direct"])
    for name, samples in results.items():
        first = statistics.median(sample[0] for sample in samples)
        total = statistics.median(sample[1] for sample in samples)
        print(f"{name:15} first event {first * 1000:8.1f} ms  (+{(first - direct) * 1000:7.1f} ms vs direct)"
              f"  whole stream {total * 1000:7.1f} ms")
    server.shutdown()


if __name__ == "__main__":
    main()
