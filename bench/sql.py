"""SQL over runs: one query's time over runs holding 1 GB of captures (`--megabytes`), against a floor that reads
the same turns.jsonl files with orjson and sums the same numbers in Python.

The captures are generated codex sessions, split into runs of 100 MB, and analysed once (untimed): the views read
each run's turns.jsonl and manifest.json, which is what `invoke sql` reads after bringing the reports up to date.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson
from generate_capture import generate
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache"  # generated captures, git-ignored
sys.path.insert(0, str(PROJECT_ROOT))

from probe.analysis import sql  # noqa: E402  (the project's root goes on the path first)

QUERY = """SELECT r.target, count(*) AS turns, sum(t.input_tokens) AS input_tokens,
    sum(t.output_tokens) AS output_tokens, count(DISTINCT t.instructions_sha256) AS instructions
FROM runs r JOIN turns t USING (run) GROUP BY r.target"""
RUN_MB = 100


def data_folder(megabytes: float) -> Path:
    """A data folder of codex runs holding `megabytes` of captures in all, analysed."""
    folder = CACHE / f"sql-{megabytes:g}MB" / "codex"
    runs = max(1, round(megabytes / RUN_MB))
    for index in range(runs):
        run = folder / f"20260101-{index:06d}-bench"
        if (run / "turns.jsonl").is_file():
            continue
        run.mkdir(parents=True, exist_ok=True)
        generate(run / "traffic.jsonl", megabytes / runs, 20)
        manifest = {"schema": 1, "target": "codex", "status": "complete", "agent": {"version": f"bench {index}"},
                    "started_at": "2026-01-01T00:00:00+0000"}  # fmt: skip
        (run / "manifest.json").write_text(json.dumps(manifest))
        subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), "--target", "codex"],
                       cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return folder.parent


def floor(runs: list[Path]) -> int:
    """What the query computes, by hand: every turns.jsonl line parsed with orjson, the usage summed."""
    total = 0
    for run in runs:
        with (run / "turns.jsonl").open("rb") as file:
            for line in file:
                usage = orjson.loads(line).get("usage") or {}
                total += usage.get("input") or 0
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    folder = data_folder(args.megabytes)
    runs = sql.list_runs(root=folder)
    captures = sum((run / "traffic.jsonl").stat().st_size for run in runs) / 1e6
    turns = sum((run / "turns.jsonl").stat().st_size for run in runs) / 1e6
    print(f"{len(runs)} runs, {captures:,.0f} MB of captures, {turns:,.1f} MB of turns.jsonl; median of {args.runs}")
    timings: dict[str, list[float]] = {"query": [], "floor": []}
    for _ in range(args.runs):
        started = time.perf_counter()
        _columns, rows = sql.query(runs, QUERY, [])  # with the check for damaged lines, as invoke sql runs it
        timings["query"].append(time.perf_counter() - started)
        started = time.perf_counter()
        expected = floor(runs)
        timings["floor"].append(time.perf_counter() - started)
        assert sum(row[2] for row in rows) == expected, "the query and the floor disagree"
    query, by_hand = statistics.median(timings["query"]), statistics.median(timings["floor"])
    print(f"{'query s':>8} {'floor s':>8} {'ratio':>6}")
    print(f"{query:>8.3f} {by_hand:>8.3f} {query / by_hand:>6.2f}  (floor: orjson over every turns.jsonl line)")


if __name__ == "__main__":
    main()
