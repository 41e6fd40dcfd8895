"""Reads traffic.jsonl from a place reached before, saying how far it got: an analysis can pick up where it stopped."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from probe.common.lines import MAX_LINE_BYTES, READ_BUFFER, BoundedLines
from probe.read.traffic import Exchange, exchange_of_line


@dataclass
class Position:
    """How far a capture was read: bytes, lines and exchanges, all of them whole (ending with a newline)."""

    offset: int = 0
    lines: int = 0
    exchanges: int = 0


def exchanges_from(
    path: Path, start: Position, warnings: list[str], progress=None, before_tail: Callable[[], None] | None = None
) -> Iterator[Exchange]:
    """Every usable line after `start` as an exchange, as iter_exchanges reads them; `start` is moved past each
    line ending with a newline as it is read. A last line without one (a capture being written, or cut off) is
    read all the same, but `start` stays before it, and `before_tail` is called first: the reading so far is
    what a later reading can start from, and that line is read again then."""
    if progress is not None:
        progress.advance(start.offset)  # read by an earlier analysis
    with path.open("rb", buffering=READ_BUFFER) as file:
        file.seek(start.offset)
        before = start.lines
        ended = [True]  # whether the latest piece read ended a line (a line past the limit comes in pieces)
        lines = BoundedLines(file, MAX_LINE_BYTES, lambda piece: ended.__setitem__(0, piece.endswith(b"\n")))
        for line_number, raw, size in lines:
            line_number += before
            if progress is not None:
                progress.advance(size)
            whole = ended[0]
            if not whole and before_tail is not None:
                before_tail()
            exchange = exchange_of_line(raw, line_number, size, start.exchanges + 1, warnings, path.parent)
            del raw  # one line held at a time, as iter_exchanges does
            if whole:
                start.offset, start.lines = start.offset + size, line_number
            if exchange is None:
                continue
            if whole:
                start.exchanges += 1
            yield exchange
            del exchange
