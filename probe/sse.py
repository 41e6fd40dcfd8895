"""Parses a Server-Sent Events stream into events, tolerating a stream that was cut off."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Event:
    name: str | None  # the `event:` field, if the stream sets one
    data: Any  # parsed JSON when the data is JSON, else the raw text
    offset: int = 0  # byte offset in the stream where the event ends, for timing


def looks_like_sse(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith(("event:", "data:", ":", "id:", "retry:"))


def parse(text: str) -> list[Event]:
    """Events in order; a final event without its blank line is kept (the stream may have been cut)."""
    events: list[Event] = []
    name: str | None = None
    data_lines: list[str] = []
    position = 0

    def dispatch() -> None:
        nonlocal name, data_lines
        if data_lines or name:
            raw = "\n".join(data_lines)
            events.append(Event(name, parse_data(raw), position))
        name, data_lines = None, []

    for line in text.splitlines(keepends=True):
        position += len(line.encode("utf-8", "surrogatepass"))
        stripped = line.rstrip("\r\n")
        if not stripped:
            dispatch()
            continue
        if stripped.startswith(":"):
            continue  # a comment, used as a keep-alive
        field, _, value = stripped.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data_lines.append(value)
    dispatch()
    return events


def parse_data(raw: str) -> Any:
    if raw[:1] in "{[":
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw
