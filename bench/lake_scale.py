"""The team lake at scale: 10,000 generated runs (100 turns on average, with tool calls and a sub-agent; `--folders`)
published in waves of 1,000 (`--wave`) from 2 processes at once (`--machines`), each a machine and a user of its own,
into a lake whose catalog is a PostgreSQL started here and whose data is on an S3-compatible server started on
loopback (`--data folder`: a folder instead). For each wave: the seconds a run took to publish, and how much the
catalog and the data grew a run. At 1,000 runs and at the end: the team lead's four queries over the lake, timed,
each checked against the same query over the machines' own folders (at the end only with `--check-all`, as the
local side reads every run's files again); then the same after `lake tidy`.

Heavy: it runs when named (`invoke bench --only lake_scale`, or on its own); `--folders 40 --wave 20` takes about a
minute.
"""

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from lake_runs import make_templates, spread_waves
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache" / "lake-scale"  # templates and their copies, git-ignored
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "tests")]

from postgres_server import running_postgres  # noqa: E402  (the tests' PostgreSQL: a temporary folder, a free port)

from probe.analysis import sql  # noqa: E402
from probe.analysis.report import refresh_all  # noqa: E402
from probe.common.counting import counted  # noqa: E402
from probe.store.lake.basics import LakeSettings  # noqa: E402

# The team lead's questions, in the same words over the lake and over a machine's own folders (the local views have
# the lake's columns).
QUERIES = {
    "cost per user per day": """SELECT user, CAST(started AS DATE) AS day, count(*) AS runs,
        round(sum(cost_usd), 6) AS cost_usd FROM runs GROUP BY ALL ORDER BY ALL""",
    "cache reads by model and version": """SELECT target, model, agent_version, sum(cache_read_tokens) AS cache_read,
        round(sum(cache_read_tokens) / sum(input_tokens), 4) AS read_share FROM turns GROUP BY ALL ORDER BY ALL""",
    "slowest tool calls": """SELECT user, target, run, n, name, wait_ms FROM tool_calls WHERE wait_ms IS NOT NULL
        ORDER BY wait_ms DESC, run, n LIMIT 20""",
    "windows over 80%": """SELECT user, target, count(*) AS runs, round(max(peak_window_share), 4) AS top
        FROM runs WHERE peak_window_share > 0.8 GROUP BY ALL ORDER BY ALL""",
}
ADDED = re.compile(r"([\d,]+) rows? added$")


def publish_all(data: dict[str, Path], lake: LakeSettings, environment: dict[str, str]) -> tuple[float, int]:
    """Every machine's runs of `data` published by a process of its own, all started at once; the wall time and the
    rows added."""
    started = time.perf_counter()
    processes = []
    for machine, folder in data.items():
        command = [sys.executable, "-m", "probe.analysis.publish", "--lake", lake.catalog, "--lake-data", lake.data,
                   "--run", "all", "--machine", machine, "--user", f"user-of-{machine}"]  # fmt: skip
        processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment | {"PROBE_DATA_DIR": str(folder)},
                                          stdout=subprocess.PIPE, text=True))  # fmt: skip
    outputs = [process.communicate()[0] for process in processes]
    wall = time.perf_counter() - started
    for process, output in zip(processes, outputs, strict=True):
        if process.returncode:
            raise SystemExit(f"publish failed with exit code {process.returncode}:\n{output[-2000:]}")
    added = 0
    for output in outputs:  # "lake: N runs in it as recorded here, M rows added"
        added += int(ADDED.search(output.strip().splitlines()[-1]).group(1).replace(",", ""))
    return wall, added


def comparable(rows: list[tuple]) -> list[tuple]:
    """Rows with their numbers as one type (a sum is a HUGEINT here, a DECIMAL there)."""
    return [tuple(float(value) if isinstance(value, Decimal | float) else value for value in row) for row in rows]


def local_answers(folders: list[Path]) -> dict[str, tuple[float, list[tuple]]]:
    """Each query over the run folders, timed."""
    runs = [run for folder in folders for run in sql.list_runs(root=folder)]
    answers = {}
    for name, text in QUERIES.items():
        started = time.perf_counter()
        rows = sql.query(runs, text)[1]
        answers[name] = (time.perf_counter() - started, comparable(rows))
    return answers


def ask_lake(lake: LakeSettings, local: dict[str, tuple[float, list[tuple]]] | None, label: str) -> dict:
    """The four queries over the lake, timed, each checked against the local folders' answer where there is one, or
    else against the lake's own earlier answer (`local` of the lake's, as this returns them)."""
    print(f"\n{label}\n{'query':<34} {'lake s':>7} {'rows':>5} {'local s':>8}  same rows")
    answers = {}
    for name, text in QUERIES.items():
        started = time.perf_counter()
        _columns, rows = sql.lake_query(lake, text)
        seconds = time.perf_counter() - started
        answers[name] = (seconds, comparable(rows))
        if local is None:
            print(f"{name:<34} {seconds:>7.2f} {len(rows):>5} {'':>8}  (not compared)", flush=True)
            continue
        local_seconds, expected = local[name]
        same = comparable(rows) == expected
        print(f"{name:<34} {seconds:>7.2f} {len(rows):>5} {local_seconds:>8.2f}  {'yes' if same else 'NO'}", flush=True)
        if not same:
            raise SystemExit(f"{name}: the lake's rows differ from the local folders':\n{rows[:5]}\n{expected[:5]}")
    return answers


@contextlib.contextmanager
def object_store(kind: str):
    """Where the lake's data goes: a bucket on an S3-compatible server started on loopback (the tests' moto server),
    or a temporary folder; its URL or path, the environment that reaches it, and the server."""
    with tempfile.TemporaryDirectory(prefix="probe-lake-") as folder:
        if kind == "folder":
            yield folder, {}, None
            return
        from s3_server import running_s3

        with running_s3(Path(folder)) as server:
            yield server.bucket("bench-lake") + "/lake/", server.environment(), server


