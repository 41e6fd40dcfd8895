"""A query typed for `sql`, checked before it runs: one query (a SELECT, FROM, WITH, DESCRIBE …); unless the user
allows external access, only table functions that read nothing outside the database and no function that reaches
out or runs SQL given as text; over a lake, never one that has DuckLake do its upkeep."""

import json
import re
from collections.abc import Iterator
from typing import Any

from probe.common.errors import UsageError, one_line

# Functions that run SQL handed to them as text, which no check of the query's own text would see.
SQL_AS_TEXT = {"query", "query_table", "json_execute_serialized_sql"}
# Functions that read files or reach other hosts. DuckDB's enable_external_access (off in such a session, see
# probe.store.confine) stops every one that reads a file or a URL; PostgreSQL's scanner and DuckLake's own
# functions (loaded for the lake) open connections and delete files whatever it says, so they are refused by name.
OUTSIDE_PREFIXES = ("postgres_", "ducklake_", "read_", "parquet_", "sqlite_", "mysql_", "iceberg_", "delta_", "http")
OUTSIDE_NAMES = {"glob", "sniff_csv", "load_aws_credentials"}
# The table functions a query may call by default: those that make rows from their arguments or describe the
# database. Any other (DuckDB ships ones that read files, run SQL given as text, or, as `checkpoint` does over a
# lake, have an extension do work of its own) needs --external-access.
TABLE_FUNCTIONS = {"range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree"}
TABLE_FUNCTION_PREFIXES = ("duckdb_", "pragma_")
# Over a lake, never: DuckLake's upkeep runs on a connection of its own, outside the reader's transaction where the
# catalog's SQL is set aside (a sort expression a writer put there would run) and deletes files before the
# catalog's read-only session refuses its commit.
UPKEEP = {"checkpoint", "force_checkpoint"}
# What shows the secrets of the session (an object store's key id, its endpoint, its scope): never, whatever else a
# query may do; DuckDB shows a secret's key id as it is.
SECRETS = {"duckdb_secrets", "which_secret"}
ALLOW = "--external-access lets a query you wrote yourself do that"
# A table named like a file, a glob or a URL, which DuckDB reads as one (`FROM 'runs.csv'`); no view has such a name.
FILE_NAME = re.compile(r"[./:*?\\]")


def refused_function(name: str) -> bool:
    name = name.lower()
    return name in SQL_AS_TEXT or name in OUTSIDE_NAMES or name.startswith(OUTSIDE_PREFIXES) or name.endswith("_scan")


def allowed_table_function(name: str) -> bool:
    name = name.lower()
    return name in TABLE_FUNCTIONS or (name.startswith(TABLE_FUNCTION_PREFIXES) and not refused_function(name))


def check_query(connection, sql: str, external_access: bool, lake: bool = False) -> None:
    """One query, else a UsageError in one line. Without `external_access`, no table named like a file, no
    function that reaches out or runs SQL given as text, no table function but the allowed ones; over a `lake`,
    never DuckLake's upkeep."""
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
    [(serialized,)] = connection.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchall()
    tree = json.loads(serialized)
    if tree.get("error"):
        raise UsageError(f"sql: {one_line(str(tree.get('error_message', 'the query cannot be read')))[:300]}")
    called = {name.lower() for name in function_names(tree)}
    shown = sorted(called & SECRETS)
    if shown:
        raise UsageError(f"sql: {shown[0]}() shows the session's secrets (an object store's keys): sql never does")
    upkeep = sorted(name for name in called if name in UPKEEP or name.startswith("ducklake_"))
    if lake and upkeep:
        raise UsageError(
            f"sql: {one_line(upkeep[0])[:80]}() has DuckLake do its upkeep, outside what the lake's readers may run"
        )
    if external_access:
        return
    files = sorted({name for name in table_names(tree) if FILE_NAME.search(name)})
    if files:
        raise UsageError(
            f"sql: FROM '{one_line(files[0])[:80]}' reads a file or a URL, which sql refuses by default: {ALLOW}"
        )
    refused = sorted({name for name in called if refused_function(name)})
    refused += sorted({name for name in table_function_names(tree) if not allowed_table_function(name)})
    if refused:
        raise UsageError(
            f"sql: {one_line(refused[0])[:80]}() reads files, reaches the network or runs SQL given as text, "
            f"or is a table function sql does not know to do none of that, which sql refuses by default: {ALLOW}"
        )


def check_typed(sql: str, external_access: bool, lake: bool = False) -> None:
    """check_query in a connection of its own, before any run is read: a query that cannot run says so at once."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        check_query(connection, sql, external_access, lake)
    finally:
        connection.close()


def function_names(tree: Any) -> Iterator[str]:
    """Every function a parsed query calls (scalar, aggregate or table function)."""
    return (node["function_name"] for node in nodes(tree) if isinstance(node.get("function_name"), str))


def table_function_names(tree: Any) -> Iterator[str]:
    """Every table function a parsed query reads from (a table macro of DuckDB's own among them)."""
    for node in nodes(tree):
        function = node.get("function") if node.get("type") == "TABLE_FUNCTION" else None
        if isinstance(function, dict) and isinstance(function.get("function_name"), str):
            yield function["function_name"]


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
