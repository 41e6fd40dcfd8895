"""The SQL views of one run as Hive-partitioned Parquet files, by DuckDB's own COPY: a folder per view, then one per
date and target (`turns/date=2026-11-25/target=codex/<run>_0.parquet`), compressed with zstd."""

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from probe.store.quoting import quoted
from probe.store.views import VIEWS

PARTITIONS = ("date", "target")
ROWS = "parquet_rows"  # the view being written
UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_stem(run: str) -> str:
    """The start of the name of the files a run's rows are written to: its folder's name, with only characters
    every reader and object store takes, and no `{` that DuckDB's file name pattern would read; a name that had
    others gets a digest of itself, so that two runs never share a name."""
    safe = UNSAFE.sub("_", run)
    return safe if safe == run else f"{safe}-{hashlib.sha256(run.encode(errors='surrogateescape')).hexdigest()[:8]}"


def written_before(output: Path, view: str, target: str, stem: str) -> list[Path]:
    """The files an earlier export of the same run (target and name) wrote for `view`, whatever date it gave it."""
    pattern = re.compile(re.escape(stem) + r"_\d+\.parquet")
    folders = (output / view).glob(f"date=*/target={target}")
    return [file for folder in folders for file in folder.iterdir() if pattern.fullmatch(file.name)]


# The select list of a view's columns as they may leave the machine, but those named (probe.store.masked_rows): handed
# in by the job, so that writing stays a few imports above masking.
Columns = Callable[..., list[str]]


def selected(connection, view: str, columns_of: Columns) -> str:
    """Every column of `view` as `columns_of` gives it, then the partition's. A view's own column of a partition's
    name (the runs view's target) is the partition's: its folder gives it back."""
    return ", ".join([*columns_of(connection, view, PARTITIONS), "$day AS date", "$target AS target"])


def write_run(connection, run: str, target: str, day: date, output: Path, columns_of: Columns) -> dict[str, int]:
    """Write every view of `connection` (which holds one run, named `run`) under `output`, replacing the files an
    earlier export of that run wrote; the rows written, by view. `target` and `day` are the run's partition."""
    stem = file_stem(run)
    rows_written = {}
    for view in VIEWS:
        # The view worked out once, for the reading of each of its texts and the writing.
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT * FROM {view}")
        for old in written_before(output, view, target, stem):
            old.unlink()
        (output / view).mkdir(parents=True, exist_ok=True)
        rows = connection.execute(
            f"COPY (SELECT {selected(connection, ROWS, columns_of)} FROM {ROWS}) TO {quoted(str(output / view))} "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(PARTITIONS)}), OVERWRITE_OR_IGNORE, "
            f"FILENAME_PATTERN {quoted(stem + '_{i}')})",
            {"day": day, "target": target},
        ).fetchone()
        rows_written[view] = rows[0] if rows else 0
    connection.execute(f"DROP TABLE IF EXISTS {ROWS}")
    return rows_written
