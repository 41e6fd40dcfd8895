"""Realistic load: codex-shaped exchanges at a fixed rate, direct, through a plain streaming mitmdump and through
the probe proxies, in the same run.

Each exchange is codex's real ~68 KB POST /v1/responses body (from the bundled sample) answered by a Responses API
stream of ~120-byte events: 50 KB chunked, 50 KB with a content-length, and 5 KB chunked. The load is open-loop:
requests leave on a fixed schedule over a few kept-alive connections, and latency runs from the scheduled send to
the end of the response, so a proxy that cannot keep up shows as growing latency. Reports per route the p50/p95
latency added to direct's, the proxy's CPU per exchange, the rate achieved and whether it saturated; and checks
that traffic.jsonl holds one complete line per exchange.
"""

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from generate_capture import template_request
from machine import describe_machine
from proxy_routes import cpu_seconds, proxy_routes, wait_until_idle
from upstream import upstream_running

CONNECTIONS = 16
SHAPES = [("50 KB chunked", "chunked", 50), ("50 KB content-length", "length", 50), ("5 KB chunked", "chunked", 5)]
TERMINATOR = b"\r\n0\r\n\r\n"
BEHIND_LIMIT = 1.0  # seconds behind the schedule that count as saturation
BATCH_PAUSE = 0.001  # seconds between the load generator's reads of one response
DRAIN = 60.0  # seconds the last requests get to finish after the schedule ends


def codex_request(form: str, kilobytes: float) -> bytes:
    """codex's request as it sends it, whose query tells the upstream which answer to give."""
    body = json.dumps(template_request(), separators=(",", ":")).encode()
    return (
        b"POST /v1/responses?form=%s&kb=%g HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\n"
        b"accept: text/event-stream\r\nauthorization: Bearer sk-bench-not-a-real-key-0000000000000000\r\n"
        b"originator: codex_cli_rs\r\nuser-agent: codex_cli_rs/0.169.0\r\nsession_id: bench-session\r\n"
        b"content-length: %d\r\n\r\n" % (form.encode(), kilobytes, len(body)) + body
    )


class Connection(asyncio.Protocol):
    """One kept-alive client connection that sends a request and notes when its whole response has arrived.

    A protocol, not a stream reader: a proxy passes a chunked stream on in many small pieces, and the load
    generator shares the cores with the proxy it measures, so it must read them cheaply.
    """

    def __init__(self) -> None:
        self.transport = None
        self.finished: asyncio.Future | None = None
        self.head = b""
        self.remaining: int | None = None  # body bytes still to come, when the response has a content-length
        self.tail: bytes | None = None  # the last bytes of a chunked body, once the head is in

    def connection_made(self, transport) -> None:
        self.transport = transport

    def exchange(self, request: bytes) -> asyncio.Future:
        self.finished = asyncio.get_running_loop().create_future()
        self.head, self.remaining, self.tail = b"", None, None
        self.transport.write(request)
        return self.finished

    def data_received(self, data: bytes) -> None:
        if self.remaining is None and self.tail is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            self.tail = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.remaining, self.tail = int(value), None
        if self.remaining is not None:
            self.remaining -= len(data)
            ended = self.remaining <= 0
        else:  # SSE events never hold the terminator, so the end of the chunked body is enough
            self.tail = (self.tail + data[-16:])[-16:]
            ended = self.tail.endswith(TERMINATOR)
        if ended and not self.finished.done():
            self.finished.set_result(None)
        elif not ended:
            # Read the rest in batches a millisecond apart: one read per 120-byte event would cost the load
            # generator more CPU than the proxy it measures. It delays an exchange's end by a millisecond at most.
            self.transport.pause_reading()
            asyncio.get_running_loop().call_later(BATCH_PAUSE, self.transport.resume_reading)

    def connection_lost(self, error) -> None:
        if self.finished is not None and not self.finished.done():
            self.finished.set_exception(ConnectionError("closed before the end of the response"))


async def worker(port: int, request: bytes, queue: asyncio.Queue, done: list) -> None:
    loop = asyncio.get_running_loop()
    transport, connection = await loop.create_connection(Connection, "127.0.0.1", port)
    try:
        await connection.exchange(request)  # a first exchange opens the proxy's upstream connection
        done.append(None)
        while (scheduled := await queue.get()) is not None:
            await connection.exchange(request)
            done.append((scheduled, loop.time()))
    finally:
        transport.close()


async def load(port: int, request: bytes, rate: float, seconds: float) -> tuple[list, int]:
    """(scheduled, finished) loop times of every scheduled exchange finished, and how many were scheduled."""
    queue, done = asyncio.Queue(), []
    workers = [asyncio.create_task(worker(port, request, queue, done)) for _ in range(CONNECTIONS)]
    while len(done) < CONNECTIONS:  # every connection warmed up
        await asyncio.sleep(0.01)
    done.clear()
    loop = asyncio.get_running_loop()
    start, count = loop.time() + 0.05, int(rate * seconds)
    for index in range(count):
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        queue.put_nowait(scheduled)
    for _ in workers:
        queue.put_nowait(None)
    finished, pending = await asyncio.wait(workers, timeout=DRAIN)
    for task in pending:
        task.cancel()
    for task in finished:
        if task.exception():
            raise SystemExit(f"port {port}: {task.exception()!r}")
    return done, count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(route, request: bytes, rate: float, seconds: float) -> dict:
    wait_until_idle(route.pid)
    before, client_before = cpu_seconds(route.pid), client_cpu()
    done, count = asyncio.run(load(route.port, request, rate, seconds))
    client = client_cpu() - client_before
    wait_until_idle(route.pid)
    latencies = [finished - scheduled for scheduled, finished in done]
    span = max(finished for _, finished in done) - min(scheduled for scheduled, _ in done) if done else 1
    return {
        "latencies": latencies,
        "cpu": (cpu_seconds(route.pid) - before) / max(1, len(done)),
        "achieved": len(done) / span,
        "behind": max(latencies, default=float("inf")),
        "missing": count - len(done),
        "client": client,
        "exchanges": count + CONNECTIONS,  # the warm-up exchanges are recorded too
    }


