"""The team lake's tables: one for each SQL view (its columns, the run's identity among them, then who published
the run, then each row's key), and the book of publications; made, or given the columns a newer view has, before
any run is added."""

from probe.store.columns import NARROWED, view_columns
from probe.store.identity_columns import CREDIT
from probe.store.lake.basics import PUBLICATIONS, ROW_KEY, existing
from probe.store.views import VIEWS

# Who published a run (probe.runs.labels), beside its view's own columns, which end with the run's identity and whom
# it is credited to (probe.store.identity): the recorder, not the publisher.
PUBLISHED_BY = ("published_by_machine", "published_by_user")
PUBLICATION_COLUMNS = {
    "run_id": "VARCHAR",
    "table_name": "VARCHAR",
    "rows": "BIGINT",
    "digest": "VARCHAR",
    "seq": "BIGINT",  # the run's publications in order, numbered under its lock
    "published_at": "TIMESTAMP",  # in UTC
    "run": "VARCHAR",
    "target": "VARCHAR",
    **{name: "VARCHAR" for name in CREDIT},
    **{name: "VARCHAR" for name in PUBLISHED_BY},
}


def lake_columns(connection, view: str) -> dict[str, str]:
    """The columns of `view`'s table in the lake, in order, with their types."""
    own = {name: NARROWED.get(kind, kind) for name, kind in view_columns(connection, view)}
    return own | {name: "VARCHAR" for name in PUBLISHED_BY} | {ROW_KEY: "VARCHAR"}


def missing_parts(connection) -> list[str]:
    """The statements that make the tables the lake lacks and add the columns a table lacks (a newer release's view
    may have more; a column the lake has and the view lacks stays, NULL in new rows)."""
    have = existing(connection)
    wanted = {view: lake_columns(connection, view) for view in VIEWS} | {PUBLICATIONS: PUBLICATION_COLUMNS}
    statements = []
    for table, columns in wanted.items():
        if table not in have:
            typed = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            statements.append(f"CREATE TABLE lake.{table} ({typed})")
            continue
        statements += [
            f'ALTER TABLE lake.{table} ADD COLUMN "{name}" {kind}'
            for name, kind in columns.items()
            if name not in have[table]
        ]
    return statements


def make_tables(connection) -> int:
    """Make what the lake lacks, in one transaction; the statements run. Two writers making the same table at once
    conflict: the caller tries again, and then finds it made."""
    statements = missing_parts(connection)
    if not statements:
        return 0
    connection.execute("BEGIN TRANSACTION")
    try:
        for statement in statements:
            connection.execute(statement)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return len(statements)
