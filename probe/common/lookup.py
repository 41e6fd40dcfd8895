"""Values looked up for a whole list at once, in C, with the misses filled in one by one."""

import contextlib
from collections.abc import Callable
from typing import Any


def fill_misses(found: list, make: Callable[[int], Any]) -> list:
    """`found` (from a lookup such as `list(map(table.get, keys))`) with each None at position i replaced by
    make(i), in order: a re-sent history is all hits, and only what is new is made."""
    start = 0
    with contextlib.suppress(ValueError):
        while True:
            start = found.index(None, start)
            found[start] = make(start)
            start += 1
    return found
