"""The items of one array deep in a JSON document of any size (a HAR's `log.entries`), built one at a time from
ijson's events: an item nested past a depth is passed over, never built (ijson's own `items` spends memory with the
square of the nesting: a few hundred thousand brackets would take gigabytes)."""

from collections.abc import Iterator
from typing import BinaryIO

import ijson
from ijson.common import ObjectBuilder

TOO_DEEP = object()  # stands for an item nested past the depth allowed
OPENING = ("start_map", "start_array")
CLOSING = ("end_map", "end_array")


def array_items(file: BinaryIO, path: tuple[str, ...], most_depth: int) -> Iterator[object]:
    """Each item of the array at `path` (keys of nested objects from the top), or TOO_DEEP for one nested more than
    `most_depth` levels; ijson.JSONError where the document is not JSON."""
    keys: list[str | None] = []  # the key each open object is at (None for an array), outside the items
    events = ijson.basic_parse(file, use_float=True)
    for event, value in events:
        if event == "map_key":
            keys[-1] = value
        elif event in OPENING:
            if event == "start_array" and tuple(keys) == path:
                yield from items(events, most_depth)
                continue  # the array's end was taken with its items
            keys.append(None)
        elif event in CLOSING:
            keys.pop()


def items(events: Iterator, most_depth: int) -> Iterator[object]:
    """The items of an array whose start was just read, up to and with its end."""
    builder, depth = ObjectBuilder(), 0
    for event, value in events:
        if event in CLOSING and depth == 0:
            return  # the array's own end
        depth += 1 if event in OPENING else -1 if event in CLOSING else 0
        if builder is not None and depth > most_depth:
            builder = None  # what is built so far is let go; the rest is only counted
        if builder is not None:
            builder.event(event, value)
        if depth == 0:
            yield builder.value if builder is not None else TOO_DEEP
            builder = ObjectBuilder()
