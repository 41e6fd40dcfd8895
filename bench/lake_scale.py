"""The team lake at scale: 1,000 generated runs (about 100,000 turns; `--folders`) published from 4 processes at
once, each its own machine, into a lake on a PostgreSQL started here; then five team queries over the lake, each
checked against the same query over the local run folders, the catalog's and the data path's sizes, and the same
after DuckLake's own maintenance (merge adjacent files, expire snapshots, clean up old files).

Heavy: it runs when named (`invoke bench --only lake_scale`, or on its own); `--folders 40` runs in under a minute.
"""

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from lake_runs import make_templates, spread
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache" / "lake-scale"  # templates and their copies, git-ignored
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "tests")]

from postgres_server import running_postgres  # noqa: E402  (the tests' PostgreSQL: a temporary folder, a free port)

from probe.analysis import sql  # noqa: E402
from probe.analysis.report import refresh_all  # noqa: E402
from probe.common.counting import counted  # noqa: E402
from probe.store.lake.connection import attach  # noqa: E402
from probe.store.lake.settings import LakeSettings  # noqa: E402

# The team's questions; {run} is how a run is named (its folder locally, its identity in the lake), {who} what
# tells the machines apart (nothing locally: each machine's folder is asked on its own).
QUERIES = {
    "cost by agent and week": """SELECT r.target, strftime(r.started, '%G-W%V') AS week, count(*) AS turns,
        sum(t.cost_usd) AS cost_usd FROM turns t JOIN runs r USING ({run}) GROUP BY ALL ORDER BY ALL""",
    "top cache breakers": """SELECT {who} t.run, count(t.cache_break) AS breaks,
        sum(t.cache_write_tokens) AS written FROM turns t GROUP BY ALL
        ORDER BY breaks DESC, written DESC, t.run LIMIT 20""",
    "version diff": """SELECT r.target, r.agent_version, count(*) AS turns, round(avg(t.input_tokens), 1) AS input,
        count(DISTINCT t.instructions_sha256) AS instructions, count(DISTINCT t.tools_sha256) AS tools,
        round(sum(t.cost_usd) / count(*), 6) AS cost_per_turn
        FROM turns t JOIN runs r USING ({run}) GROUP BY ALL ORDER BY ALL""",
    "hosts": """SELECT host, kind, count(*) AS requests, sum(bytes_sent) AS sent FROM requests
        GROUP BY ALL ORDER BY ALL""",
    "turns over 80% of the window": """SELECT t.model, count(*) AS turns, count(DISTINCT t.{run}) AS runs,
        round(max(t.share), 4) AS top_share FROM turns t WHERE t.share > 0.8 GROUP BY ALL ORDER BY ALL""",
}
ADDED = re.compile(r"([\d,]+) rows? added$")
LAKE = {"run": "run_id", "who": "t.machine, t.user,"}
LOCAL = {"run": "run", "who": ""}


def publish_all(data: dict[str, Path], lake: LakeSettings) -> tuple[float, int]:
    """Every machine's runs published by a process of its own, all started at once; the wall time and rows added."""
    started = time.perf_counter()
    processes = []
    for machine, folder in data.items():
        command = [sys.executable, "-m", "probe.analysis.publish", "--lake", lake.catalog, "--lake-data", lake.data,
                   "--run", "all", "--machine", machine, "--user", "bench"]  # fmt: skip
        environment = dict(os.environ, PROBE_DATA_DIR=str(folder))
        processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE,
                                          text=True))  # fmt: skip
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


def local_answers(data: dict[str, Path]) -> dict[str, tuple[float, list[tuple]]]:
    """Each query over the machines' run folders, timed: once over all of them, or machine by machine where it
    groups by one."""
    answers = {}
    every = [run for folder in data.values() for run in sql.list_runs(root=folder)]
    for name, text in QUERIES.items():
        started = time.perf_counter()
        if name != "top cache breakers":
            rows = sql.query(every, text.format(**LOCAL))[1]
        else:
            rows = []
            for machine, folder in data.items():
                rows += [
                    (machine, "bench", *row) for row in sql.query(sql.list_runs(root=folder), text.format(**LOCAL))[1]
                ]
            rows = sorted(rows, key=lambda row: (-row[3], -(row[4] or 0), row[2]))[:20]
        answers[name] = (time.perf_counter() - started, comparable(rows))
    return answers


