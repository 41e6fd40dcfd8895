"""Keeps report.html under PAGE_LIMIT whatever the capture: a page whose data would pass it keeps its first and
last turns, with the values they name, and says in one line which turns it left out (report.md and turns.jsonl
hold every one). A capture of 20,000 one-exchange agents made a page of 53 MB."""

from collections.abc import Callable
from typing import BinaryIO

import orjson

from probe.common.counting import counted
from probe.common.fastjson import encoded
from probe.write.viewer.inert import inert
from probe.write.viewer.spool import Spool

PAGE_LIMIT = 25_000_000  # bytes of report.html, its script and style included
SLACK = 64 * 1024  # for the note this adds to the header, and what the estimate of the page's frame may miss


class Chosen:
    """The turns a page keeps (their indexes, in order) and the values they name, numbered anew in order."""

    def __init__(self, turns: list[int], values: list[int]) -> None:
        self.turns, self.values = turns, values
        self.numbers = {value: number for number, value in enumerate(values)}


def room_for_data(frame: int, header: int) -> int:
    """The bytes a page's values and turns may take, with `frame` bytes around its data and `header` of header."""
    return PAGE_LIMIT - frame - header - SLACK


def chosen(values: Spool, turns: Spool, room: int, named: Callable[[dict], list[int]]) -> Chosen | None:
    """The turns and values to keep within `room` bytes of data: the first turns, up to half of it (the first one
    whatever it takes), then the last ones, up to all of it, each with the values it names (`named(turn)`) not kept
    already; None when all of them fit."""
    if values.size + turns.size + 2 * (values.count + turns.count) <= room:
        return None
    kept: set[int] = set()
    used = 0

    def fits(index: int, share: int) -> bool:
        nonlocal used
        entry = orjson.loads(turns.element(index))
        new = set(named(entry)) - kept
        cost = turns.element_size(index) + 1 + sum(values.element_size(value) + 1 for value in new)
        if used + cost > share:
            return False
        used += cost
        kept.update(new)
        return True

    head = 0
    # The first turn may take more than half (its request often carries the instructions and tools all others name).
    while head < turns.count and fits(head, room if head == 0 else room // 2):
        head += 1
    tail = turns.count
    while tail > head and fits(tail - 1, room):
        tail -= 1
    return Chosen([*range(head), *range(tail, turns.count)], sorted(kept))


def write_chosen(
    out: BinaryIO, values: Spool, turns: Spool, choice: Chosen, renumbered: Callable[[dict, Callable], dict]
) -> None:
    """The values and turns kept, as `"values":[…],"turns":[…]`, each turn naming its values by their new numbers
    (`renumbered(turn, number)`)."""
    out.write(b'"values":[')
    for at, value in enumerate(choice.values):
        out.write(b"," + values.element(value) if at else values.element(value))
    out.write(b'],"turns":[')
    for at, index in enumerate(choice.turns):
        text = inert(encoded(renumbered(orjson.loads(turns.element(index)), choice.numbers.__getitem__)))
        out.write(b"," + text if at else text)
    out.write(b"]")
    values.file.close()
    turns.file.close()


def left_out_note(choice: Chosen, count: int, number_of: Callable[[int], int]) -> str:
    """The page's line saying which turns it kept: `number_of(index)` is the number of the turn at `index`."""
    shown = len(choice.turns)
    head = next((at for at, index in enumerate(choice.turns) if index != at), shown)
    parts = []
    if head:
        parts.append(f"#{number_of(0):,} to #{number_of(head - 1):,}")
    if shown > head:
        parts.append(f"#{number_of(choice.turns[head]):,} to #{number_of(count - 1):,}")
    which = f" ({' and '.join(parts)})" if parts else ""
    return (
        f"this page shows {shown:,} of the run's {counted(count, 'turn')}{which}, to stay under "
        f"{PAGE_LIMIT // 1_000_000} MB: "
        "report.md and turns.jsonl hold every turn"
    )
