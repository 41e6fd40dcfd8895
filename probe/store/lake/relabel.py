"""A run's credited labels changed in the lake: machine, user and the optional team, project and repository, in every
table that has the column, in one transaction under the run's lock."""

from probe.common.errors import UsageError, one_line
from probe.store.lake.admin import LakeRun, run_tables
from probe.store.lake.basics import LakeSettings, lock_key, rollback
from probe.store.lake.connection import lock
from probe.store.quoting import identifier

# The labels that credit a run to whoever recorded it, in the order they are said.
CREDIT = ("machine", "user", "team", "project", "repository")


def relabel_run(
    connection, lake: LakeSettings, run: LakeRun, labels: dict[str, str], tables: dict[str, dict[str, str]]
) -> tuple[dict[str, list[str]], int, int]:
    """Set `labels` (by column) on the run's rows of each table that has the column; the values each label had
    before, the rows changed and the tables they were in. A label no table of the lake has is a UsageError."""
    holding = {table: [name for name in labels if name in tables[table]] for table in run_tables(tables)}
    missing = [name for name in labels if not any(name in names for names in holding.values())]
    if missing:
        raise UsageError(f"lake: no table of it has a {missing[0]} column (a newer release publishes one)")
    before: dict[str, set[str]] = {name: set() for name in labels}
    changed = touched = 0
    connection.execute("BEGIN TRANSACTION")
    try:
        lock(connection, lake, lock_key(run.run_id))
        for table, names in holding.items():
            if not names:
                continue
            quoted = f"lake.main.{identifier(table)}"
            parameters = {"id": run.run_id} | {f"l{at}": labels[name] for at, name in enumerate(names)}
            for name in names:
                values = connection.execute(
                    f"SELECT DISTINCT {identifier(name)} FROM {quoted} WHERE run_id = $id", {"id": run.run_id}
                ).fetchall()
                before[name] |= {value if value is not None else "(none)" for (value,) in values}
            setting = ", ".join(f"{identifier(name)} = $l{at}" for at, name in enumerate(names))
            differing = " OR ".join(f"{identifier(name)} IS DISTINCT FROM $l{at}" for at, name in enumerate(names))
            done = connection.execute(
                f"UPDATE {quoted} SET {setting} WHERE run_id = $id AND ({differing})", parameters
            ).fetchone()
            count = done[0] if done else 0
            changed += count
            touched += 1 if count else 0
        connection.execute("COMMIT")
    except BaseException:
        rollback(connection)
        raise
    return {name: sorted(values) for name, values in before.items()}, changed, touched


def said(run: LakeRun, labels: dict[str, str], before: dict[str, list[str]], changed: int, tables: int) -> str:
    """One line: what each label was and is now, and how many rows changed."""
    if not changed:
        return f"{run.shown()}: already labelled so, nothing changed"
    parts = [f"{name} {'|'.join(before[name]) or '(none)'} -> {labels[name]}" for name in CREDIT if name in labels]
    rows = f"{changed:,} row{'s' if changed != 1 else ''} in {tables} table{'s' if tables != 1 else ''}"
    return one_line(f"{run.shown()}: {', '.join(parts)} ({rows})")
