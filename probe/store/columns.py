"""A SQL view's columns and their types, and the types a file format or a lake cannot hold, with what they become."""

# Parquet (and DuckLake) has no 128-bit integer: DuckDB would write one as a DOUBLE. A count the views sum as
# HUGEINT is written as BIGINT (NULL past 64 bits, which only a hand-made file reaches).
NARROWED = {"HUGEINT": "BIGINT"}


def view_columns(connection, view: str) -> list[tuple[str, str]]:
    """Each column of `view` and its type."""
    return [column[:2] for column in connection.execute(f"DESCRIBE {view}").fetchall()]
