"""Large bodies: 200 MB SSE responses back to back, then one 500 MB response, direct, through a plain streaming
mitmdump and through the probe proxies, in the same run.

Reports each exchange's MB/s as the client reads it, the 2nd to last combined, and ours/plain for every exchange;
the recording's CPU per large exchange (our proxy's CPU minus plain's) beside a floor measured here (sha256 of the
body, one write of it to a file in the run folder, and one scan of it for the masking's needles by the fastest
scanner installed); each proxy's peak RSS; and whether the 500 MB body is recorded whole (the line's size and
sha256, and the body file it refers to hashing to its name).
"""

import argparse
import hashlib
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine
from proxy_routes import PeakMemory, cpu_seconds, proxy_routes, wait_until_idle
from upstream import LARGE_EVENT_SIZE, large_body, large_event, upstream_running

# (proxy_routes, imported above, puts the project on the path)
from probe.redact.masking import TEXT_FINDER

MB = 1_000_000
TERMINATOR = b"\r\n0\r\n\r\n"
RECORD_WAIT = 30.0  # seconds the proxy gets to finish writing the large record once it looks idle
SCAN_SEGMENT = 1 << 20  # bytes the floor's scan takes at a time, as the recorder masks a large body


def fetch(port: int, events: int) -> float:
    """Seconds from sending the request to the end of a response of `events` large events."""
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with socket.create_connection(("127.0.0.1", port), timeout=300) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        started = time.perf_counter()
        client.sendall(b"GET /sse/%d HTTP/1.1\r\nHost: bench\r\naccept: text/event-stream\r\n\r\n" % events)
        tail = b""
        while not tail.endswith(TERMINATOR):
            received = client.recv_into(buffer)
            if not received:
                raise SystemExit(f"port {port}: the connection closed before the end of the response")
            tail = (tail + view[max(0, received - 16) : received])[-16:]
        return time.perf_counter() - started


def events_for(megabytes: float) -> int:
    return max(1, round(megabytes * MB / LARGE_EVENT_SIZE))


