"""The run files the SQL views read, and how: manifest.json and turns.jsonl, each field typed; a run whose manifest
cannot be read is left out, and so is each damaged line of a turns.jsonl, each with a warning that names it."""

import re
from pathlib import Path

import orjson

from probe.common.paths import display
from probe.runs.folders import load_manifest
from probe.store.quoting import quoted  # (where the store's other modules have long found it)

# The fields each file is read with: typed, so that one odd capture cannot change a column's type for all runs.
MANIFEST_COLUMNS = {
    "target": "VARCHAR",
    "label": "VARCHAR",
    "prompt": "VARCHAR",
    "status": "VARCHAR",
    "started_at": "VARCHAR",
    "ended_at": "VARCHAR",
    "agent_exit_code": "BIGINT",
    "agent": "JSON",
    "exchanges": "BIGINT",
    "scenario": "JSON",  # a release run's (probe.store.releases_view)
}
TURN_COLUMNS = {
    "schema": "BIGINT",
    "new": "JSON",
    "number": "BIGINT",
    "kind": "VARCHAR",
    "proxy": "VARCHAR",
    "method": "VARCHAR",
    "path": "VARCHAR",
    "status": "BIGINT",
    "complete": "BOOLEAN",
    "api": "VARCHAR",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "stop_reason": "VARCHAR",
    "system": "JSON",
    "tools": "JSON",
    "output": "JSON",
    "usage": "JSON",
    "timing": "JSON",
    "request_bytes": "BIGINT",
    "response_bytes": "BIGINT",
    "left_out": "JSON",
}


# insight.jsonl holds records of several kinds (probe.write.insight_lines): each field is typed once, and a record
# leaves the fields of the other kinds NULL.
INSIGHT_COLUMNS = {
    "record": "VARCHAR",
    "schema": "BIGINT",
    "number": "BIGINT",
    "agent": "VARCHAR",
    "cache": "JSON",
    "context": "JSON",
    "cost": "JSON",
    "window": "JSON",
    "share": "DOUBLE",
    "call_id": "VARCHAR",
    "tool": "VARCHAR",
    "arguments": "VARCHAR",
    "asked_in": "BIGINT",
    "answered_in": "BIGINT",
    "wait_ms": "DOUBLE",
    "result_size": "BIGINT",
    "is_error": "BOOLEAN",
    "id": "VARCHAR",
    "name": "VARCHAR",
    "parent": "VARCHAR",
    "depth": "BIGINT",
    "spawned_by": "JSON",
    "requests": "BIGINT",
    "first_request": "BIGINT",
    "tokens": "JSON",
    "tool_calls": "BIGINT",
    "start": "DOUBLE",
    "duration_s": "DOUBLE",
    "path": "VARCHAR",
    "life_s": "DOUBLE",
    "proxy": "VARCHAR",
    "host": "VARCHAR",
    "method": "VARCHAR",
    "status": "BIGINT",
    "kind": "VARCHAR",
    "bytes_sent": "BIGINT",
    "bytes_received": "BIGINT",
    "error": "VARCHAR",
    "event_count": "BIGINT",
    "account": "JSON",
    "line": "BIGINT",
    "key": "VARCHAR",
    "disagreements": "JSON",
    "agent_count": "JSON",
    "api_count": "JSON",
    "notes": "JSON",
    "counted": "VARCHAR",
    "agent_model": "VARCHAR",
    "model": "VARCHAR",
    "rewritten": "BOOLEAN",
    "session": "VARCHAR",
    "source": "VARCHAR",
    "trigger": "VARCHAR",
    "tokens_before": "JSON",
    "tokens_after": "JSON",
    "duration_ms": "JSON",
    "end": "DOUBLE",
    "first_byte": "DOUBLE",
    "exchanges": "JSON",
    "child": "VARCHAR",
    "cost_usd": "VARCHAR",
    "cache_break": "BOOLEAN",
    "compaction": "BOOLEAN",
    "open": "BOOLEAN",
    "critical": "BOOLEAN",
    "wall_s": "DOUBLE",
    "parts": "JSON",
    "tools": "JSON",
    "spans": "BIGINT",
    "critical_path": "JSON",
    "critical_s": "JSON",
    "critical_steps_s": "JSON",
    "server": "VARCHAR",
    "transport": "VARCHAR",
    "request_id": "VARCHAR",
    "asked_by": "VARCHAR",
    "model_tool": "VARCHAR",
    "seconds": "DOUBLE",
    "server_seconds": "DOUBLE",
    "agent_wait_seconds": "DOUBLE",
    "result_sent": "VARCHAR",
}


