"""Reads one of an agent's session files, bounded, into the records transcript.jsonl keeps, each masked."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

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


# Masks the environment's secret values in a text (probe.capture.scrub.mask_values, given by the caller so that
# this module stays shallow); None: the run keeps its secrets.
TextMask = Callable[[str], str] | None


def records(path: Path, source: str, mask_text: TextMask) -> Iterator[dict]:
    """transcript.jsonl's lines for one session file, read no further than the limits: `{"source", "file", "line",
    "record"}`, each record masked (the environment's secret values, then every secret shape at any depth), or a
    `"note"` in place of a record that is too long or not JSON. Read only: the file is never changed."""
    base = {"source": source, "file": path.name}
    messages = whole_document(path, source)
    if messages is not None:
        for index, message in enumerate(messages):
            yield base | {"line": index, "record": masked(message, mask_text, mask_text is None)}
        return
    for index, line in enumerate(lines_of(path)):
        if line is None:
            yield base | {"line": index, "note": f"a record over {MAX_LINE:,} bytes, not kept"}
            continue
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
            record = json.loads(mask_text(text) if mask_text else text)
        except ValueError:
            yield base | {"line": index, "note": f"not a JSON record ({len(line):,} bytes), not kept"}
            continue
        yield base | {"line": index, "record": masked(record, None, mask_text is None)}


def masked(record: object, mask_text: TextMask, keep_secrets: bool = False) -> object:
    """A record with every secret masked (unless the run keeps them): `mask_text` masks the environment's values."""
    if keep_secrets:
        return record
    if mask_text:
        record = json.loads(mask_text(json.dumps(record)))
    return mask_json_scanned(record)[0]


def count_records(path: Path) -> int | None:
    """How many records (non-empty lines) a session file of JSON lines holds; None if it cannot be read whole."""
    try:
        if path.stat().st_size > MAX_FILE:
            return None
        return sum(1 for line in lines_of(path) if line is None or line.strip())
    except OSError:
        return None
