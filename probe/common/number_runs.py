"""Numbers written as runs of consecutive ones: how turns.jsonl and the viewer name a re-sent history's values."""

from collections.abc import Iterable
from itertools import count, groupby
from operator import sub


def runs(numbers: Iterable[int]) -> list[list[int]]:
    """Numbers as runs of consecutive ones, [first, count] each: a history re-sent turn after turn was numbered in
    order, so it is a few runs however long it grows. (Grouped by number minus position, in C but for each run.)"""
    found: list[list[int]] = []
    position = 0
    for offset, group in groupby(map(sub, numbers, count())):
        length = len(list(group))
        found.append([offset + position, length])
        position += length
    return found
