"""Analyzer at scale: wall time and peak RSS of `analyze` on generated captures of four shapes (codex sessions,
streams of 2,000 tiny deltas, 200-turn sessions re-sending their history, requests of 100,000 tiny items), against
a parse floor, with peak RSS also as a multiple of the capture's largest exchange (its longest line), and the size
of what the analysis writes: report.md, and turns.jsonl plus the viewer (report.html, its code included) as a share
of the capture (the targets: wall time at most 3x the floor, turns.jsonl plus viewer under 0.3x the capture, and peak
RSS flat in the capture's size).

The floor reads the file and parses, with orjson (the analyzer's parser), every line and every payload in it: each
SSE `data:` payload of a text body and each WebSocket message written as JSON text. The two-core floor is the same
parse split over two processes by byte ranges of the file, cut at a line boundary: beside it, the gain the analyzer
could get from a second core is not hidden in its ratio. Both run as fresh processes,
interleaved, and the median of the runs is reported (peak RSS: the largest).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate_capture import SHAPES, TARGETS
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache"  # generated captures, git-ignored

PARSE = """
import sys
import orjson
loads, Error = orjson.loads, orjson.JSONDecodeError
def parse(text):
    try:
        loads(text)
    except Error:
        pass
def parse_line(line):
    entry = loads(line)
    body = (entry.get("response") or {}).get("body")
    if isinstance(body, str) and "data:" in body:
        for field in body.splitlines():
            if field.startswith("data:"):
                parse(field[5:])
    for message in entry.get("messages") or []:
        text = message.get("body")
        if isinstance(text, str) and text[:1] in ("{", "["):
            parse(text)
"""
FLOOR = (
    PARSE
    + """
with open(sys.argv[1], "rb") as capture:
    for line in capture:
        parse_line(line)
"""
)
# The same parse on two cores: the file cut in two byte ranges at the line boundary nearest its middle, the second
# parsed by a forked child (this script runs no threads) while the first is parsed here.
FLOOR_TWO_CORES = (
    PARSE
    + """
import os
with open(sys.argv[1], "rb") as capture:
    capture.seek(os.fstat(capture.fileno()).st_size // 2)
    capture.readline()
    cut = capture.tell()
child = os.fork()
with open(sys.argv[1], "rb") as capture:
    if child == 0:
        status = 1
        try:
            capture.seek(cut)
            for line in capture:
                parse_line(line)
            status = 0
        finally:
            os._exit(status)
    left = cut
    for line in capture:
        if left <= 0:
            break
        left -= len(line)
        parse_line(line)
if os.waitpid(child, 0)[1] != 0:
    sys.exit("the second half's parse failed")
"""
)


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=PROJECT_ROOT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{argv[:4]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024, output.strip()


def capture_of(shape: str, megabytes: float, turns: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / (
        f"codex-{megabytes:g}MB-{turns}turns.jsonl" if shape == "codex" else f"{shape}-{megabytes:g}MB.jsonl"
    )
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(PROJECT_ROOT / "bench" / "generate_capture.py"),
                str(path),
                "--megabytes",
                str(megabytes),
                "--turns",
                str(turns),
                "--shape",
                shape,
            ],
            check=True,
            stdout=subprocess.DEVNULL,  # its one line would break the table
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000", help="capture sizes in MB, comma-separated")
    parser.add_argument(
        "--shapes",
        default="codex,deltas,growing,items",
        help=f"capture shapes, comma-separated: {', '.join(SHAPES)} (bench/hostile.py measures the last two)",
    )
    parser.add_argument("--turns", type=int, default=20, help="turns per generated codex conversation")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    print(f"analyzer vs parse floor (orjson: every line, SSE payload and WebSocket message; on one core, and on two: "
          f"the file cut in two at a line boundary, each half in a process), median of {args.runs} runs each, "
          "interleaved")  # fmt: skip
    print(
        f"{'shape':>8} {'size':>6} {'floor s':>8} {'2-core floor s':>15} {'analyze s':>10} {'ratio':>6} "
        f"{'ratio to 2-core':>16} {'MB/s':>6} "
        f"{'floor RSS MB':>13} {'analyze RSS MB':>15} {'largest MB':>11} {'RSS/largest':>12} {'report MB':>10} "
        f"{'turns MB':>9} {'viewer MB':>10} {'(turns+viewer)/capture':>23}"
    )
    for shape in args.shapes.split(","):
        for megabytes in (float(size) for size in args.sizes.split(",")):
            measure(shape, capture_of(shape, megabytes, args.turns), args.runs)


def measure(shape: str, capture: Path, runs: int) -> None:
    """Run the floor and the analyzer `runs` times each, interleaved, and print one row."""
    floors, twos, analyses = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.md"
        analyze = [sys.executable, "-m", "probe.analysis.analyze", "--input", str(capture), "--output", str(report)]
        for _ in range(runs):
            floors.append(timed([sys.executable, "-c", FLOOR, str(capture)]))
            twos.append(timed([sys.executable, "-c", FLOOR_TWO_CORES, str(capture)]))
            analyses.append(timed([*analyze, "--target", TARGETS[shape]]))
        report_size = report.stat().st_size / 1e6
        turns_size = report.with_name("turns.jsonl").stat().st_size / 1e6
        viewer_size = report.with_suffix(".html").stat().st_size / 1e6
    floor = statistics.median(run[0] for run in floors)
    two = statistics.median(run[0] for run in twos)
    wall = statistics.median(run[0] for run in analyses)
    size = capture.stat().st_size / 1e6
    with capture.open("rb") as lines:
        largest = max(len(line) for line in lines) / 1e6
    peak = max(run[1] for run in analyses)
    print(
        f"{shape:>8} {size:>5.0f}M {floor:>8.2f} {two:>15.2f} {wall:>10.2f} {wall / floor:>6.2f} {wall / two:>16.2f} "
        f"{size / wall:>6.0f} "
        f"{max(run[1] for run in floors):>13.0f} {peak:>15.0f} {largest:>11.1f} {peak * 1.048576 / largest:>12.0f} "
        f"{report_size:>10.1f} {turns_size:>9.1f} {viewer_size:>10.1f} {(turns_size + viewer_size) / size:>23.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