def file_source(paths: list[Path], columns: dict[str, str], lines: bool = True) -> str:
    """The rows of some JSON files (JSON lines, or one object each), typed, with the folder each came from; no
    rows when there is none."""
    if not paths:
        typed = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns.items())
        return f"SELECT {typed}, CAST(NULL AS VARCHAR) AS folder WHERE false"
    files = "[" + ", ".join(quoted(str(path)) for path in paths) + "]"
    spec = "{" + ", ".join(f"{quoted(name)}: {quoted(kind)}" for name, kind in columns.items()) + "}"
    # A damaged line is no error (a run folder may come from anyone): it is read as a row of NULLs, left out by
    # the turn_lines view (see damaged_lines). A line may be as long as its file: DuckDB refuses one past twice its
    # maximum_object_size (16 MB unless told), which one request's history can pass. (A manifest over 1 MB is left
    # out before: see readable_runs.)
    longest = max(DUCKDB_OBJECT_SIZE, min(LONGEST_OBJECT, max(map(file_size, paths)))) if lines else DUCKDB_OBJECT_SIZE
    return (
        f"SELECT * EXCLUDE (filename), regexp_replace(filename, '/[^/]*$', '') AS folder FROM read_json({files}, "
        f"format = {quoted('newline_delimited' if lines else 'unstructured')}, columns = {spec}, filename = true, "
        f"ignore_errors = true, maximum_object_size = {longest})"
    )


DUCKDB_OBJECT_SIZE = 16 << 20  # DuckDB's own default
LONGEST_OBJECT = (1 << 32) - 1  # the most DuckDB takes


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# DuckDB's reason for refusing a file, from its message ("Malformed JSON in file "…", at byte 1 in record/value 2:
# UTF-16 encoding is not supported. Parse errors cannot be ignored…").
REFUSAL = re.compile(r"in record/value \d+: (.+?)(?:\. Parse errors .*)?$")
NAMED_LINES = 10  # damaged lines a warning names by number; it counts the rest


def readable_runs(connection, runs: list[Path], warnings: list[str]) -> list[Path]:
    """The runs whose manifest.json, where there is one, can be read: by the analyzer's rules (a JSON object of at
    most 1 MB), then by DuckDB's (UTF-8, for one). Each other run is left out with a warning: one manifest DuckDB
    refuses would otherwise fail every query over every run."""
    kept = []
    for run in runs:
        _, problem = load_manifest(run)
        if problem:
            warnings.append(f"{display(run)}: {problem.removesuffix('; ignored')}: the run is left out")
        else:
            kept.append(run)
    refused = refused_manifests(
        connection, [run / "manifest.json" for run in kept if (run / "manifest.json").is_file()]
    )
    for path, reason in refused.items():
        warnings.append(f"{display(path.parent)}: manifest.json cannot be read ({reason}): the run is left out")
    return [run for run in kept if run / "manifest.json" not in refused]


def refused_manifests(connection, paths: list[Path]) -> dict[Path, str]:
    """The manifests DuckDB cannot read, and why: all are read at once (they are small), and one by one only if that
    fails."""
    import duckdb

    def read(manifests: list[Path]) -> None:
        connection.execute(f"SELECT count(*) FROM ({file_source(manifests, MANIFEST_COLUMNS, lines=False)})").fetchall()

    try:
        read(paths)
        return {}
    except duckdb.Error:
        pass
    refused = {}
    for path in paths:
        try:
            read([path])
        except duckdb.Error as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            found = REFUSAL.search(message)
            refused[path] = found.group(1) if found else message
    return refused


def damaged_lines(connection) -> list[str]:
    """A warning for each turns.jsonl with lines that are not turns (not JSON, cut off, not an object, no number),
    which the turn_lines view leaves out, naming the lines."""
    warnings = []
    damaged = "SELECT folder, lines FROM damaged_counts ORDER BY folder"
    for folder, count in connection.execute(damaged).fetchall():
        path = Path(folder) / "turns.jsonl"
        numbers = line_numbers(path)
        warning = f"{display(path)}: {count:,} damaged line{'s' if count != 1 else ''} left out"
        if numbers:
            named = ", ".join(map(str, numbers[:NAMED_LINES]))
            more = f" and {len(numbers) - NAMED_LINES:,} more" if len(numbers) > NAMED_LINES else ""
            warning += f" (line{'s' if len(numbers) != 1 else ''} {named}{more})"
        warnings.append(warning)
    return warnings


def line_numbers(path: Path) -> list[int]:
    """The numbers of the lines of a turns.jsonl that are not a JSON object with a whole `number`."""
    found = []
    try:
        with path.open("rb") as file:
            for number, line in enumerate(file, 1):
                if line.strip() and not is_turn(line):
                    found.append(number)
    except OSError:
        pass
    return found


def is_turn(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and type(value.get("number")) is int
