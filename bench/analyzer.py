"""Analyzer at scale: wall time and peak RSS of `analyze` on generated codex captures, against the parse-only floor.

The floor is a loop that only reads the file and parses each line with the fastest JSON parser installed.
Both run as fresh processes, interleaved, and the median of the runs is reported.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache"  # generated captures, git-ignored

FLOOR = """
import sys
try:
    import orjson
    loads, parser = orjson.loads, "orjson"
except ImportError:
    import json
    loads, parser = json.loads, "json"
with open(sys.argv[1], "rb") as capture:
    for line in capture:
        loads(line)
print(parser)
"""


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


def capture_of(megabytes: float, turns: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"codex-{megabytes:g}MB-{turns}turns.jsonl"
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
            ],
            check=True,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000", help="capture sizes in MB, comma-separated")
    parser.add_argument("--turns", type=int, default=20, help="turns per generated conversation")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    print(f"analyzer vs parse-only floor, median of {args.runs} runs each, interleaved")
    print(
        f"{'size':>8} {'floor s':>8} {'analyze s':>10} {'ratio':>6} {'MB/s':>7} {'peak RSS MB':>12} {'report MB':>10}"
    )
    for megabytes in (float(size) for size in args.sizes.split(",")):
        capture = capture_of(megabytes, args.turns)
        floors, runs = [], []
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.md"
            for _ in range(args.runs):
                floors.append(timed([sys.executable, "-c", FLOOR, str(capture)]))
                runs.append(
                    timed(
                        [
                            sys.executable,
                            "-m",
                            "probe.analyze",
                            "--input",
                            str(capture),
                            "--output",
                            str(report),
                            "--target",
                            "codex",
                        ]
                    )
                )
            report_size = report.stat().st_size / 1e6
        floor = statistics.median(run[0] for run in floors)
        analyze = statistics.median(run[0] for run in runs)
        rss = max(run[1] for run in runs)
        size = capture.stat().st_size / 1e6
        print(
            f"{size:>7.0f}M {floor:>8.2f} {analyze:>10.2f} {analyze / floor:>6.2f} {size / analyze:>7.0f} "
            f"{rss:>12.0f} {report_size:>10.1f}   (floor parser: {floors[0][2]})"
        )


if __name__ == "__main__":
    main()