def report(name: str, rate: float, seconds: float, results: dict) -> None:
    print(f"{name} SSE, {rate:g} req/s offered for {seconds:g} s, {CONNECTIONS} kept-alive connections:")
    print(
        f"  {'':16}{'p50 ms':>8}{'p95 ms':>8}{'added p50':>11}{'added p95':>11}{'CPU/exchange':>14}"
        f"{'achieved':>10}  saturated"
    )
    pooled = {route: [value for run in runs for value in run["latencies"]] for route, runs in results.items()}
    direct50, direct95 = percentile(pooled["direct"], 0.5), percentile(pooled["direct"], 0.95)
    added = {}
    for route, runs in results.items():
        p50, p95 = percentile(pooled[route], 0.5), percentile(pooled[route], 0.95)
        added[route] = p50 - direct50
        cpu = statistics.median(run["cpu"] for run in runs)
        achieved = min(run["achieved"] for run in runs)
        behind, missing = max(run["behind"] for run in runs), sum(run["missing"] for run in runs)
        saturated = missing or behind > BEHIND_LIMIT or achieved < 0.95 * rate
        why = f"yes ({behind:.1f} s behind, {missing} unfinished)" if saturated else "no"
        cpu_text = f"{cpu * 1000:9.1f} ms" if route != "direct" else f"{'-':>12}"
        added_text = (
            f"{(p50 - direct50) * 1000:+11.1f}{(p95 - direct95) * 1000:+11.1f}" if route != "direct" else " " * 22
        )
        print(f"  {route:16}{p50 * 1000:8.1f}{p95 * 1000:8.1f}{added_text}{cpu_text:>14}{achieved:8.1f}/s  {why}")
    plain_cpu, our_cpu = (
        statistics.median(run["cpu"] for run in results[route]) for route in ("plain mitmdump", "probe proxies")
    )
    latency_ratio = added["probe proxies"] / added["plain mitmdump"] if added["plain mitmdump"] > 0 else float("nan")
    print(
        f"  ours / plain: added p50 latency {latency_ratio:.2f}x, CPU per exchange {our_cpu / plain_cpu:.2f}x "
        "(targets <= 1.3x each, no saturation)"
    )
    client = sum(run["client"] for runs in results.values() for run in runs)
    print(f"  load generator CPU: {client:.2f} s over {len(results) * len(results['direct']) * seconds:g} s of load")


def check_traffic(traffic: Path, expected: int) -> str:
    """Whether traffic.jsonl holds one line per exchange, each complete with its whole response."""
    if not traffic.is_file():
        return "MISSING: no traffic.jsonl"
    lines = complete = answered = 0
    with traffic.open("rb") as file:
        for line in file:
            entry = json.loads(line)
            lines += 1
            complete += entry.get("complete") is True
            answered += bool((entry.get("response") or {}).get("body_size"))
    verdict = f"{lines} lines for {expected} exchanges, {complete} complete, {answered} with a response body"
    return verdict if lines == complete == answered == expected else "WRONG: " + verdict


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="rounds of every measurement; latencies are pooled")
    parser.add_argument("--rate", type=float, default=50, help="exchanges per second offered (default: 50)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per route and shape (default: 10)")
    return parser.parse_args()


def main() -> int:
    args = options()
    with upstream_running() as upstream_port:
        print(describe_machine())
        body = codex_request("chunked", 50).partition(b"\r\n\r\n")[2]
        print(
            f"request: codex's POST /v1/responses, {len(body) / 1000:.0f} KB of JSON; "
            f"answers: {', '.join(name for name, _, _ in SHAPES)}, in ~120-byte SSE events"
        )
        with tempfile.TemporaryDirectory() as folder:
            run, expected = Path(folder), 0
            with proxy_routes(upstream_port, run) as routes:
                for name, form, kilobytes in SHAPES:
                    request = codex_request(form, kilobytes)
                    results = {route.name: [] for route in routes}
                    for _ in range(args.runs):  # interleaved, so every route sees the same conditions
                        for route in routes:
                            results[route.name].append(measure(route, request, args.rate, args.seconds))
                    expected += sum(run["exchanges"] for run in results["probe proxies"])
                    report(name, args.rate, args.seconds, results)
            verdict = check_traffic(run / "traffic.jsonl", expected)
            print(f"traffic.jsonl of the probe proxies: {verdict}")
    return 0 if not verdict.startswith(("WRONG", "MISSING")) else 1


if __name__ == "__main__":
    sys.exit(main())
