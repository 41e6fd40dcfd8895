"""SQL over every run under the data folder: DuckDB, embedded, within a memory limit, over views of the run
folders' own files (manifest.json, turns.jsonl and insight.jsonl, brought up to date first), loaded into memory for
each command; there is no import step and no database file."""

import csv
import io
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from probe.analysis.report import refresh_all
from probe.common import cli
from probe.common.errors import UsageError, inert_json, inert_lines, one_line, run_main, warn
from probe.common.fastjson import strict_text
from probe.common.paths import data_dir, display
from probe.redact.json_values import mask_json
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import list_runs
from probe.store.columns import view_columns
from probe.store.connection import MEMORY_LIMIT, connect
from probe.store.guard import check_query, check_typed, outside_access
from probe.store.lake.basics import LakeSettings
from probe.store.lake.catalog_string import without_catalog
from probe.store.lake.settings import add_lake_options, given, settings
from probe.store.views import QUERY_HELP, VIEWS, VIEWS_WORD

FORMATS = ("table", "csv", "json")
EPILOG = (
    "Through invoke: `invoke sql QUERY` (or `invoke sql --query QUERY`), with --format, --memory-limit, "
    f"--external-access, --lake and --lake-data as here; `invoke sql {VIEWS_WORD}` is --views."
)
CELL_LIMIT = 60  # characters of one cell in a table; csv and json hold every value whole
MESSAGE_LIMIT = 600  # characters of DuckDB's message an error line shows (it is whole, lines joined, up to this)


def query(
    runs: list[Path],
    sql: str,
    warnings: list[str] | None = None,
    memory_limit: str = MEMORY_LIMIT,
    external_access: bool = False,
) -> tuple[list[str], list[tuple]]:
    """The columns and rows `sql` gives over the runs' views; a bad query, or one that needs more than
    `memory_limit`, is a UsageError in one line. With `warnings`, what was left out of the views is added to it
    (see connect). Without `external_access`, the query reads no file but the views' and reaches no other host
    (probe.store.guard)."""
    connection = connect(runs, warnings, memory_limit, confined=not external_access)
    return answer(connection, sql, memory_limit, external_access)


def lake_query(
    lake: LakeSettings, sql: str, memory_limit: str = MEMORY_LIMIT, external_access: bool = False
) -> tuple[list[str], list[tuple]]:
    """The columns and rows `sql` gives over the team lake's views (probe.store.lake.views): the lake's tables only,
    none of the SQL its catalog holds."""
    from probe.store.lake.views import connect_lake

    connection = connect_lake(lake, memory_limit, external_access)
    return answer(connection, sql, memory_limit, external_access, lake=True)


def answer(
    connection, sql: str, memory_limit: str, external_access: bool = False, lake: bool = False
) -> tuple[list[str], list[tuple]]:
    """The columns and rows of `sql` over the connection's views (`lake`: the team lake's), which it closes."""
    import duckdb

    try:
        check_query(connection, sql, external_access, lake)
        relation = connection.sql(sql)
        if relation is None:
            return [], []
        return list(relation.columns), [tuple(map(masked_value, row)) for row in relation.fetchall()]
    except duckdb.Error as error:
        # Whole, its lines joined, but for the query DuckDB quotes back after them ("LINE 1: …").
        message = " ".join(str(error).split("\nLINE ")[0].split()) if str(error) else type(error).__name__
        message = outside_access(message) or f"sql: {without_catalog(message)[:MESSAGE_LIMIT]}"
        if isinstance(error, duckdb.OutOfMemoryException):
            message += f" (the query needs more than --memory-limit {memory_limit})"
        raise UsageError(one_line(message)) from None
    finally:
        connection.close()


def masked_value(value: Any) -> Any:
    """A value as a result may show it: the files behind the views may hold secrets (a --keep-secrets capture's
    label or prompt, a hand-made turns.jsonl), and a result is printed or passed on."""
    if isinstance(value, str):
        return mask_tokens_and_urls(value)
    if isinstance(value, (list, dict)):
        return mask_json(value)[0]
    return value


def shown(value: Any) -> str:
    """A value in a table cell: captured text shown inert and short."""
    text = "NULL" if value is None else value if isinstance(value, str) else str(value)
    text = one_line(text)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def write_table(columns: list[str], rows: list[tuple], out: TextIO) -> None:
    cells = [[shown(column) for column in columns]] + [[shown(value) for value in row] for row in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    for number, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
        if number == 0:
            print("  ".join("-" * width for width in widths), file=out)
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=out)


