"""What every part of the lake's code shares, standing on nothing of the lake's own: the name it is attached under,
its settings, its tables' names and how they are listed, a run's lock key, and a rollback."""

import contextlib
import hashlib
from dataclasses import dataclass

from probe.store.quoting import identifier

ALIAS = "lake"
# DuckLake keeps its catalog's own connection under this name: a statement sent there runs in the catalog database,
# inside the lake's transaction (how a run's publishing takes its lock).
METADATA = f"__ducklake_metadata_{ALIAS}"
ROW_KEY = "row_key"  # the row's digest and its count among equal rows of the run: what publishing compares
# One row for each table of each run published, the newest (by `seq`) for a run and table being what the lake holds
# of it.
PUBLICATIONS = "publications"


@dataclass(frozen=True)
class LakeSettings:
    catalog: str  # what DuckLake takes after `ducklake:` (postgres:dbname=… host=…)
    data: str | None  # the data path: a folder or an object-store URL; None once the catalog knows it
    machine: str  # who publishes (probe.runs.labels): a run recorded before manifests held labels is credited to them
    user: str
    team: str | None = None
    project: str | None = None
    repository: str | None = None


def existing(connection) -> dict[str, dict[str, str]]:
    """The lake's tables (its base tables only) and their columns. Never through information_schema.columns or
    duckdb_columns(): listing a view's columns binds its query, and a lake's views are SQL anyone who can write the
    catalog wrote (probe.store.lake.code)."""
    names = connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake' AND schema_name = 'main' "
        "ORDER BY table_name"
    ).fetchall()
    return {name: table_columns(connection, name) for (name,) in names}


def table_columns(connection, table: str) -> dict[str, str]:
    """A base table's columns and their types, in order."""
    rows = connection.execute(f"DESCRIBE lake.main.{identifier(table)}").fetchall()
    return {column: kind for column, kind, *_ in rows}


def lock_key(run_id: str) -> int:
    """The run's lock, a signed 64-bit number from its run_id (what publishing, removing and relabelling it take)."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big", signed=True)


def rollback(connection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # (a failed commit has ended the transaction already)
        connection.execute("ROLLBACK")
