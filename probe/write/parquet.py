"""The SQL views of one run as Hive-partitioned Parquet files, by DuckDB's own COPY: a folder per view, then one per
date and target (`turns/date=2026-11-25/target=codex/<run>_0.parquet`), compressed with zstd."""

import hashlib
import re
from datetime import date
from pathlib import Path

from probe.redact.secrets import mask_tokens_and_urls
from probe.write.sql_files import quoted
from probe.write.sql_views import VIEWS

PARTITIONS = ("date", "target")
# Parquet has no 128-bit integer: DuckDB would write one as a DOUBLE. A count the views sum as HUGEINT is written as
# BIGINT (NULL past 64 bits, which only a hand-made file reaches).
NARROWED = {"HUGEINT": "BIGINT"}
ROWS = "parquet_rows"  # the view being written
MASKS = "parquet_masks"  # the texts of a view that masking changes, by column, and what it makes of them
BATCH = 1024
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


def selected(connection, view: str) -> str:
    """Every column of `view`, its text masked as `sql` prints it (masked_text) and a type Parquet cannot hold
    NARROWED, then the partition's. A view's own column of a partition's name (the runs view's target) is the
    partition's: its folder gives it back."""
    columns = [column[:2] for column in connection.execute(f"DESCRIBE {view}").fetchall()]
    kept = [f'{written(connection, view, name, kind)} AS "{name}"' for name, kind in columns if name not in PARTITIONS]
    return ", ".join([*kept, "$day AS date", "$target AS target"])


def written(connection, view: str, name: str, kind: str) -> str:
    column = f'"{name}"'
    if kind in ("VARCHAR", "JSON") and masked_text(connection, view, name):
        text = f"CAST({column} AS VARCHAR)"
        lookup = f"(SELECT m.masked FROM {MASKS} m WHERE m.name = {quoted(name)} AND m.text = {text})"
        return f"coalesce({lookup}, {text})" + ("::JSON" if kind == "JSON" else "")
    return f"TRY_CAST({column} AS {NARROWED[kind]})" if kind in NARROWED else column


def masked_text(connection, view: str, name: str) -> bool:
    """Whether a value of the column holds what masking changes (the files behind the views may hold secrets: a label
    or prompt from an older capture, a hand-made file); each such value and its masked text are added to MASKS. The
    column's distinct values are read a batch at a time, and only those that change are kept."""
    found = connection.execute(f'SELECT DISTINCT CAST("{name}" AS VARCHAR) FROM {view} WHERE "{name}" IS NOT NULL')
    changed = []
    while batch := found.fetchmany(BATCH):
        changed += [(name, text, masked) for (text,) in batch if (masked := mask_tokens_and_urls(text)) != text]
    if changed:
        connection.executemany(f"INSERT INTO {MASKS} VALUES (?, ?, ?)", changed)
    return bool(changed)


def write_run(connection, run: str, target: str, day: date, output: Path) -> dict[str, int]:
    """Write every view of `connection` (which holds one run, named `run`) under `output`, replacing the files an
    earlier export of that run wrote; the rows written, by view. `target` and `day` are the run's partition."""
    stem = file_stem(run)
    rows_written = {}
    for view in VIEWS:
        # The view worked out once, for the reading of each of its texts and the writing.
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT * FROM {view}")
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {MASKS} (name VARCHAR, text VARCHAR, masked VARCHAR)")
        for old in written_before(output, view, target, stem):
            old.unlink()
        (output / view).mkdir(parents=True, exist_ok=True)
        rows = connection.execute(
            f"COPY (SELECT {selected(connection, ROWS)} FROM {ROWS}) TO {quoted(str(output / view))} "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(PARTITIONS)}), OVERWRITE_OR_IGNORE, "
            f"FILENAME_PATTERN {quoted(stem + '_{i}')})",
            {"day": day, "target": target},
        ).fetchone()
        rows_written[view] = rows[0] if rows else 0
    connection.execute(f"DROP TABLE IF EXISTS {ROWS}")
    return rows_written
