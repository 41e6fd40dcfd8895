"""Report growth: report size and analysis time for one codex conversation of 25, 50, 100 and 200 turns.

A naive report grows with the square of the turns, since every request re-sends the whole history;
ours should grow linearly: 4x the turns, about 4x the report.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate_capture import conversation, template_request
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", default="25,50,100,200")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    template = template_request()
    print(describe_machine())
    print(f"one HTTP conversation, median of {args.runs} analyses")
    print(f"{'turns':>6} {'capture MB':>11} {'report KB':>10} {'KB/turn':>8} {'analyze s':>10}")
    sizes = {}
    with tempfile.TemporaryDirectory() as folder:
        for turns in map(int, args.turns.split(",")):
            capture, report = Path(folder) / f"{turns}.jsonl", Path(folder) / f"{turns}.md"
            with capture.open("w") as out:
                for entry in conversation(template, turns, 1, websocket=False):
                    out.write(json.dumps(entry) + "\n")
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "probe.analysis.analyze",
                        "--input",
                        str(capture),
                        "--output",
                        str(report),
                        "--target",
                        "codex",
                    ],
                    cwd=PROJECT_ROOT,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                times.append(time.perf_counter() - started)
            sizes[turns] = report.stat().st_size
            print(
                f"{turns:>6} {capture.stat().st_size / 1e6:>11.1f} {sizes[turns] / 1e3:>10.0f} "
                f"{sizes[turns] / 1e3 / turns:>8.1f} {statistics.median(times):>10.2f}"
            )
    if 50 in sizes and 200 in sizes:
        print(f"200-turn report / 50-turn report: {sizes[200] / sizes[50]:.2f}x (linear would be 4x)")


if __name__ == "__main__":
    main()
