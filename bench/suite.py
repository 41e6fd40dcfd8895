"""Runs every benchmark here, one after another, each as its own process, and stops at the first that fails.

--quick gives every benchmark small sizes and one run: it shows that each one works and prints figures, but they
are only indicative (nothing here asserts anything about time). --only NAME runs the benchmarks named (comma
separated, as bench/NAME.py), the heavy ones too, which run only when named.
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
    ("hostile.py", [], ["--quick"]),
    ("incremental.py", [], ["--megabytes", "10", "--check"]),
    ("many_runs.py", [], ["--count", "16"]),
    ("context_split.py", [], ["--megabytes", "5"]),
    ("report_growth.py", [], ["--turns", "10,20"]),
    ("redaction.py", [], ["--megabytes", "10"]),
    ("masker_compare.py", [], ["--megabytes", "5"]),
    ("viewer.py", [], ["--turns", "20,40", "--session", "200", "--items", "30000"]),
    ("sql.py", [], ["--megabytes", "20"]),
    ("sql_memory.py", [], ["--tools", "1000,8000", "--items", "10000", "--blocks", "10000", "--named", "2000"]),
    ("large_bodies.py", [], ["--exchange-mb", "50", "--single-mb", "100"]),
    ("realistic_load.py", [], ["--seconds", "2"]),
    ("start.py", [], []),
]
# Too long for every run of the suite (the full one takes many minutes): each runs when --only names it.
HEAVY = [
    ("lake_scale.py", [], ["--folders", "40", "--wave", "20", "--templates", "12"]),
]
# These repeat their measurements within one run (exchanges back to back, seconds of load), and one run takes
# minutes: they run once whatever --runs says.
RUN_ONCE = {"large_bodies.py", "realistic_load.py", "sql_memory.py", "hostile.py", "lake_scale.py"}


def whole_number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"--runs {text!r}: expected a whole number, 1 or more")
    return int(text)


def sizes_in_megabytes(text: str) -> str:
    for size in text.split(","):
        try:
            valid = float(size) > 0
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"--sizes {text!r}: expected sizes in MB separated by commas, such as 10,100")
    return text


def chosen(names: str | None) -> list[tuple[str, list[str], list[str]]]:
    """The benchmarks --only names, in the suite's order (all but the heavy ones when it names none)."""
    if names is None:
        return BENCHMARKS
    known = {script.removesuffix(".py"): entry for entry in BENCHMARKS + HEAVY for script in [entry[0]]}
    wanted = [name.strip().removesuffix(".py") for name in names.split(",")]
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise ValueError(f"--only {names!r}: no benchmark {', '.join(unknown) or '(none named)'}; they are "
                         f"{', '.join(known)}")  # fmt: skip
    return [entry for name, entry in known.items() if name in wanted]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", help="runs per measurement; the median is reported (default: 5)")
    parser.add_argument("--sizes", help="capture sizes in MB for the analyzer benchmark (default: 10,100,1000)")
    parser.add_argument("--quick", action="store_true", help="small sizes and one run each")
    parser.add_argument("--only", metavar="NAME,...", help="only these benchmarks (bench/NAME.py), heavy ones too")
    args = parser.parse_args()
    try:
        if args.quick and (args.runs or args.sizes):
            raise ValueError("--quick chooses its own sizes and runs: give it alone, or --runs and --sizes")
        runs = 1 if args.quick else whole_number(args.runs or "5")
        sizes = sizes_in_megabytes(args.sizes or "10,100,1000")
        benchmarks = chosen(args.only)
    except ValueError as error:  # checked before anything runs, not after minutes of benchmarks
        print(f"error: {error}", file=sys.stderr)
        return 2
    for script, full, quick in benchmarks:
        options = quick if args.quick else [option.format(sizes=sizes) for option in full]
        print(f"\n== bench/{script}", flush=True)
        script_runs = 1 if script in RUN_ONCE else runs
        result = subprocess.run([sys.executable, str(HERE / script), "--runs", str(script_runs), *options], cwd=HERE)
        if result.returncode:
            print(f"error: bench/{script} failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
