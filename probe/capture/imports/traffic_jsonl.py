"""agent-probe's own traffic.jsonl (a run folder's, or one written elsewhere by this tool): its lines taken as they
are, one at a time, each checked to be an exchange of schema 1."""

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from probe.capture.imports.formats import Skipped
from probe.capture.recorder.record import SCHEMA_VERSION
from probe.common import fastjson
from probe.common.body_sizes import compact_json, measured_size
from probe.common.lines import MAX_LINE_BYTES, BoundedLines

NAME = "agent-probe traffic.jsonl"
LOST = ("bodies the source kept in its bodies/ folder: not carried over (the report says which are left out)",)
SNIFF = re.compile(rb'\A\s*\{\s*"schema"\s*:\s*1\s*,\s*"kind"\s*:\s*"(?:http|websocket)"')
KINDS = ("http", "websocket")


def sniff(head: bytes) -> bool:
    return bool(SNIFF.match(head))


def read(path: Path) -> Iterator[dict | Skipped]:
    return json_lines(path, exchange)


def exchange(entry, number: int) -> dict:
    if not isinstance(entry, dict):
        raise TypeError(f"a line is an object, not {type(entry).__name__}")
    if entry.get("schema") != SCHEMA_VERSION or entry.get("kind") not in KINDS:
        raise ValueError(f"not an exchange of schema {SCHEMA_VERSION} (kind {str(entry.get('kind'))[:40]!r})")
    if not isinstance(entry.get("request"), dict) or not isinstance(entry.get("response"), dict | None):
        raise TypeError("its request or response is not an object")
    for message in (entry["request"], entry.get("response") or {}):
        measured(message, "body_size", "body_sha256")
    for frame in entry.get("messages") or []:
        if isinstance(frame, dict):
            measured(frame, "size", "sha256")
    return entry


def measured(message: dict, size: str, digest: str) -> None:
    """A body's size and sha256 as what the line holds measures them, in place of what it states (a body kept in
    bodies/, not carried over, keeps what its line says: it is not there to measure)."""
    if "body_file" in message:
        return
    value, body_format = message.get("body"), message.get("body_format")
    stated = message.get(size)
    stated = stated if isinstance(stated, int) and not isinstance(stated, bool) else None
    message[size] = measured_size(value, body_format, stated)
    data = exact_bytes(value, body_format)
    if data is not None and len(data) == message[size]:
        message[digest] = hashlib.sha256(data).hexdigest()
    else:
        message.pop(digest, None)  # a JSON body in a form not known here: no hash rather than the one stated


def exact_bytes(value, body_format) -> bytes | None:
    if value is None or body_format == "empty":
        return b""
    if body_format == "base64" and isinstance(value, str):
        try:
            return base64.b64decode(value)
        except ValueError:
            return None
    if body_format != "json" and isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return compact_json(value)


def json_lines(path: Path, convert: Callable[[object, int], dict | list[dict]]) -> Iterator[dict | Skipped]:
    """Each line of a JSON-lines file parsed and converted (into one line or several); a line past the bound, not
    JSON or not an exchange is skipped with why."""
    with path.open("rb") as file:
        for number, raw, size in BoundedLines(file, MAX_LINE_BYTES):
            if raw is None:
                yield Skipped(f"line {number}", f"left out: {size:,} bytes, over the {MAX_LINE_BYTES:,} a line holds")
            elif raw.strip():
                try:
                    converted = convert(fastjson.loads(raw), number)
                except (TypeError, ValueError, KeyError, UnicodeError, RecursionError) as error:
                    yield Skipped(f"line {number}", f"not an exchange ({type(error).__name__}: {error})"[:300])
                    continue
                yield from converted if isinstance(converted, list) else [converted]