def floor_seconds(folder: Path, events: int) -> float:
    """CPU seconds for the least any recording must do with the body, chunk by chunk: its sha256, one write to a file
    in `folder` (no fsync), and one scan for every masking needle by the fastest scanner installed, a segment of
    SCAN_SEGMENT bytes at a time."""
    chunk = large_event()
    per_segment = max(1, SCAN_SEGMENT // len(chunk))
    path = folder / "floor.tmp"
    started = time.thread_time()
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for written in range(0, events, per_segment):
            count = min(per_segment, events - written)
            for _ in range(count):
                digest.update(chunk)
                os.write(fd, chunk)
            TEXT_FINDER.positions(chunk * count)
    finally:
        os.close(fd)
    digest.hexdigest()
    spent = time.thread_time() - started
    path.unlink()
    return spent


def scanner_name() -> str:
    """The fastest scanner the masking has here, for the report."""
    if TEXT_FINDER.fast is not None:
        return "Hyperscan"
    return "RE2" if TEXT_FINDER.union is not None else "bytes.find"


def written_past(traffic: Path, offset: int) -> bool:
    """Whether a whole line has been written past `offset` (the proxy may still be writing the record)."""
    if not traffic.is_file() or traffic.stat().st_size <= offset:
        return False
    with traffic.open("rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


def recorded_whole(traffic: Path, offset: int, size: int, sha256: str) -> str:
    """What traffic.jsonl says, past `offset`, of the one exchange written since; read in blocks, never whole."""
    deadline = time.monotonic() + RECORD_WAIT
    while not written_past(traffic, offset) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not traffic.is_file():
        return "MISSING: no traffic.jsonl"
    sizes, digests, files, lines, complete = set(), set(), set(), 0, False
    patterns = (rb'"body_size"\s*:\s*(\d+)', rb'"body_sha256"\s*:\s*"([0-9a-f]{64})"', rb'"complete"\s*:\s*true')
    overlap = b""
    with traffic.open("rb") as file:
        file.seek(offset)
        while block := file.read(16 * MB):
            lines += block.count(b"\n")
            text = overlap + block
            sizes.update(int(found) for found in re.findall(patterns[0], text))
            digests.update(found.decode() for found in re.findall(patterns[1], text))
            files.update(found.decode() for found in re.findall(rb'"body_file"\s*:\s*"bodies/([0-9a-f]{64})"', text))
            complete = complete or re.search(patterns[2], text) is not None
            overlap = block[-200:]
    problems = [f"its body file bodies/{name[:12]}… {why}" for name in files if (why := file_problem(traffic, name))]
    if lines != 1:
        problems.append(f"{lines} lines written for it instead of 1")
    if size not in sizes:
        problems.append(f"no body_size {size:,} (found {sorted(sizes) or 'none'})")
    if sha256 not in digests:
        problems.append("no body_sha256 equal to the sent body's")
    if not complete:
        problems.append("not marked complete")
    if problems:
        return "MISSING or wrong: " + "; ".join(problems)
    stored = ", in bodies/ under its sha256" if files == {sha256} else ""
    return f"recorded whole (body_size {size:,}, body_sha256 equal to the sent body's{stored}, complete)"


def file_problem(traffic: Path, name: str) -> str | None:
    """Why the body file `name` beside traffic.jsonl is not whole: missing, or not hashing to its name."""
    path = traffic.parent / "bodies" / name
    if not path.is_file():
        return "is missing"
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(16 * MB):
            digest.update(block)
    return None if digest.hexdigest() == name else "does not hash to its name"


def one_round(upstream_port: int, args: argparse.Namespace, results: dict) -> None:
    """Every route through the back-to-back exchanges, then the single large one; adds to `results`."""
    events, single_events = events_for(args.exchange_mb), events_for(args.single_mb)
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder)
        results["floor"].append(statistics.median(floor_seconds(run, events) for _ in range(3)))
        with proxy_routes(upstream_port, run) as routes:
            for route in routes:
                wait_until_idle(route.pid)
                before = cpu_seconds(route.pid)
                with PeakMemory(route.pid) if route.pid else memoryless() as memory:
                    times = [fetch(route.port, events) for _ in range(args.exchanges)]
                    wait_until_idle(route.pid)  # the recording of the last one is part of the cost
                results[route.name]["times"].append(times)
                results[route.name]["cpu"].append((cpu_seconds(route.pid) - before) / args.exchanges)
                results[route.name]["rss"].append(memory.megabytes)
            traffic = run / "traffic.jsonl"
            for route in routes:
                offset = traffic.stat().st_size if traffic.is_file() else 0
                with PeakMemory(route.pid) if route.pid else memoryless() as memory:
                    results[route.name]["single"].append(fetch(route.port, single_events))
                    wait_until_idle(route.pid)
                results[route.name]["single_rss"].append(memory.megabytes)
                if route.name == "probe proxies":
                    size, sha256 = large_body(single_events)
                    results["recorded"].append(recorded_whole(traffic, offset, size, sha256))


class memoryless:
    """Stands in for PeakMemory where there is no proxy process."""

    megabytes = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


def report(args: argparse.Namespace, results: dict) -> None:
    size, single = (
        events_for(args.exchange_mb) * LARGE_EVENT_SIZE / MB,
        events_for(args.single_mb) * LARGE_EVENT_SIZE / MB,
    )
    names = ["direct", "plain mitmdump", "probe proxies"]
    rates = {}
    for name in names:
        runs = results[name]["times"]
        per_exchange = [size / statistics.median(run[index] for run in runs) for index in range(args.exchanges)]
        later = (
            statistics.median((args.exchanges - 1) * size / sum(run[1:]) for run in runs) if args.exchanges > 1 else 0
        )
        rates[name] = per_exchange + [later]
    header = "".join(f"{index + 1:>8}" for index in range(args.exchanges)) + f"{'2nd-last':>10}"
    print(f"{args.exchanges} x {size:.0f} MB back to back, MB/s per exchange (median of {args.runs} rounds):")
    print(f"  {'':16}{header}")
    for name in names:
        row = rates[name]
        print(f"  {name:16}" + "".join(f"{rate:8.0f}" for rate in row[:-1]) + f"{row[-1]:10.0f}")
    ratios = [ours / plain for ours, plain in zip(rates["probe proxies"], rates["plain mitmdump"])]
    print(f"  {'ours / plain':16}" + "".join(f"{ratio:8.2f}" for ratio in ratios[:-1]) + f"{ratios[-1]:10.2f}")
    print(f"  lowest ours/plain of any exchange: {min(ratios[:-1]):.2f} (target >= 0.7)")

    plain_cpu, our_cpu = (statistics.median(results[name]["cpu"]) for name in names[1:])
    floor = statistics.median(results["floor"])
    recording = our_cpu - plain_cpu
    print(f"proxy CPU per {size:.0f} MB exchange (recording included): plain {plain_cpu:.2f} s, ours {our_cpu:.2f} s")
    print(
        f"  recording CPU (ours - plain) {recording:.2f} s; floor (sha256 + one write to the run folder's disk + one "
        f"{scanner_name()} scan, measured here) {floor:.2f} s: {recording / floor:.1f}x the floor (target <= 2x)"
    )
    plain_rss, our_rss = (statistics.median(results[name]["rss"]) for name in names[1:])
    print(f"peak RSS during the {size:.0f} MB exchanges: plain {plain_rss:.0f} MB, ours {our_rss:.0f} MB")

    print(f"one {single:.0f} MB response:")
    for name in names:
        rate = single / statistics.median(results[name]["single"])
        rss = f", peak RSS {statistics.median(results[name]['single_rss']):6.0f} MB" if name != "direct" else ""
        print(f"  {name:16}{rate:8.0f} MB/s{rss}")
    plain_rss, our_rss = (statistics.median(results[name]["single_rss"]) for name in names[1:])
    print(f"  peak RSS ours - plain: {our_rss - plain_rss:+.0f} MB (target <= +100 MB)")
    for index, verdict in enumerate(results["recorded"], start=1):
        print(f"  traffic.jsonl, round {index}: the {single:.0f} MB exchange is {verdict}")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="rounds of the whole sequence; medians are reported")
    parser.add_argument("--exchanges", type=int, default=5, help="back-to-back exchanges (default: 5)")
    parser.add_argument("--exchange-mb", type=float, default=200, help="size of each of them (default: 200)")
    parser.add_argument("--single-mb", type=float, default=500, help="size of the single response (default: 500)")
    return parser.parse_args()


def main() -> int:
    args = options()
    with upstream_running() as upstream_port:
        print(describe_machine())
        print(
            f"upstream: {LARGE_EVENT_SIZE // 1024} KB SSE events, one chunk each, identity; {args.exchanges} x "
            f"{args.exchange_mb:g} MB back to back, then one {args.single_mb:g} MB response, through each route in turn"
        )
        names = ["direct", "plain mitmdump", "probe proxies"]
        results = {"floor": [], "recorded": []} | {
            name: {"times": [], "cpu": [], "rss": [], "single": [], "single_rss": []} for name in names
        }
        for _ in range(args.runs):
            one_round(upstream_port, args, results)
        report(args, results)
    return 1 if any(verdict.startswith("MISSING") for verdict in results["recorded"]) else 0


if __name__ == "__main__":
    sys.exit(main())
