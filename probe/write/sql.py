"""SQL over every run under the data folder: DuckDB, embedded, reading the run folders' own files (manifest.json
and turns.jsonl, brought up to date first) through views; there is no import step."""

import csv
import io
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from probe.common import cli
from probe.common.errors import UsageError, inert_json, inert_lines, one_line, run_main, warn
from probe.common.paths import data_dir, display
from probe.redact.json_values import mask_json
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import list_runs
from probe.write.report import refresh_all
from probe.write.sql_files import (
    INSIGHT_COLUMNS,
    MANIFEST_COLUMNS,
    TURN_COLUMNS,
    damaged_lines,
    file_source,
    readable_runs,
)

FORMATS = ("table", "csv", "json")
CELL_LIMIT = 60  # characters of one cell in a table; csv and json hold every value whole

# The documented views (docs/sql.md). `folder` joins a file to its run. Times are UTC TIMESTAMPs
# (a TIMESTAMPTZ would need pytz to reach Python).
VIEWS = {
    "runs": """
        SELECT f.run, f.target, timezone('UTC', TRY_STRPTIME(m.started_at, '%Y-%m-%dT%H:%M:%S%z')) AS started,
               m.status, m.agent->>'version' AS agent_version, coalesce(t.exchanges, 0) AS exchanges,
               m.agent_exit_code AS exit_code, m.label, m.prompt,
               TRY_CAST(c.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd,
               TRY_CAST(c.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns, c.cost->>'prices' AS prices
        FROM run_folders f
        LEFT JOIN manifest_files m ON m.folder = f.folder
        LEFT JOIN (SELECT folder, cost FROM insight_lines WHERE record = 'run') c ON c.folder = f.folder
        LEFT JOIN (SELECT folder, count(*) AS exchanges FROM turn_lines GROUP BY folder) t ON t.folder = f.folder""",
    "exchanges": """
        SELECT f.run, l.number AS n, l.kind, l.proxy, l.method, l.path, l.status,
               TRY_CAST(l.timing->>'ttfb_ms' AS DOUBLE) AS ttfb_ms,
               TRY_CAST(l.timing->>'duration_ms' AS DOUBLE) AS duration_ms,
               l.request_bytes, l.response_bytes, l.complete,
               make_timestamp(TRY_CAST(TRY_CAST(l.timing->>'start' AS DOUBLE) * 1e6 AS BIGINT)) AS started
        FROM turn_lines l JOIN run_folders f ON f.folder = l.folder""",
    "turns": """
        SELECT f.run, l.number AS n, l.api, l.provider, l.model,
               TRY_CAST(l.usage->>'input' AS BIGINT) AS input_tokens,
               TRY_CAST(l.usage->>'output' AS BIGINT) AS output_tokens,
               TRY_CAST(l.usage->>'cache_read' AS BIGINT) AS cache_read_tokens,
               TRY_CAST(l.usage->>'cache_write' AS BIGINT) AS cache_write_tokens,
               TRY_CAST(l.usage->>'reasoning' AS BIGINT) AS reasoning_tokens,
               coalesce(len(list_filter(CAST(json_extract_string(l.output, '$[*].parts[*].kind') AS VARCHAR[]),
                                        lambda kind: kind = 'tool_call')), 0) AS tool_calls,
               CASE WHEN coalesce(json_array_length(l.system), 0) > 0 THEN sha256(array_to_string(
                   CAST(json_extract_string(l.system, '$[*].text') AS VARCHAR[]), chr(10) || chr(10))) END
                   AS instructions_sha256,
               coalesce(list_sum(list_transform(CAST(json_extract_string(l.system, '$[*].text') AS VARCHAR[]),
                                                lambda text: length(text))), 0) AS instructions_chars,
               CASE WHEN coalesce(json_array_length(l.tools), 0) > 0 THEN sha256(array_to_string(
                   CAST(json_extract_string(l.tools, '$[*].hash') AS VARCHAR[]), ',')) END AS tools_sha256,
               coalesce(len(list_filter(CAST(json_extract(l.tools, '$[*]') AS JSON[]),
                                        lambda tool: coalesce(tool->>'type', '') <> 'namespace')), 0) AS tools,
               l.stop_reason, i.agent,
               TRY_CAST(i.cache->>'hit_rate' AS DOUBLE) AS cache_hit_rate, i.cache->'cause'->>'text' AS cache_break,
               TRY_CAST(i.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd, i.cost->>'unknown' AS cost_unknown
        FROM turn_lines l JOIN run_folders f ON f.folder = l.folder
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'turn') i
               ON i.folder = l.folder AND i.number = l.number""",
    "tool_calls": """
        SELECT c.run, c.n, c.name, c.arguments, c.call_id, i.agent, i.answered_in, i.wait_ms, i.result_size,
               i.is_error
        FROM (SELECT f.run, f.folder, l.number AS n, part->>'name' AS name, part->'arguments' AS arguments,
                     part->>'call_id' AS call_id
              FROM (SELECT l.folder, l.number,
                           unnest(CAST(json_extract(l.output, '$[*].parts[*]') AS JSON[])) AS part
                    FROM turn_lines l) l
              JOIN run_folders f ON f.folder = l.folder
              WHERE part->>'kind' = 'tool_call') c
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'tool_call') i
               ON i.folder = c.folder AND i.asked_in = c.n AND i.call_id IS NOT DISTINCT FROM c.call_id""",
    "context": """
        SELECT f.run, i.number AS n, c->>'kind' AS kind, c->>'name' AS part,
               TRY_CAST(c->>'new' AS BOOLEAN) AS new, c->>'group' AS tool_group,
               TRY_CAST(c->>'tokens' AS BIGINT) AS tokens, TRY_CAST(c->>'counted' AS BIGINT) AS counted,
               i.context->>'encoding' AS encoding, TRY_CAST(i.context->>'scaled_to' AS BIGINT) AS input_tokens
        FROM (SELECT folder, number, context,
                     unnest(CAST(json_extract(context, '$.categories[*]') AS JSON[])) AS c
              FROM insight_lines WHERE record = 'turn' AND context IS NOT NULL) i
        JOIN run_folders f ON f.folder = i.folder""",
    "agents": """
        SELECT f.run, i.id AS agent, i.name, i.parent, i.depth, i.requests, i.first_request,
               TRY_CAST(i.tokens->>'input' AS BIGINT) AS input_tokens,
               TRY_CAST(i.tokens->>'output' AS BIGINT) AS output_tokens,
               TRY_CAST(i.tokens->>'cache_read' AS BIGINT) AS cache_read_tokens,
               TRY_CAST(i.tokens->>'cache_write' AS BIGINT) AS cache_write_tokens,
               i.tool_calls, i.duration_s,
               TRY_CAST(i.spawned_by->>'turn' AS BIGINT) AS spawned_in, i.spawned_by->>'call_id' AS spawn_call_id,
               i.spawned_by->>'tool' AS spawn_tool,
               TRY_CAST(i.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd,
               TRY_CAST(i.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'agent'""",
}


