"""Runs every benchmark here, one after another, each as its own process, and stops at the first that fails.

--quick gives every benchmark small sizes and one run: it shows that each one works and prints figures, but they
are only indicative (nothing here asserts anything about time).
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Each benchmark with the options of a full run (besides --runs), and of a quick one.
BENCHMARKS = [
    ("streaming.py", [], []),
    ("throughput.py", [], ["--response-mb", "10", "--request-mb", "5"]),
    ("analyzer.py", ["--sizes", "{sizes}"], ["--sizes", "1,5"]),
    ("report_growth.py", [], ["--turns", "10,20"]),
    ("redaction.py", [], ["--megabytes", "10"]),
]


def whole_number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--runs {text!r}: expected a whole number, 1 or more")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default="5", help="runs per measurement; the median is reported")
    parser.add_argument("--sizes", default="10,100,1000", help="capture sizes in MB for the analyzer benchmark")
    parser.add_argument("--quick", action="store_true", help="small sizes and one run each")
    args = parser.parse_args()
    try:
        runs = 1 if args.quick else whole_number(args.runs)
    except argparse.ArgumentTypeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for script, full, quick in BENCHMARKS:
        options = quick if args.quick else [option.format(sizes=args.sizes) for option in full]
        print(f"\n== bench/{script}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), "--runs", str(runs), *options], cwd=HERE)
        if result.returncode:
            print(f"error: bench/{script} failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
