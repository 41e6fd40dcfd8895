"""A body's size measured from what a capture line holds, never taken from the size the line states: a capture may
come from anyone, and a size that caps or allocates work must be the size of what is there."""

import json
from typing import Any

import orjson

# A JSON body is kept parsed, and the form it was sent in (spaced, indented by two, non-ASCII escaped) is longer
# than its compact form (indenting a deeply nested value most); a stated size within this factor of the compact one
# is taken as that form's (probe.read.traffic's json_bytes writes the body back in it), anything else is the
# compact size. (Here, below capture and read: an import measures as a reader does.)
JSON_FORMS_GROWTH = 8


def measured_size(value: Any, body_format: str, stated: int | None) -> int:
    """The bytes a stored body stands for: text as UTF-8, base64 as the bytes it decodes to, JSON as written (never
    less than its compact form); `stated`, the line's own `body_size`, only chooses among JSON's forms."""
    if value is None or body_format == "empty":
        return 0
    if body_format == "base64" and isinstance(value, str):
        return base64_size(value)
    if body_format != "json" and isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    compact = len(compact_json(value))
    if stated is not None and compact <= stated <= JSON_FORMS_GROWTH * compact:
        return stated
    return compact


def compact_json(value: Any) -> bytes:
    """A parsed JSON value written compactly, non-ASCII kept (as agents send it)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, or nested deeper than orjson writes
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (RecursionError, ValueError):
            return b""


def base64_size(text: str) -> int:
    """The bytes base64 text decodes to, worked out from its length, without decoding it."""
    digits = text.strip().rstrip("=")
    return (len(digits) - digits.count("\n") - digits.count("\r")) * 3 // 4  # (line breaks decode to nothing)
