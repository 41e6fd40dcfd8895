"""A query typed for `sql`, checked before it runs: one query (a SELECT, FROM, WITH, DESCRIBE …), and unless the user
allows external access, none of the functions that read files, reach the network or run SQL given as text."""

import json
import re
from collections.abc import Iterator
from typing import Any

from probe.common.errors import UsageError, one_line

# Functions that run SQL handed to them as text, which no check of the query's own text would see.
SQL_AS_TEXT = {"query", "query_table", "json_execute_serialized_sql"}
# Functions that read files or reach other hosts. DuckDB's enable_external_access (off in such a session, see
# probe.write.sql_connection) stops every one that reads a file or a URL; PostgreSQL's scanner and DuckLake's own
# functions (loaded for the lake) open connections and delete files whatever it says, so they are refused by name.
OUTSIDE_PREFIXES = ("postgres_", "ducklake_", "read_", "parquet_", "sqlite_", "mysql_", "iceberg_", "delta_", "http")
OUTSIDE_NAMES = {"glob", "sniff_csv", "load_aws_credentials"}
ALLOW = "--external-access lets a query you wrote yourself do that"
# A table named like a file, a glob or a URL, which DuckDB reads as one (`FROM 'runs.csv'`); no view has such a name.
FILE_NAME = re.compile(r"[./:*?\\]")


def refused_function(name: str) -> bool:
    name = name.lower()
    return name in SQL_AS_TEXT or name in OUTSIDE_NAMES or name.startswith(OUTSIDE_PREFIXES) or name.endswith("_scan")


def check_query(connection, sql: str, external_access: bool) -> None:
    """One query, else a UsageError in one line; without `external_access`, no function that reads files, reaches
    the network or runs SQL given as text."""
    import duckdb

    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as error:
        raise UsageError(f"sql: {one_line(' '.join(str(error).split()))[:300]}") from None
    if len(statements) != 1:
        raise UsageError(f"sql: one query at a time ({len(statements)} statements given)")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise UsageError(f"sql: only a query runs here (SELECT, FROM, WITH, DESCRIBE, …), not {kind.name}")
    if external_access:
        return
    [(serialized,)] = connection.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchall()
    tree = json.loads(serialized)
    if tree.get("error"):
        raise UsageError(f"sql: {one_line(str(tree.get('error_message', 'the query cannot be read')))[:300]}")
    files = sorted({name for name in table_names(tree) if FILE_NAME.search(name)})
    if files:
        raise UsageError(
            f"sql: FROM '{one_line(files[0])[:80]}' reads a file or a URL, which sql refuses by default: {ALLOW}"
        )
    refused = sorted({name for name in function_names(tree) if refused_function(name)})
    if refused:
        raise UsageError(
            f"sql: {one_line(refused[0])[:80]}() reads files, reaches the network or runs SQL given as text, "
            f"which sql refuses by default: {ALLOW}"
        )


def check_typed(sql: str, external_access: bool) -> None:
    """check_query in a connection of its own, before any run is read: a query that cannot run says so at once."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        check_query(connection, sql, external_access)
    finally:
        connection.close()


def function_names(tree: Any) -> Iterator[str]:
    """Every function a parsed query calls (scalar, aggregate or table function)."""
    return (node["function_name"] for node in nodes(tree) if isinstance(node.get("function_name"), str))


def table_names(tree: Any) -> Iterator[str]:
    """Every table a parsed query names without a database or schema (where DuckDB may read a file of that name)."""
    for node in nodes(tree):
        unqualified = not node.get("catalog_name") and not node.get("schema_name")
        if node.get("type") == "BASE_TABLE" and unqualified and isinstance(node.get("table_name"), str):
            yield node["table_name"]


def nodes(tree: Any) -> Iterator[dict]:
    """Every object of a parsed query, at any depth (walked with a list, not by recursion: a query may nest as deep
    as DuckDB's parser allows)."""
    waiting = [tree]
    while waiting:
        node = waiting.pop()
        if isinstance(node, dict):
            yield node
            waiting.extend(node.values())
        elif isinstance(node, list):
            waiting.extend(node)


def outside_access(message: str) -> str | None:
    """DuckDB's refusal of a file, a URL or an extension in a confined session, said as what to do."""
    if "disabled by configuration" in message or "disabled through configuration" in message:
        return f"sql: the query reads a file, reaches the network or loads an extension, which sql refuses: {ALLOW}"
    return None
