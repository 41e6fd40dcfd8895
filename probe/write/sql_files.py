"""The run files the SQL views read, and how: manifest.json and turns.jsonl, each field typed."""

from pathlib import Path

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
}
TURN_COLUMNS = {
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
}


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_source(paths: list[Path], columns: dict[str, str], lines: bool = True) -> str:
    """The rows of some JSON files (JSON lines, or one object each), typed, with the folder each came from; no
    rows when there is none."""
    if not paths:
        typed = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns.items())
        return f"SELECT {typed}, CAST(NULL AS VARCHAR) AS folder WHERE false"
    files = "[" + ", ".join(quoted(str(path)) for path in paths) + "]"
    spec = "{" + ", ".join(f"{quoted(name)}: {quoted(kind)}" for name, kind in columns.items()) + "}"
    # A damaged line is left out, not an error: a run folder may come from anyone.
    return (
        f"SELECT * EXCLUDE (filename), regexp_replace(filename, '/[^/]*$', '') AS folder FROM read_json({files}, "
        f"format = {quoted('newline_delimited' if lines else 'unstructured')}, columns = {spec}, filename = true, "
        "ignore_errors = true)"
    )