def connect(runs: list[Path], warnings: list[str] | None = None):
    """An in-memory DuckDB with the views over `runs`; nothing is copied out of the files. A run whose manifest
    cannot be read is left out, and so is each damaged line of a turns.jsonl; with `warnings`, a line for each is
    added to it."""
    import duckdb

    connection = duckdb.connect(":memory:")
    found: list[str] = []
    runs = readable_runs(connection, runs, found)
    connection.execute("CREATE TABLE run_folders (run VARCHAR, target VARCHAR, folder VARCHAR)")
    if runs:
        connection.executemany(
            "INSERT INTO run_folders VALUES (?, ?, ?)", [(run.name, run.parent.name, str(run)) for run in runs]
        )
    manifests = [run / "manifest.json" for run in runs if (run / "manifest.json").is_file()]
    turn_files = [run / "turns.jsonl" for run in runs if (run / "turns.jsonl").is_file()]
    connection.execute(f"CREATE VIEW manifest_files AS {file_source(manifests, MANIFEST_COLUMNS, lines=False)}")
    connection.execute(f"CREATE VIEW turn_files AS {file_source(turn_files, TURN_COLUMNS)}")
    insight_files = [run / "insight.jsonl" for run in runs if (run / "insight.jsonl").is_file()]
    # A damaged line of an insight file is left out as turns.jsonl's are: a record names its kind.
    connection.execute(
        f"CREATE VIEW insight_lines AS SELECT * FROM ({file_source(insight_files, INSIGHT_COLUMNS)}) "
        "WHERE record IS NOT NULL"
    )
    # Every turn has its number: a row without one is a damaged line, not a turn to count.
    connection.execute("CREATE VIEW turn_lines AS SELECT * FROM turn_files WHERE number IS NOT NULL")
    for name, query in VIEWS.items():
        connection.execute(f"CREATE VIEW {name} AS {query}")
    if warnings is not None:
        warnings += found + damaged_lines(connection)  # (which reads every turns.jsonl once more: only when asked)
    return connection


def query(runs: list[Path], sql: str, warnings: list[str] | None = None) -> tuple[list[str], list[tuple]]:
    """The columns and rows `sql` gives over the runs' views; a bad query is a UsageError in one line. With
    `warnings`, what was left out of the views is added to it (see connect)."""
    import duckdb

    connection = connect(runs, warnings)
    try:
        relation = connection.sql(sql)
        if relation is None:
            return [], []
        return list(relation.columns), [tuple(map(masked_value, row)) for row in relation.fetchall()]
    except duckdb.Error as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"sql: {one_line(message)}") from None
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
    text = orjson.dumps(records, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    out.write(inert_json(text) + "\n")


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json}


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.write.sql", description=__doc__)
    parser.add_argument(
        "query", metavar="SQL", help="a query over the views runs, exchanges, turns, tool_calls and agents"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv or json")
    args = parser.parse_args(argv)
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
        columns, rows = query(runs, args.query, warnings)
    finally:
        for warning in warnings:
            warn(warning)
    WRITERS[args.format](columns, rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
