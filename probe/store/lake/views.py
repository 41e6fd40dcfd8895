"""An in-memory DuckDB whose SQL views read the team lake: each view of `sql` by its own name, over the lake's table
of it (the view's columns, the run's identity among them, then who published it), and the book of publications.
Only the lake's tables are read: its own views and macros are set aside unrun (probe.store.lake.code)."""

from probe.common.errors import UsageError, one_line, warn
from probe.store.connection import MEMORY_LIMIT, open_database
from probe.store.lake.basics import PUBLICATIONS, ROW_KEY, LakeSettings, existing
from probe.store.lake.catalog_paths import refuse_dot_segments
from probe.store.lake.code import catalog_code, refuse_foreign_inlined_tables, set_aside
from probe.store.lake.connection import attach, confine, first_line, is_postgres
from probe.store.quoting import identifier
from probe.store.views import VIEWS


def connect_lake(lake: LakeSettings, memory_limit: str = MEMORY_LIMIT, external_access: bool = False):
    """The views over the lake, in a transaction that holds none of the lake's views and macros and is never
    committed. Without `external_access` the connection is confined to the lake's data path (probe.write.
    lake_connection.confine). A lake that holds no table yet is a UsageError in one line."""
    import duckdb

    connection = open_database(memory_limit)
    try:
        attach(connection, lake, read_only=True)
        refuse_foreign_inlined_tables(connection)
        refuse_dot_segments(connection)
        tables = existing(connection)
        if PUBLICATIONS not in tables:
            raise UsageError("lake: no run has been published to it yet (see publish)")
        code = catalog_code(connection)
        if code and not is_postgres(lake):
            raise UsageError(
                "lake: its catalog holds views or macros, which a catalog in one file cannot have set aside: "
                "agent-probe runs no SQL a catalog holds"
            )
        ours = [*VIEWS, PUBLICATIONS]
        for kind, schema, name in code:
            if schema == "main" and name in ours:
                warn(f"lake: {one_line(name)} is a {kind.lower()} in the lake's catalog, not a table: left out "
                     "(agent-probe runs no SQL a catalog holds)")  # fmt: skip
        for view in ours:
            if view in tables:
                hidden = f" EXCLUDE ({ROW_KEY})" if ROW_KEY in tables[view] else ""
                connection.execute(f"CREATE VIEW {view} AS SELECT *{hidden} FROM lake.main.{identifier(view)}")
        if not external_access:
            confine(connection, lake)
        set_aside(connection, code)
    except duckdb.Error as error:  # (a catalog that cannot be read as DuckLake's, whatever it holds)
        connection.close()
        raise UsageError(f"lake: {first_line(error)}") from None
    except BaseException:
        connection.close()
        raise
    return connection
