"""What splitting each turn's context costs: wall time of `analyze` on generated captures of the analyzer
benchmark's four shapes, as it is and with the split left out (the same process, whose ContextFilling.add is
replaced by one that splits nothing), side by side, interleaved, the median of the runs reported. The goal is an
analysis at most 20% slower with the split than without it.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analyzer import capture_of
from generate_capture import SHAPES
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNNER = """
import sys
from probe.analyse.context import ContextFilling
from probe.analysis import analyze
if sys.argv[1] == "without":
    ContextFilling.add = lambda self, turn: None
sys.exit(analyze.main(["--input", sys.argv[2], "--output", sys.argv[3]]))
"""


def timed(mode: str, capture: Path, output: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUNNER, mode, str(capture), str(output)], check=True, capture_output=True,
                   cwd=PROJECT_ROOT)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe_machine())
    print(f"analyze with and without the context split, {args.megabytes:g} MB captures, median of {args.runs}")
    print(f"{'shape':<8} {'without s':>10} {'with s':>10} {'slower':>8}")
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as scratch:
        for shape in SHAPES:
            capture = capture_of(shape, args.megabytes, 20)
            times: dict[str, list[float]] = {"without": [], "with": []}
            for _ in range(args.runs):
                for mode in times:
                    times[mode].append(timed(mode, capture, Path(scratch) / f"{shape}-{mode}.md"))
            without, with_split = (statistics.median(times[mode]) for mode in ("without", "with"))
            print(f"{shape:<8} {without:>10.2f} {with_split:>10.2f} {with_split / without - 1:>+8.0%}", flush=True)


if __name__ == "__main__":
    main()
