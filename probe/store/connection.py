"""An in-memory DuckDB with the SQL views over some runs' files, within a memory limit: what `sql` queries and the
Parquet export writes."""

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from probe.common.errors import UsageError, one_line
from probe.runs.labels import labels as own_labels
from probe.store.confine import confine_to
from probe.store.files import TURN_COLUMNS, damaged_lines, file_source, readable_runs
from probe.store.identity import run_identity
from probe.store.identity_columns import IDENTITY
from probe.store.load import load
from probe.store.views import MACROS, TURN_VIEWS, VIEWS

# DuckDB's own default is 80% of the machine's memory, and every thread holds its own share of a query's work: one
# shared run could take the machine. What does not fit is spilled to a temporary folder, up to SPILL_LIMIT.
MEMORY_LIMIT = "1GB"
THREADS = min(os.cpu_count() or 1, 4)
SPILL_LIMIT = "8GB"


def open_database(memory_limit: str = MEMORY_LIMIT):
    """An empty in-memory DuckDB within `memory_limit`."""
    import duckdb

    # DuckDB spills what does not fit to its temporary folder, by default `.tmp` in the current folder (a checkout,
    # a run folder): a folder of its own instead, removed when the connection goes.
    spill = tempfile.mkdtemp(prefix="probe-sql-")
    config = {"memory_limit": memory_limit, "threads": THREADS, "temp_directory": spill,
              "max_temp_directory_size": SPILL_LIMIT}  # fmt: skip
    try:
        connection = duckdb.connect(":memory:", config=config)
    except duckdb.Error as error:
        shutil.rmtree(spill, ignore_errors=True)
        raise UsageError(f"sql: {one_line(str(error).splitlines()[0])}") from None
    weakref.finalize(connection, shutil.rmtree, spill, ignore_errors=True)
    connection.execute("SET TimeZone = 'UTC'")  # (times are shown in UTC, whatever the machine's zone)
    return connection


def turns_files(runs: list[Path]) -> list[Path]:
    """The runs' turns.jsonl, which some views read when queried."""
    return [run / "turns.jsonl" for run in runs if (run / "turns.jsonl").is_file()]


def run_folders(connection, runs: list[Path], publisher: dict[str, str | None] | None) -> None:
    """The table of the runs, their folders and identities (probe.store.identity), each worked out once here, which
    every view joins. A run recorded before manifests held labels is credited to `publisher` (by default this
    machine's labels: those that would publish it)."""
    found: dict[str, str | None] = {}

    def fallback() -> dict[str, str | None]:
        if not found:
            found.update(publisher or own_labels())
        return found

    typed = ", ".join(f'"{name}" {kind}' for name, kind in IDENTITY.items())
    connection.execute(f"CREATE TABLE run_folders (run VARCHAR, folder VARCHAR, {typed})")
    rows = [(run.name, str(run), *run_identity(run, fallback).values()) for run in runs]
    if rows:
        connection.executemany(f"INSERT INTO run_folders VALUES ({', '.join('?' * len(rows[0]))})", rows)


def connect(runs: list[Path], warnings: list[str] | None = None, memory_limit: str = MEMORY_LIMIT,
            confined: bool = False, publisher: dict[str, str | None] | None = None):  # fmt: skip
    """An in-memory DuckDB with the views over `runs`, within `memory_limit`. What the documented views show is
    loaded from the runs' files first (probe.store.load); the views that give every value or each turn whole
    read turns.jsonl where it lies. A run whose manifest cannot be read is left out, and so is a run that cannot be
    loaded within the limit, and each damaged line of a turns.jsonl; with `warnings`, a line for each is added.
    `confined`: the connection then reads no file but those turns.jsonl (see confine_to). `publisher`: the labels
    a run whose manifest records none is credited to (see run_folders)."""
    connection = open_database(memory_limit)
    found: list[str] = []
    connection.execute("SET threads = 1")  # each thread reading a large line of JSON holds many times its size
    runs = load(connection, readable_runs(connection, runs, found), found)
    connection.execute(f"SET threads = {THREADS}")
    run_folders(connection, runs, publisher)
    turn_files = turns_files(runs)
    connection.execute(f"CREATE VIEW turn_files AS {file_source(turn_files, TURN_COLUMNS)}")
    for macro, expression in MACROS.items():
        connection.execute(f"CREATE MACRO {macro} AS {expression}")
    for name, query in (TURN_VIEWS | VIEWS).items():
        connection.execute(f"CREATE VIEW {name} AS {query}")
    if warnings is not None:
        warnings += found + damaged_lines(connection)
    if confined:
        confine_to(connection, files=[str(path) for path in turn_files])
    return connection
