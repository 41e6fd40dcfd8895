"""The SQL a lake's catalog holds, its views and macros, which is never run here: anyone who can write the catalog
wrote it. Found by name, without binding any, and set aside for as long as a reader's query runs."""

from probe.common.errors import UsageError, one_line
from probe.write.lake_tables import identifier


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


def set_aside(connection, code: list[tuple[str, str, str]]) -> None:
    """Open the reader's transaction and drop every view and macro of the lake in it: while it lasts, no name a query
    uses and no listing of columns reaches the catalog's SQL. It is never committed: the catalog's sessions are
    read-only (probe.write.lake_connection.attach), and the connection is closed with it open."""
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
