"""Reads one of an agent's session files, bounded, into the records transcript.jsonl keeps, each masked."""

import json
from collections.abc import Iterator
from pathlib import Path

from probe.capture.scrub import mask_values
from probe.redact.masking import mask_json_scanned

MAX_FILE = 64 * 1024 * 1024  # bytes of one session file: a larger one is not read, and the manifest says so
MAX_LINE = 8 * 1024 * 1024  # bytes of one record: a longer one is kept as a note line
READ_SIZE = 1024 * 1024


def lines_of(path: Path) -> Iterator[bytes | None]:
    """Each line of a file, without its newline; None for a line longer than MAX_LINE, which is skipped unread."""
    with path.open("rb") as file:
        while True:
            line = file.readline(MAX_LINE + 1)
            if not line:
                return
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while (rest := file.readline(READ_SIZE)) and not rest.endswith(b"\n"):
                    pass
                yield None
                continue
            yield line.rstrip(b"\r\n")


def whole_document(path: Path, source: str) -> list | None:
    """The messages of a session file that is one JSON document (gemini-cli's chat file before it wrote JSON
    lines: `{"sessionId", …, "messages": [...]}`), or None for a file of JSON lines."""
    if source != "gemini":
        return None
    with path.open("rb") as file:
        if file.read(1) != b"{":
            return None
        file.seek(0)
        try:
            document = json.loads(file.read())
        except ValueError:
            return None
    messages = document.get("messages") if isinstance(document, dict) else None
    return messages if isinstance(messages, list) else None


def records(path: Path, source: str, secrets: list[str], keep_secrets: bool) -> Iterator[dict]:
    """transcript.jsonl's lines for one session file, read no further than the limits: `{"source", "file", "line",
    "record"}`, each record masked (the environment's secret values, then every secret shape at any depth), or a
    `"note"` in place of a record that is too long or not JSON. Read only: the file is never changed."""
    base = {"source": source, "file": path.name}
    messages = whole_document(path, source)
    if messages is not None:
        for index, message in enumerate(messages):
            yield base | {"line": index, "record": masked(message, secrets, keep_secrets)}
        return
    for index, line in enumerate(lines_of(path)):
        if line is None:
            yield base | {"line": index, "note": f"a record over {MAX_LINE:,} bytes, not kept"}
            continue
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
            record = json.loads(mask_values(text, secrets) if not keep_secrets else text)
        except ValueError:
            yield base | {"line": index, "note": f"not a JSON record ({len(line):,} bytes), not kept"}
            continue
        yield base | {"line": index, "record": masked(record, [], keep_secrets)}


def masked(record: object, secrets: list[str], keep_secrets: bool) -> object:
    """A record with every secret masked (unless the run keeps them): `secrets` are the environment's values."""
    if keep_secrets:
        return record
    if secrets:
        record = json.loads(mask_values(json.dumps(record), secrets))
    return mask_json_scanned(record)[0]


def count_records(path: Path) -> int | None:
    """How many records (non-empty lines) a session file of JSON lines holds; None if it cannot be read whole."""
    try:
        if path.stat().st_size > MAX_FILE:
            return None
        return sum(1 for line in lines_of(path) if line is None or line.strip())
    except OSError:
        return None
