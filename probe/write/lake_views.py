"""An in-memory DuckDB whose SQL views read the team lake: each view of `sql` by its own name, over the lake's table
of it (the view's columns, then who published each run and from where), and the book of publications."""

from probe.common.errors import UsageError
from probe.write.lake_connection import attach
from probe.write.lake_settings import LakeSettings
from probe.write.lake_tables import PUBLICATIONS, ROW_KEY, existing
from probe.write.sql_connection import MEMORY_LIMIT, open_database
from probe.write.sql_views import VIEWS


def connect_lake(lake: LakeSettings, memory_limit: str = MEMORY_LIMIT):
    """The views over the lake, read-only; a lake that holds no table yet is a UsageError in one line."""
    connection = open_database(memory_limit)
    try:
        attach(connection, lake, read_only=True)
        tables = existing(connection)
        if PUBLICATIONS not in tables:
            raise UsageError("lake: no run has been published to it yet (see publish)")
        for view in [*VIEWS, PUBLICATIONS]:
            if view in tables:
                hidden = f" EXCLUDE ({ROW_KEY})" if ROW_KEY in tables[view] else ""
                connection.execute(f"CREATE VIEW {view} AS SELECT *{hidden} FROM lake.{view}")
    except BaseException:
        connection.close()
        raise
    return connection