def write_csv(columns: list[str], rows: list[tuple], out: TextIO) -> None:
    """Every value whole, captured text with its line breaks but no character a terminal would obey."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(map(inert_lines, columns))
    writer.writerows(map(csv_value, row) for row in rows)


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    return inert_lines(value if isinstance(value, str) else str(value))


def write_json(columns: list[str], rows: list[tuple], out: TextIO) -> None:
    """One JSON array of objects; values DuckDB gives as other types (times, decimals) are written as text, and
    characters a terminal would obey as JSON escapes (the same values)."""
    records = [dict(zip(columns, row)) for row in rows]
    try:
        text = orjson.dumps(records, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):  # a sum past 64 bits (HUGEINT), a lone surrogate
        text = strict_text(records, default=str)  # (a NaN as null, as orjson writes it)
    out.write(inert_json(text) + "\n")


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json}
LISTING = ["view", "column", "type"]


def listing(connection, views: list[str]) -> list[tuple]:
    """Each of `views` that the connection has, column by column with its type, in order; it closes the connection."""
    try:
        have = {name for (name,) in connection.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        return [(view, name, kind) for view in views if view in have
                for name, kind in view_columns(connection, view)]  # fmt: skip
    finally:
        connection.close()


def views_listing(lake: LakeSettings | None, memory_limit: str = MEMORY_LIMIT) -> list[tuple]:
    """The views a query reads and their columns: over the data folder's runs, or (`lake`) the team lake's, which
    also has the book of publications."""
    if lake is None:
        return listing(connect([], memory_limit=memory_limit), [*VIEWS])
    from probe.store.lake.basics import PUBLICATIONS
    from probe.store.lake.views import connect_lake

    return listing(connect_lake(lake, memory_limit), [*VIEWS, PUBLICATIONS])


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.sql", description=__doc__, epilog=EPILOG)
    parser.add_argument("query", metavar="SQL", nargs="?", help=QUERY_HELP)
    parser.add_argument(
        "--views",
        action="store_true",
        help="list the views and their columns (with --lake, the team lake's) instead of a query",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv or json")
    parser.add_argument(
        "--memory-limit",
        type=cli.memory_size,
        default=MEMORY_LIMIT,
        metavar="SIZE",
        help=f"what DuckDB may hold in memory, as DuckDB writes it (default {MEMORY_LIMIT}): a run that needs more is "
        "left out with a warning",
    )
    parser.add_argument(
        "--external-access",
        action="store_true",
        help="let the query read files, reach other hosts and use DuckDB's extensions, as a query you wrote yourself "
        "may (off by default: a query copied from elsewhere reads only the views)",
    )
    add_lake_options(parser, labels=False)  # (with either, the views read the team lake, not the data folder)
    args = parser.parse_args(argv)
    if args.views == (args.query is not None):
        parser.error("give a query (SQL) or --views, one of them")
    if args.views:
        lake = settings(given(args)) if args.lake or args.lake_data else None
        WRITERS[args.format](LISTING, views_listing(lake, args.memory_limit), sys.stdout)
        return 0
    check_typed(args.query, args.external_access, lake=bool(args.lake or args.lake_data))
    if args.lake or args.lake_data:
        lake = settings(given(args))
        columns, rows = lake_query(lake, args.query, args.memory_limit, args.external_access)
        WRITERS[args.format](columns, rows, sys.stdout)
        return 0
    if not data_dir().is_dir():
        raise UsageError(f"no data folder at {display(data_dir())} (see PROBE_DATA_DIR and invoke.yaml)")
    runs = list_runs()
    # The views read each run's turns.jsonl: bring those up to date first, as `analyze --run all` would.
    log = io.StringIO()
    counts = refresh_all(runs, out=log)
    if counts["rebuilt"] or counts["failed"]:
        print(
            f"reports: {counts['rebuilt']} rebuilt, {counts['failed']} failed (see analyze --run all)", file=sys.stderr
        )
    warnings: list[str] = []
    try:
        columns, rows = query(runs, args.query, warnings, args.memory_limit, args.external_access)
    finally:
        for warning in warnings:
            warn(warning)
    WRITERS[args.format](columns, rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
