"""The paths a lake's catalog names for its files, checked before any file is read or written: none may step out of
the data path with a `.` or `..` segment. DuckDB checks an object-store URL against the paths it may reach as
written, and its HTTP client then resolves the dots: measured with DuckDB 1.5.5 and httpfs 1.5.5,
`s3://lake/prefix/../../other/x.csv` passed a connection confined to `s3://lake/prefix/` and read `other/x.csv`."""

from probe.common.errors import UsageError, one_line
from probe.store.lake.basics import METADATA

# Where DuckLake keeps a path, relative to the data path or whole: (table, column).
PATHS = [
    ("ducklake_schema", "path"),
    ("ducklake_table", "path"),
    ("ducklake_data_file", "path"),
    ("ducklake_delete_file", "path"),
]
# A `.` or `..` segment anywhere, a path of a slash or a backslash (which some clients take for one).
DOT_SEGMENT = r"(^|[/\\])\.{1,2}([/\\]|$)"


def refuse_dot_segments(connection) -> None:
    """A catalog whose data path or any file, table or schema path holds a `.` or `..` segment is a UsageError in one
    line, before any of the lake's tables is read. Read from the catalog's own database, where the paths are data."""
    parts = [f"SELECT {column} AS path FROM {METADATA}.{table}" for table, column in PATHS]
    parts.append(f"SELECT value AS path FROM {METADATA}.ducklake_metadata WHERE key = 'data_path'")
    found = connection.execute(
        f"SELECT path FROM ({' UNION ALL '.join(parts)}) WHERE regexp_matches(path, $dots) LIMIT 1",
        {"dots": DOT_SEGMENT},
    ).fetchall()
    if found:
        raise UsageError(
            f"lake: its catalog names a file at {one_line(str(found[0][0]))[:120]!r}, whose `.` or `..` would lead "
            "out of the lake's data path: agent-probe reads and writes the lake's files only there (see the team "
            "lake's docs, What a writer is trusted with)"
        )
