"""The items of one array deep in a JSON document of any size (a HAR's `log.entries`), built one at a time from
ijson's events: an item nested past a depth is passed over, never built (ijson's own `items` spends memory with the
square of the nesting: a few hundred thousand brackets would take gigabytes). A number past what the fast parser reads
(an integer past 64 bits, a float past its range) makes the rest be read again by ijson's own Python parser, which
reads any number, from the item it stopped at."""

from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

import ijson
from ijson.common import ObjectBuilder

EXACT_PARSER = ijson.get_backend("python")  # slower, but reads every number JSON can write
TOO_DEEP = object()  # stands for an item nested past the depth allowed
OPENING = ("start_map", "start_array")
CLOSING = ("end_map", "end_array")


def array_items(file: BinaryIO, path: tuple[str, ...], most_depth: int) -> Iterator[object]:
    """Each item of the array at `path` (keys of nested objects from the top), or TOO_DEEP for one nested more than
    `most_depth` levels; ijson.JSONError where the document is not JSON."""
    taken = 0
    try:
        for item in parsed_items(ijson, file, path, most_depth):
            taken += 1
            yield item
        return
    except ijson.JSONError as error:
        if "overflow" not in str(error):
            raise
    file.seek(0)
    again = parsed_items(EXACT_PARSER, file, path, most_depth, exact=True)
    try:
        for _ in range(taken):
            next(again)  # built and let go: memory stays at one item
        yield from again
    except ValueError as error:  # an integer of more digits than Python converts
        raise ijson.JSONError(str(error)) from None


def parsed_items(parser, file: BinaryIO, path: tuple[str, ...], most_depth: int, exact=False) -> Iterator[object]:
    keys: list[str | None] = []  # the key each open object is at (None for an array), outside the items
    # The exact parser refuses a float past its range unless it keeps fractions as Decimal: made floats here (inf).
    events = (
        ((event, float(value) if isinstance(value, Decimal) else value) for event, value in parser.basic_parse(file))
        if exact
        else parser.basic_parse(file, use_float=True)
    )
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
