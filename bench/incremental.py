"""Incremental analysis: what analysing a run costs after one more exchange, against a full analysis of it.

In one run, on a generated capture (codex shape, 1 GB by default) copied into a run folder: the parse floor (orjson
over every line and payload, as bench/analyzer.py, on one core and split over two), a full analysis, then one
exchange appended and the analysis again, which picks up the reading the first one saved (probe.analysis.resume).
Each is a fresh process; wall seconds, peak RSS and the outputs' sizes are printed, and the incremental/full ratio
(the target is 5% or less). --check also analyses the grown capture from scratch and compares the outputs, apart
from their generated-at stamps.
"""

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from analyzer import FLOOR, FLOOR_TWO_CORES, capture_of, timed
from generate_capture import TARGETS
from machine import describe_machine

OUTPUTS = ("report.md", "report.html", "turns.jsonl", "insight.jsonl")
STAMPS = re.compile(rb'- Generated at: [^\n]*|<meta name="generated" content="[^"]*"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=1000, help="size of the generated capture (default 1000)")
    parser.add_argument("--shape", default="codex", choices=sorted(TARGETS))
    parser.add_argument("--turns", type=int, default=20, help="turns per generated codex conversation")
    parser.add_argument("--runs", type=int, default=1, help="incremental analyses, one exchange appended before each")
    parser.add_argument("--check", action="store_true", help="compare with a full analysis of the grown capture")
    args = parser.parse_args()
    print(describe_machine())
    source = capture_of(args.shape, args.megabytes, args.turns)
    with tempfile.TemporaryDirectory() as folder:
        run, state = Path(folder) / args.shape / "run", Path(folder) / "state"
        run.mkdir(parents=True)
        traffic = run / "traffic.jsonl"
        shutil.copyfile(source, traffic)
        # The capture grows before each analysis after the first, so each is out of date without --force, which
        # reads the capture whole: the first (and the check's) analysis only.
        analyze = [
            "env", f"XDG_STATE_HOME={state}", sys.executable, "-m", "probe.analysis.analyze", "--run", str(run),
            "--target", TARGETS[args.shape],
        ]  # fmt: skip
        floor = timed([sys.executable, "-c", FLOOR, str(traffic)])
        floor_two = timed([sys.executable, "-c", FLOOR_TWO_CORES, str(traffic)])
        full = timed([*analyze, "--force"])
        sizes = {name: (run / name).stat().st_size for name in OUTPUTS}
        last = last_line(source)
        incremental = []
        for _ in range(args.runs):
            with traffic.open("ab") as out:
                out.write(last)
            incremental.append(timed(analyze))
        print(f"{args.shape}, {traffic.stat().st_size / 1e6:.0f} MB, then one exchange appended before each of "
              f"{args.runs} incremental analyses (median)")  # fmt: skip
        print(f"{'':>12} {'wall s':>8} {'RSS MB':>8}")
        wall = statistics.median(run[0] for run in incremental)
        for name, (seconds, rss) in (
            ("floor", floor[:2]), ("2-core floor", floor_two[:2]), ("full", full[:2]),
            ("incremental", (wall, max(run[1] for run in incremental))),
        ):  # fmt: skip
            print(f"{name:>12} {seconds:>8.2f} {rss:>8.0f}")
        print(f"full / floor: {full[0] / floor[0]:.1f}x on one core, {full[0] / floor_two[0]:.1f}x against the "
              "two-core floor")  # fmt: skip
        print(f"incremental / full: {wall / full[0]:.1%} (target: 5% or less)")
        for name in OUTPUTS:
            print(f"{name:>14}: {sizes[name] / 1e6:>9.1f} MB after the full analysis, "
                  f"{(run / name).stat().st_size / 1e6:>9.1f} MB after the last incremental one")  # fmt: skip
        saved = sum(path.stat().st_size for path in (run / ".analysis").iterdir())
        print(f"{'.analysis/':>14}: {saved / 1e6:>9.1f} MB (the saved reading and the viewer's spools)")
        if args.check:
            check(run, analyze)


def last_line(path: Path) -> bytes:
    """The capture's last line, read from its end."""
    with path.open("rb") as file:
        file.seek(0, 2)
        end = file.tell()
        back = min(end, 64 << 20)
        file.seek(end - back)
        return file.read().rstrip(b"\n").rsplit(b"\n", 1)[-1] + b"\n"


def check(run: Path, analyze: list[str]) -> None:
    """Analyse the grown capture from scratch beside it, and compare the outputs."""
    incremental = {name: STAMPS.sub(b"", (run / name).read_bytes()) for name in OUTPUTS}
    timed([*analyze, "--force"])
    differ = [name for name in OUTPUTS if STAMPS.sub(b"", (run / name).read_bytes()) != incremental[name]]
    if differ:
        raise SystemExit(f"the incremental analysis differs from a full one in {', '.join(differ)}")
    print("the incremental analysis wrote what a full one writes (apart from the generated-at stamps)")


if __name__ == "__main__":
    main()