def data_size(data: str, server) -> tuple[int, int]:
    """The data path's files and bytes."""
    if server is not None:
        pages = server.client().get_paginator("list_objects_v2").paginate(Bucket="bench-lake", Prefix="lake/")
        sizes = [item["Size"] for page in pages for item in page.get("Contents", [])]
        return len(sizes), sum(sizes)
    files = [path for path in Path(data).rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def catalog_size(server) -> tuple[int, int, int]:
    """The catalog database's bytes, its snapshots and its live data files."""
    size = int(server.psql("lake", "SELECT pg_database_size('lake')"))
    live_files = "SELECT count(*) FROM ducklake_data_file WHERE end_snapshot IS NULL"
    snapshots, files = server.psql("lake", f"SELECT (SELECT count(*) FROM ducklake_snapshot), ({live_files})").split(
        "|"
    )
    return size, int(snapshots), int(files)


def sizes_line(server, data: str, store) -> str:
    size, snapshots, live = catalog_size(server)
    files, data_bytes = data_size(data, store)
    return (f"catalog {size / 1e6:,.1f} MB ({counted(snapshots, 'snapshot')}, {counted(live, 'live data file')}); "
            f"data {data_bytes / 1e6:,.1f} MB in {counted(files, 'file')}")  # fmt: skip


def tidy(lake: LakeSettings, environment: dict[str, str]) -> float:
    """`lake tidy`, timed."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "probe.analysis.lake", "tidy", "--lake", lake.catalog, "--keep", "0"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"lake tidy failed with exit code {done.returncode}:\n{done.stderr[-2000:]}")
    print(done.stdout.strip())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folders", type=int, default=10_000, help="run folders to publish (default: 10,000)")
    parser.add_argument("--wave", type=int, default=1_000, help="runs published at a time (default: 1,000)")
    parser.add_argument("--templates", type=int, default=40, help="generated sessions they copy (default: 40)")
    parser.add_argument("--machines", type=int, default=2, help="publishing processes, one a machine (default: 2)")
    parser.add_argument("--data", choices=["s3", "folder"], default="s3", help="where the lake's data goes")
    parser.add_argument("--check-all", action="store_true", help="compare with the local folders at the end too")
    parser.add_argument("--runs", type=int, default=1, help="(the suite's option: this benchmark measures once)")
    args = parser.parse_args()
    print(describe_machine())
    started = time.perf_counter()
    templates = make_templates(min(args.templates, args.folders), CACHE)
    machines = [f"bench-{number}" for number in range(1, args.machines + 1)]
    waves = spread_waves(templates, args.folders, machines, CACHE / "runs", args.wave)
    runs = [run for wave in waves for folder in wave.values() for run in sql.list_runs(root=folder)]
    counts = refresh_all(runs, out=io.StringIO())
    if counts["rebuilt"] or counts["failed"]:
        raise SystemExit(f"the copies' reports are not up to date: {dict(counts)}")
    [(turns, calls)] = sql.query(runs[: len(templates)], "SELECT count(*), sum(tool_calls) FROM turns")[1]
    made = time.perf_counter() - started
    print(f"{len(runs):,} runs ({len(templates)} templates, {turns:,} turns and {calls:,} tool calls between them), "
          f"{len(waves)} waves over {args.machines} machines' folders, made in {made:.1f} s")  # fmt: skip
    checkpoint = min(1_000, args.folders)
    with running_postgres() as server, object_store(args.data) as (data, store_environment, store):
        os.environ.update(store_environment)  # (the queries here reach the store too)
        environment = dict(os.environ)
        server.create_database("lake")
        lake = LakeSettings(catalog=f"postgres:{server.dsn('lake')}", data=data, machine="", user="")
        print(f"\n{'wave':>4} {'runs':>6} {'s/run':>6} {'rows':>9} {'catalog KB/run':>14} {'data KB/run':>11}"
              f"  {'snapshots':>9}")  # fmt: skip
        published, before = 0, (int(server.psql("lake", "SELECT pg_database_size('lake')")), 0)
        for number, wave in enumerate(waves, 1):
            wall, added = publish_all(wave, lake, environment)
            count = sum(len(sql.list_runs(root=folder)) for folder in wave.values())
            published += count
            size, snapshots, _live = catalog_size(server)
            data_bytes = data_size(data, store)[1]
            print(f"{number:>4} {published:>6,} {wall / count:>6.3f} {added:>9,} "
                  f"{(size - before[0]) / count / 1e3:>14.1f} {(data_bytes - before[1]) / count / 1e3:>11.1f}"
                  f"  {snapshots:>9,}", flush=True)  # fmt: skip
            before = (size, data_bytes)
            if published == checkpoint or number == len(waves):
                done = [folder for earlier in waves[:number] for folder in earlier.values()]
                local = local_answers(done) if published == checkpoint or args.check_all else None
                answered = ask_lake(
                    lake, local, f"over the lake at {published:,} runs: {sizes_line(server, data, store)}"
                )
                if number == len(waves):
                    wall, added = publish_all(waves[0], lake, environment)
                    print(f"\nthe first wave published again: {counted(added, 'row')} added in {wall:.1f} s")
                    if added:
                        raise SystemExit("publishing the same runs again added rows")
                    print(f"lake tidy in {tidy(lake, environment):.1f} s")
                    # (compared with the local folders where they were, else with the lake's answers before tidy)
                    ask_lake(lake, local or answered, f"after lake tidy: {sizes_line(server, data, store)}")


if __name__ == "__main__":
    main()
