"""A run taken out of the lake: its rows deleted from every table that holds runs, `publications` included, in one
transaction under the run's lock, so that a reader sees the run whole or not at all, and a publish of it waits."""

from probe.store.lake.admin import LakeRun, run_tables
from probe.store.lake.basics import LakeSettings, lock_key, rollback
from probe.store.lake.connection import lock
from probe.store.quoting import identifier


def remove_run(connection, lake: LakeSettings, run: LakeRun, tables: dict[str, dict[str, str]]) -> dict[str, int]:
    """Delete the run's rows from each of the lake's tables (its base tables only: `tables`, see
    probe.store.lake.tables.existing); the rows removed, by table."""
    removed = {}
    connection.execute("BEGIN TRANSACTION")
    try:
        lock(connection, lake, lock_key(run.run_id))
        for table in run_tables(tables):
            gone = connection.execute(
                f"DELETE FROM lake.main.{identifier(table)} WHERE run_id = $id", {"id": run.run_id}
            ).fetchone()
            removed[table] = gone[0] if gone else 0
        connection.execute("COMMIT")
    except BaseException:
        rollback(connection)
        raise
    return removed


def said(run: LakeRun, removed: dict[str, int]) -> str:
    """One line: the run and the rows that went, by table (those that held any)."""
    tables = ", ".join(f"{table} {count:,}" for table, count in removed.items() if count)
    return f"{run.shown()}: {sum(removed.values()):,} rows removed" + (f" ({tables})" if tables else "")
