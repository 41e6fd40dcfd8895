"""Streaming latency: time to first byte and each SSE event's delay, direct, through the probe proxies,
and through a plain `mitmdump --mode reverse` with no addon (which buffers the whole stream).

The upstream stamps every event with the time it sent it; the client notes when the event arrived.
"""

import argparse
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from machine import describe_machine
from proxy_routes import wait_for_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class StampedStream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    events, gap = 50, 0.02

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for index in range(self.events):
            chunk = f'data: {{"type": "tick", "n": {index}, "sent": {time.time()!r}}}\n\n'.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            time.sleep(self.gap)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def one_stream(port: int) -> tuple[float, list[float]]:
    """Time to first byte, and each event's delay from being sent upstream to reaching the client (seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
        started = time.perf_counter()
        client.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}")
        buffer, first_byte, delays = b"", None, []
        while not buffer.endswith(b"0\r\n\r\n"):
            data = client.recv(65536)
            if not data:
                break
            now = time.time()
            if first_byte is None and b"data:" in buffer + data:
                first_byte = time.perf_counter() - started
            buffer += data
            for sent in re.findall(rb'"sent": ([0-9.]+)', data):
                delays.append(now - float(sent))
        return first_byte, delays


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StampedStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_port}/"
    sys.path.insert(0, str(PROJECT_ROOT))
    from probe.capture import processes, watchdog
    from probe.capture.ports import free_port
    from probe.capture.proxies import find_mitmdump

    watchdog.start()  # should this benchmark be killed, its watchdog stops the proxies it started
    with tempfile.TemporaryDirectory() as run:
        ours = processes.spawn(
            [
                sys.executable,
                "-m",
                "probe.record",
                "proxies",
                "--target",
                "codex",
                "--upstream",
                upstream,
                "--port",
                "model=0",
                "--port",
                "backend=0",
                "--run",
                run,
            ],
            signal.SIGINT,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the live feed runs, as it does for a user, but its lines are not figures
            text=True,
        )
        our_port = int(re.search(r"127\.0\.0\.1:(\d+)", ours.stdout.readline()).group(1))
        plain_port = free_port()
        plain = processes.spawn(
            [find_mitmdump(), "--listen-host", "127.0.0.1", "-q", "--mode", f"reverse:{upstream}@{plain_port}"],
            signal.SIGINT,
        )
        wait_for_port(our_port)
        wait_for_port(plain_port)
        ports = {"direct": server.server_port, "probe proxies": our_port, "plain mitmdump": plain_port}
        results = {name: ([], []) for name in ports}
        for _ in range(args.runs):  # interleaved, so every route sees the same machine conditions
            for name, port in ports.items():
                first, delays = one_stream(port)
                results[name][0].append(first)
                results[name][1].extend(delays)
        for process in (ours, plain):
            processes.stop(process, signal.SIGINT, grace=15)
    watchdog.stop()
    server.shutdown()

    print(describe_machine())
    print(f"stream: {StampedStream.events} events, {StampedStream.gap * 1000:.0f} ms apart; {args.runs} runs per route")
    direct_first = statistics.median(results["direct"][0])
    direct_delays = results["direct"][1]
    for name, (firsts, delays) in results.items():
        ttfb = [first * 1000 for first in firsts]
        added_p50 = (percentile(delays, 0.5) - percentile(direct_delays, 0.5)) * 1000
        added_p99 = (percentile(delays, 0.99) - percentile(direct_delays, 0.99)) * 1000
        print(
            f"{name:15} first byte p50 {percentile(ttfb, 0.5):8.1f} ms p99 {percentile(ttfb, 0.99):8.1f} ms "
            f"(+{(statistics.median(firsts) - direct_first) * 1000:7.1f} ms vs direct) | event delay p50 "
            f"{percentile(delays, 0.5) * 1000:8.2f} ms p99 {percentile(delays, 0.99) * 1000:8.2f} ms "
            f"(added p50 {added_p50:+7.2f} ms, p99 {added_p99:+7.2f} ms)"
        )


if __name__ == "__main__":
    main()
