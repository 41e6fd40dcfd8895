"""Many runs: `analyze --run all --force` over 200 generated runs with one worker process and with two, side by side.

The runs are small and shaped as real ones are (bench/generate_capture.py): codex conversations over HTTP and
WebSocket and Claude Code sessions re-sending their history, from about 0.1 to 2 MB each, a few templates copied into
run folders of their own beside the bundled samples' manifests. Each measurement is a fresh process, `--jobs 1` and
`--jobs 2` interleaved; the median wall time of each and their ratio are printed (the target: 2 workers at least
1.7x faster than 1), with the time one process takes to start and import the analyzer (paid once per worker).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from analyzer import CACHE, PROJECT_ROOT, timed
from generate_capture import generate
from machine import describe_machine

# The templates: (shape, megabytes, turns per codex conversation). Their sizes average about 0.7 MB.
TEMPLATES = [
    ("codex", 0.1, 3), ("codex", 0.4, 6), ("codex", 1.0, 10), ("codex", 2.0, 20),
    ("growing", 0.1, 0), ("growing", 0.4, 0), ("growing", 1.0, 0), ("growing", 1.5, 0),
]  # fmt: skip
# A sample's manifest for each shape's target, so that each run is priced and rendered as a recorded one is.
MANIFESTS = {"codex": "data/codex/*-sample-http", "growing": "data/claude-code/*-sample-mock"}
TARGETS = {"codex": "codex", "growing": "claude-code"}
IMPORT = "import probe.analysis.analyze, probe.analysis.report"


def template(shape: str, megabytes: float, turns: int) -> Path:
    """The template's capture, generated once into the benchmarks' cache."""
    folder = CACHE / "many-runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{shape}-{megabytes:g}MB-{turns}turns.jsonl"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")  # (another process may generate it at the same time)
        generate(partial, megabytes, turns or 20, shape)
        partial.replace(path)
    return path


def make_runs(data: Path, count: int) -> int:
    """`count` run folders under `data`, the templates in turn; returns their bytes of capture."""
    total = 0
    for index in range(count):
        shape, megabytes, turns = TEMPLATES[index % len(TEMPLATES)]
        run = data / TARGETS[shape] / f"20260101-{index:06d}-many"
        run.mkdir(parents=True)
        shutil.copyfile(template(shape, megabytes, turns), run / "traffic.jsonl")
        [sample] = PROJECT_ROOT.glob(MANIFESTS[shape])
        shutil.copyfile(sample / "manifest.json", run / "manifest.json")
        total += (run / "traffic.jsonl").stat().st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="run folders (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="measurements of each (default 3); the median is printed")
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory() as folder:
        data, state = Path(folder) / "data", Path(folder) / "state"
        size = make_runs(data, args.count)
        environment = ["env", f"PROBE_DATA_DIR={data}", f"XDG_STATE_HOME={state}"]
        analyze = [*environment, sys.executable, "-m", "probe.analysis.analyze", "--run", "all", "--force"]
        timed([*analyze, "--jobs", "1"])  # once unmeasured: the page cache and the price database warm
        walls: dict[int, list[float]] = {1: [], 2: []}
        starts = []
        for _ in range(args.runs):
            for jobs in walls:
                walls[jobs].append(timed([*analyze, "--jobs", str(jobs)])[0])
            starts.append(timed([*environment, sys.executable, "-c", IMPORT])[0])
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    print(f"analyze --run all --force over {args.count} runs ({size / 1e6:.0f} MB of capture), median of "
          f"{args.runs} runs each, interleaved")  # fmt: skip
    print(f"{'jobs':>6} {'wall s':>8} {'MB/s':>6} {'runs/s':>7}")
    for jobs, wall in ((1, one), (2, two)):
        print(f"{jobs:>6} {wall:>8.2f} {size / 1e6 / wall:>6.1f} {args.count / wall:>7.1f}")
    print(f"--jobs 2 against --jobs 1: {one / two:.2f}x faster (target: 1.7x or more on 2 cores)")
    print(f"a process's start and the analyzer's imports: {statistics.median(starts):.2f} s (once per worker)")


if __name__ == "__main__":
    main()