def ask_lake(lake: LakeSettings, local: dict[str, tuple[float, list[tuple]]], label: str) -> None:
    """The five queries over the lake, timed, each checked against the local folders' answer."""
    print(f"\n{label}\n{'query':<30} {'lake s':>7} {'rows':>5} {'local s':>8}  same rows")
    for name, text in QUERIES.items():
        started = time.perf_counter()
        _columns, rows = sql.lake_query(lake, text.format(**LAKE))
        seconds = time.perf_counter() - started
        local_seconds, expected = local[name]
        same = comparable(rows) == expected
        print(f"{name:<30} {seconds:>7.2f} {len(rows):>5} {local_seconds:>8.2f}  {'yes' if same else 'NO'}", flush=True)
        if not same:
            raise SystemExit(f"{name}: the lake's rows differ from the local folders':\n{rows[:5]}\n{expected[:5]}")


def catalog_figures(server, lake: LakeSettings) -> str:
    size = int(server.psql("lake", "SELECT pg_database_size('lake')"))
    live_files = "SELECT count(*) FROM ducklake_data_file WHERE end_snapshot IS NULL"
    counts = server.psql("lake", f"SELECT (SELECT count(*) FROM ducklake_snapshot), ({live_files})").split("|")
    largest = server.psql("lake", "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables "
                          "ORDER BY 2 DESC LIMIT 3").split()  # fmt: skip
    tables = ", ".join(f"{name} {int(size) / 1e6:,.1f} MB" for name, size in (row.split("|") for row in largest))
    files = [path for path in Path(lake.data).rglob("*") if path.is_file()]
    data_bytes = sum(path.stat().st_size for path in files)
    return (f"catalog {size / 1e6:,.1f} MB ({counted(int(counts[0]), 'snapshot')}, "
            f"{counted(int(counts[1]), 'live data file')}); data path {data_bytes / 1e6:,.1f} MB in "
            f"{counted(len(files), 'file')}\n  largest catalog tables: {tables}")  # fmt: skip


def maintain(lake: LakeSettings) -> float:
    """DuckLake's own maintenance: merge adjacent files, expire every older snapshot, delete what they held."""
    import duckdb

    connection = duckdb.connect()
    started = time.perf_counter()
    try:
        attach(connection, lake)
        connection.execute("CALL ducklake_merge_adjacent_files('lake')")
        # CALLed, their rows never fetched: they hold timestamps with time zones, which DuckDB fetches through pytz.
        # (Counted instead, as `SELECT count(*) FROM ducklake_expire_snapshots(…)`, right after the merge, it
        # answered 42 and expired none.)
        connection.execute("CALL ducklake_expire_snapshots('lake', older_than => now())")
        connection.execute("CALL ducklake_cleanup_old_files('lake', cleanup_all => true)")
    finally:
        connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folders", type=int, default=1000, help="run folders to publish (default: 1000)")
    parser.add_argument("--templates", type=int, default=40, help="generated sessions they copy (default: 40)")
    parser.add_argument("--machines", type=int, default=4, help="publishing processes, one a machine (default: 4)")
    parser.add_argument("--runs", type=int, default=1, help="(the suite's option: this benchmark measures once)")
    args = parser.parse_args()
    print(describe_machine())
    started = time.perf_counter()
    templates = make_templates(min(args.templates, args.folders), CACHE)
    machines = [f"bench-{number}" for number in range(1, args.machines + 1)]
    data = spread(templates, args.folders, machines, CACHE / "runs")
    runs = [run for folder in data.values() for run in sql.list_runs(root=folder)]
    counts = refresh_all(runs, out=io.StringIO())
    if counts["rebuilt"] or counts["failed"]:
        raise SystemExit(f"the copies' reports are not up to date: {dict(counts)}")
    [(turns,)] = sql.query(runs, "SELECT count(*) FROM turns")[1]
    print(f"{len(runs):,} runs ({len(templates)} templates), {turns:,} turns over {args.machines} machines' folders, "
          f"made in {time.perf_counter() - started:.1f} s; every report up to date")  # fmt: skip
    local = local_answers(data)
    with running_postgres() as server, tempfile.TemporaryDirectory(prefix="probe-lake-") as lake_data:
        server.create_database("lake")
        lake = LakeSettings(catalog=f"postgres:{server.dsn('lake')}", data=lake_data, machine="", user="")
        wall, added = publish_all(data, lake)
        print(f"published {len(runs):,} runs from {args.machines} processes at once in {wall:.1f} s: "
              f"{added:,} rows, {added / wall:,.0f} rows/s, {len(runs) / wall:.1f} runs/s")  # fmt: skip
        print(catalog_figures(server, lake))
        wall, added = publish_all(data, lake)
        print(
            f"published again from {args.machines} processes: {counted(added, 'row')} added in {wall:.1f} s; "
            f"{catalog_figures(server, lake)}"
        )
        if added:
            raise SystemExit("publishing the same runs again added rows")
        ask_lake(lake, local, "over the lake as published")
        print(f"\nmaintenance in {maintain(lake):.1f} s: {catalog_figures(server, lake)}")
        ask_lake(lake, local, "over the lake after maintenance")


if __name__ == "__main__":
    main()
