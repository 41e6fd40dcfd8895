"""Parses a Server-Sent Events stream into events, tolerating a stream that was cut off."""

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any, NamedTuple

from probe.common import fastjson


class Event(NamedTuple):
    """One event; a named tuple because streams hold tens of thousands of them and it builds fastest."""

    name: str | None  # the `event:` field, if the stream sets one
    data: Any  # parsed JSON when the data is JSON, else the raw text


def looks_like_sse(text: str) -> bool:
    head = text.removeprefix(BOM).lstrip()[:200]
    return head.startswith(("event:", "data:", ":", "id:", "retry:"))


BOM = "\ufeff"  # one at the very start of a stream is not part of it (the SSE spec)

# The shape nearly every model API streams: optional `event:` line, one `data:` line holding a JSON
# object, blank line.
SIMPLE_EVENT = re.compile(r"(?:event: ?([^\n]*)\n)?data: ?(\{[^\n]*)\n\n")
# One way only to match each line (`event:[^\n]*`, not `event: ?[^\n]*`, which matches a space two ways): a stream
# cut in the middle of an event fails to match after a walk back over its events, not over 2**events ways to them.
SIMPLE_STREAM = re.compile(r"(?:(?:event:[^\n]*\n)?data: ?\{[^\n]*\n\n)*")


IN_ONE_LIST = 8 << 20  # characters of a stream parsed into one list of events; a longer one is read a piece at a time
PIECE = 1 << 20  # characters of a long stream parsed at a time
# Where one event ends and the next begins: a line ending followed by another (an empty line). A CR is a line end
# of its own only when no LF follows it: the CRLF ending one line of an event is not two.
BLANK_LINE = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def events_of(text: str) -> "list[Event] | StreamEvents":
    """A stream's events: a list, or for a stream longer than IN_ONE_LIST characters the same events read a piece
    at a time whenever they are walked (a stream of a million tiny events, held as objects, took gigabytes)."""
    return parse(text) if len(text) <= IN_ONE_LIST else StreamEvents(text)


def head(text: str, count: int) -> list[Event]:
    """The stream's first `count` events (`events_of(text)[:count]`), parsing only as much of its text as holds them:
    the text up to a blank line parses into the same events as the whole text's first ones. Blank lines that end no
    event (a keep-alive comment's) make the text parsed grow, twice as long each time."""
    wanted = count
    for seen, blank in enumerate(BLANK_LINE.finditer(text), start=1):
        if seen == wanted:
            events = parse(text[: blank.end()])
            if len(events) >= count:
                return events[:count]
            wanted *= 2
    return events_of(text)[:count]


class StreamEvents:
    """The events of a long stream, in order, parsed again a piece at a time each time they are walked: memory
    holds one piece's. Walked like the list `parse` gives; sliced from its start only (`events[:4]`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.too_deep = False  # whether a walk met an event nested too deeply to read (NestedTooDeeply)

    def __iter__(self) -> Iterator[Event]:
        for events in self.pieces():
            yield from events

    def pieces(self) -> Iterator[list[Event]]:
        """The events a piece at a time, each piece's as one list."""
        text, start = self.text, 0
        while start < len(text):
            cut = BLANK_LINE.search(text, start + PIECE) if start + PIECE < len(text) else None
            end = cut.end() if cut is not None else len(text)
            events = parse(text[start:end], first=start == 0)
            self.too_deep = self.too_deep or any(type(event.data) is NestedTooDeeply for event in events)
            yield events
            start = end

    def __getitem__(self, wanted: slice) -> list[Event]:
        if not isinstance(wanted, slice) or (wanted.start or 0) < 0 or wanted.stop is None or wanted.stop < 0:
            raise TypeError("a stream read a piece at a time is sliced from its start only")
        return list(islice(self, wanted.start, wanted.stop, wanted.step))

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None


def parse(text: str, first: bool = True) -> list[Event]:
    """Events in order; a final event without its blank line is kept (the stream may have been cut). `first`:
    the text starts the stream (a byte order mark there is not part of it)."""
    text = text.removeprefix(BOM) if first else text
    if "\r" not in text and SIMPLE_STREAM.fullmatch(text):
        # Fast path, two passes in C: worth it because analysis time is mostly spent here and in JSON.
        pairs = SIMPLE_EVENT.findall(text)
        parsed = parse_payloads([raw for _, raw in pairs], all_objects=True)
        return list(map(Event, [name or None for name, _ in pairs], parsed))
    return parse_lines(text)


def parse_lines(text: str) -> list[Event]:
    """The general SSE line parser: multi-line data, comments, CR line ends, a field without a colon (its value is
    empty, as the spec says), a cut-off last event."""
    names: list[str | None] = []
    payloads: list[str] = []
    name: str | None = None
    data_lines: list[str] = []
    # Only CR, LF and CRLF end SSE lines (str.splitlines would also split on U+2028 inside JSON).
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if data_lines or name:
                names.append(name)
                payloads.append("\n".join(data_lines))
            name, data_lines = None, []
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value[:1] == " " else value
        if field == "data":
            data_lines.append(value)
        elif field == "event":
            name = value or None
        # other fields (id, retry) and comments (an empty field name: keep-alives) carry nothing to show
    if data_lines or name:
        names.append(name)
        payloads.append("\n".join(data_lines))
    return [Event(event_name, data) for event_name, data in zip(names, parse_payloads(payloads))]


def parse_payloads(payloads: list[str], all_objects: bool = False) -> list[Any]:
    """Parse every JSON payload in one call when they all are objects (much faster), else one by one.

    `all_objects` says the caller already knows every payload starts with `{`.
    """
    if payloads and (all_objects or all(payload[:1] == "{" for payload in payloads)):
        try:
            parsed = fastjson.loads("[" + ",".join(payloads) + "]")
            if len(parsed) == len(payloads):
                return parsed
        except ValueError:
            pass  # one of them is not JSON after all (a cut-off stream): fall back
    return [parse_data(payload) for payload in payloads]


class NestedTooDeeply(str):
    """An event's data that is JSON nested past what is read (fastjson.DEPTH_LIMIT), kept as its text."""


def parse_data(raw: str) -> Any:
    if raw[:1] in "{[":
        try:
            return fastjson.loads(raw)
        except fastjson.NestedTooDeeply:
            return NestedTooDeeply(raw)
        except ValueError:
            pass
    return raw
