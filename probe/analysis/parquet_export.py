"""`export --format parquet`: the SQL views of one run or of every run as Hive-partitioned Parquet files (by the
run's date and target), which Polars, Spark, Athena, pyarrow or DuckDB read with no catalog; exporting a run again
replaces what its last export wrote."""

import sys
from datetime import date, datetime
from pathlib import Path

from probe.common.counting import counted
from probe.common.errors import RunError, one_line, warn
from probe.common.paths import TARGET_NAME, display
from probe.runs.folders import RUN_NAME, being_recorded, read_manifest
from probe.store.connection import connect
from probe.store.masked_rows import masked_columns
from probe.store.parquet import write_run


def export_parquet(runs: list[Path], output: Path, every: bool) -> int:
    """Export `runs` (brought up to date) into the folder `output`: the one run asked for, or with `every`, all those
    found (a run that cannot be exported is then left out with a warning)."""
    exported, totals = 0, {}
    for run in runs:
        problem = refusal(run, every)
        if problem is not None and not every:
            raise RunError(f"{display(run)}: {problem}")
        if problem is not None:
            warn(f"{display(run)}: {problem}; left out")
            continue
        try:
            written = export_run(run, output)
        except LeftOut as reason:
            if not every:
                raise RunError(f"{display(run)}: {reason}") from None
            warn(f"{display(run)}: {reason}; left out")
            continue
        exported += 1
        for view, rows in written.items():
            totals[view] = totals.get(view, 0) + rows
    if not exported:
        raise RunError(f"no run could be exported to {display(output)}")
    shown = ", ".join(f"{view} {rows:,}" for view, rows in totals.items())
    print(f"{counted(exported, 'run')} as Parquet, rows by table: {shown}", file=sys.stderr)
    print(f"parquet: {display(output)}")
    return 0


def refusal(run: Path, every: bool) -> str | None:
    """Why a run is not exported, if it is not: its capture kept secrets unmasked, or (in an export of `every` run,
    which brings no run being recorded up to date) it is still being recorded."""
    manifest = read_manifest(run) or {}
    if manifest.get("keep_secrets") is True:
        return "captured with --keep-secrets, so not exported (the Parquet export holds only masked captures)"
    if every and being_recorded(run):
        return "still being captured (export it again when it ends)"
    return None


class LeftOut(Exception):
    """A run that cannot be exported: the message says why."""


def export_run(run: Path, output: Path) -> dict[str, int]:
    """The rows written of each view of `run`; LeftOut where the run cannot be read or has no partition."""
    import duckdb

    warnings: list[str] = []
    connection = connect([run], warnings)
    try:
        found = connection.execute("SELECT run, target, started FROM runs").fetchall()
        if not found:  # (its manifest cannot be read: the warning says why)
            raise LeftOut("; ".join(warning.removeprefix(f"{display(run)}: ") for warning in warnings))
        for warning in warnings:
            warn(warning)
        name, target, started = found[0]
        day = started.date() if started is not None else day_of(name)
        if not TARGET_NAME.match(target or ""):
            raise LeftOut(f"its folder {target!r} is no target's name, so the run has no partition")
        if day is None:
            raise LeftOut("neither its manifest nor its folder's name says when it started")
        try:
            return write_run(connection, name, target, day, output, masked_columns)
        except OSError as error:
            raise RunError(f"cannot write into {display(output)}: {error.strerror}") from None
        except duckdb.Error as error:
            raise RunError(f"cannot write into {display(output)}: {one_line(str(error).splitlines()[0])}") from None
    finally:
        connection.close()


def day_of(name: str) -> date | None:
    """The date a run folder's name starts with (20261125-123532-…)."""
    if not RUN_NAME.match(name):
        return None
    try:
        return datetime.strptime(name[:8], "%Y%m%d").date()
    except ValueError:
        return None
