"""The SQL a lake's catalog holds, its views and macros, which is never run here: anyone who can write the catalog
wrote it. Found by name, without binding any, and set aside for as long as a reader's query runs."""

import re

from probe.common.errors import UsageError, one_line
from probe.store.lake.basics import METADATA
from probe.store.quoting import identifier

# The names DuckLake gives its tables of inlined rows (ducklake_inlined_data_<table>_<version>): it pastes the names
# the catalog lists into SQL it runs in the reader's DuckDB, unquoted.
INLINED_NAME = re.compile(r"ducklake_inlined_data_\d{1,20}_\d{1,20}")


def catalog_code(connection) -> list[tuple[str, str, str]]:
    """Each view and macro of the lake: (what DROP calls it, its schema, its name)."""
    views = connection.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'lake' AND NOT internal"
    ).fetchall()
    macros = connection.execute(
        "SELECT DISTINCT schema_name, function_name, function_type FROM duckdb_functions() "
        "WHERE database_name = 'lake' AND function_type IN ('macro', 'table_macro')"
    ).fetchall()
    kinds = {"macro": "MACRO", "table_macro": "MACRO TABLE"}
    return [("VIEW", schema, name) for schema, name in views] + [
        (kinds[kind], schema, name) for schema, name, kind in macros
    ]


def refuse_foreign_inlined_tables(connection) -> None:
    """A catalog that lists a table of inlined rows under a name DuckLake does not give is a UsageError, before any of
    the lake's tables is read: that name would be run as SQL (`… AS q, (SELECT … FROM postgres_scan(…))` made a
    reader's DuckDB connect to another server). Read from the catalog's own database, where it is data."""
    names = connection.execute(f"SELECT table_name FROM {METADATA}.ducklake_inlined_data_tables").fetchall()
    foreign = sorted({str(name) for (name,) in names if not INLINED_NAME.fullmatch(str(name))})
    if foreign:
        raise UsageError(
            f"lake: its catalog lists a table of inlined rows named {one_line(foreign[0])[:80]!r}, which DuckLake "
            "would run as SQL: agent-probe runs no SQL a catalog holds (see the team lake's docs, What a writer is "
            "trusted with)"
        )


def set_aside(connection, code: list[tuple[str, str, str]]) -> None:
    """Open the reader's transaction and drop every view and macro of the lake in it: while it lasts, no name a query
    uses and no listing of columns reaches the catalog's SQL. It is never committed: the catalog's sessions are
    read-only (probe.store.lake.connection.attach), and the connection is closed with it open."""
    connection.execute("BEGIN TRANSACTION")
    for kind, schema, name in code:
        connection.execute(f"DROP {kind} lake.{identifier(schema)}.{identifier(name)}")


def refuse_code_among(code: list[tuple[str, str, str]], names: set[str]) -> None:
    """A name agent-probe writes or reads that the lake holds as a view or a macro, not a table, is a UsageError:
    whoever made it can write the catalog, and its SQL would run on this machine."""
    found = sorted(f"{name} ({kind.lower()})" for kind, schema, name in code if schema == "main" and name in names)
    if found:
        raise UsageError(
            f"lake: {one_line(', '.join(found))[:200]} in the lake's catalog where a table belongs: agent-probe runs "
            "no SQL a catalog holds (see the team lake's docs, What a writer is trusted with)"
        )


def refuse_sort_expressions(connection) -> None:
    """A sort order in the catalog is a UsageError: DuckLake runs its expressions, text anyone who can write the
    catalog wrote, on each insert into the table (a publish) and as it rewrites the table's files; agent-probe never
    sets one. Read from the catalog's own database, where it is data."""
    [(count,)] = connection.execute(f"SELECT count(*) FROM {METADATA}.ducklake_sort_expression").fetchall()
    if count:
        raise UsageError(
            "lake: its catalog holds a sort order (ducklake_sort_expression), which DuckLake would run as SQL: "
            "agent-probe runs no SQL a catalog holds (see the team lake's docs, What a writer is trusted with)"
        )
