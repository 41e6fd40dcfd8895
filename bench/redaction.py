"""Masking throughput: what the capture spends on a body, and the analyzer on report text, against floors.

Each case runs `mask_body` (or `mask_text`, as the report does) beside its floor in the same run: one memory-
speed scan of the same bytes (`bytes.find` of one probe) for text, and `json.loads` for a JSON request body.
Then the request bodies codex and Claude Code send on every turn (from the bundled samples): the text scan
alone (`mask_bytes`) and the whole of a body's masking (`mask_body`), per body, beside two floors: one pass
(lowercase the body and `find` one needle) and one `find` per needle of the rules.
Figures are medians of the runs; nothing here passes or fails.
"""

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.redact.masking import mask_body, mask_bytes, mask_text  # noqa: E402  (the project is imported from its checkout)
from probe.redact.shape_rules import RULES, needles_of  # noqa: E402

EVENT = (
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_0a1b2c",'
    '"output_index":0,"content_index":0,"delta":"def hello():\\n    return \\"Hello, world!\\"  # tokens, keys"}\n\n'
)
SECRET_EVENT = EVENT.replace("# tokens, keys", "# key sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL")  # made up, split


def sample_request(target: str = "codex", sample: str = "*-sample-http") -> bytes:
    """A real request body from a bundled sample: codex's Responses request (about 68 KB: instructions, tool
    schemas, messages with `task-`, `ask`, URLs) or Claude Code's Messages request (about 50 KB)."""
    capture = next((PROJECT_ROOT / "data" / target).glob(f"{sample}/traffic.jsonl"))
    for line in capture.read_text().splitlines():
        body = json.loads(line)["request"].get("body")
        if isinstance(body, dict) and (body.get("input") or body.get("messages")):
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()  # as the agents write it
    raise SystemExit(f"no request body in {capture}")


def find_every_needle(data: bytes) -> None:
    """The floor of scanning for the rules' literals one by one: a `find` pass per needle."""
    lowered = data.lower()
    for rule in RULES:
        haystack = lowered if rule.lowercase else data
        for needle in needles_of(rule):
            haystack.count(needle.encode())  # a whole pass, as finding each place would be


def per_body_cases(runs: int, repeats: int) -> None:
    """Each agent's request body: the scan and the whole masking, per body, beside the floors."""
    print(f"\nrequest bodies, microseconds per body, median of {runs} runs of {repeats}")
    print(f"{'body':<34} {'one pass':>9} {'find/needle':>12} {'mask_bytes':>11} {'mask_body':>10}")
    for name, data in (
        ("codex Responses request", sample_request("codex")),
        ("Claude Code Messages request", sample_request("claude-code", "*-sample-mock")),
    ):
        works = (
            partial(one_pass, data),
            partial(find_every_needle, data),
            partial(mask_bytes, data),
            partial(mask_body, data, "application/json"),
        )
        figures = [median_seconds(partial(repeated, work, repeats), runs) / repeats * 1e6 for work in works]
        label = f"{name}, {len(data) / 1e3:.0f} KB"
        print(f"{label:<34} {figures[0]:>9.0f} {figures[1]:>12.0f} {figures[2]:>11.0f} {figures[3]:>10.0f}")


def one_pass(data: bytes) -> None:
    """The floor of any scan that looks at case: the body lowercased and searched once."""
    data.lower().find(b"sk-")


def repeated(work, times: int) -> None:
    for _ in range(times):
        work()


def median_seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=200, help="size of the streamed bodies")
    parser.add_argument("--repeats", type=int, default=50, help="bodies masked in one run of the per-body cases")
    args = parser.parse_args()
    size = args.megabytes * 1_000_000
    stream = (EVENT * (size // len(EVENT))).encode()
    with_secrets = (EVENT * 9999 + SECRET_EVENT).encode() * (len(stream) // (len(EVENT) * 10000))
    report_text = stream[: len(stream) // 4].decode()  # a 1 GB capture makes about 45 MB of report
    request = sample_request()
    cases = [
        (
            f"SSE body, {len(stream) / 1e6:.0f} MB, no secret",
            len(stream),
            lambda: mask_body(stream, "text/event-stream"),
            lambda: stream.find(b"sk-"),
        ),
        (
            f"SSE body, {len(with_secrets) / 1e6:.0f} MB, a secret every 10,000 events",
            len(with_secrets),
            lambda: mask_body(with_secrets, "text/event-stream"),
            lambda: with_secrets.find(b"sk-"),
        ),
        (
            f"report text, {len(report_text) / 1e6:.0f} MB",
            len(report_text),
            lambda: mask_text(report_text),
            lambda: report_text.find("sk-"),
        ),
        (
            f"codex request JSON, {len(request) / 1e3:.0f} KB, x100",
            len(request) * 100,
            lambda: [mask_body(request, "application/json") for _ in range(100)],
            lambda: [json.loads(request) for _ in range(100)],
        ),
    ]
    print(describe_machine())
    print(f"masking vs floor, median of {args.runs} runs")
    print(f"{'case':<48} {'floor s':>8} {'mask s':>8} {'ratio':>6} {'mask MB/s':>10}")
    for name, volume, work, floor in cases:
        floor_seconds = median_seconds(floor, args.runs)
        mask_seconds = median_seconds(work, args.runs)
        print(
            f"{name:<48} {floor_seconds:>8.3f} {mask_seconds:>8.3f} {mask_seconds / floor_seconds:>6.1f} "
            f"{volume / 1e6 / mask_seconds:>10.0f}"
        )
    per_body_cases(args.runs, args.repeats)


if __name__ == "__main__":
    main()
