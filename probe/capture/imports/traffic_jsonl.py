"""agent-probe's own traffic.jsonl (a run folder's, or one written elsewhere by this tool): its lines taken as they
are, one at a time, each checked to be an exchange of schema 1."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from probe.capture.imports import Skipped
from probe.capture.recorder.record import SCHEMA_VERSION
from probe.common import fastjson
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
    return entry


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
