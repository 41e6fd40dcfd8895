"""Reads turns.jsonl back into whole turns: each line's listed fields (system, tools, input, output) as the values
they name, whatever schema wrote it.

Schema 2 writes each distinct value once, in the `new` of the first line that carries it, and names it by number
after that; this keeps every value met so far, so its memory grows with the distinct values of the file. The turns
it hands out share those values: a script that changes one copies it first.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from probe.common.errors import RunError
from probe.common.paths import display
from probe.read.turn_lines import LISTED


class TurnsFileError(RunError):
    """A turns.jsonl line that cannot be made whole: not a JSON object, or naming a value no line defined."""


class WholeTurns:
    """Makes the lines of one turns.jsonl whole, in the order they were written."""

    def __init__(self) -> None:
        self.values: dict[int, Any] = {}

    def whole(self, record: dict) -> dict:
        """`record` (one parsed line) with its listed fields as values; a schema 1 line is whole already."""
        if record.get("schema") != 2:
            return record
        new = record.pop("new", None)
        if new is not None:
            self.define(new)
        for name in LISTED:
            if name in record:
                record[name] = self.named(record[name], name)
        return record

    def define(self, new: Any) -> None:
        first, values = (new.get("from"), new.get("values")) if isinstance(new, dict) else (None, None)
        if not is_count(first) or not isinstance(values, list):
            raise TurnsFileError("its `new` is not {from: a number, values: a list}")
        for offset, value in enumerate(values):
            self.values[first + offset] = value

    def named(self, runs: Any, name: str) -> list:
        if not isinstance(runs, list):
            raise TurnsFileError(f"its `{name}` is not a list of [first, count] runs")
        found: list = []
        for run in runs:
            if not (isinstance(run, list) and len(run) == 2 and is_count(run[0]) and is_count(run[1])):
                raise TurnsFileError(f"its `{name}` holds {str(run)[:40]!r}, not a [first, count] run")
            first, length = run
            try:
                found.extend(self.values[number] for number in range(first, first + length))
            except KeyError as missing:
                raise TurnsFileError(f"its `{name}` names value {missing}, which no earlier line defines") from None
        return found


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def whole_turns(path: Path) -> Iterator[dict]:
    """Each line of a turns.jsonl as a whole turn; a line that cannot be read is a TurnsFileError naming it."""
    reader = WholeTurns()
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                if not isinstance(record, dict):
                    raise TurnsFileError("it is not a JSON object")
                yield reader.whole(record)
            except orjson.JSONDecodeError:
                raise TurnsFileError(f"{display(path)} line {number}: not JSON (cut off?)") from None
            except TurnsFileError as error:
                raise TurnsFileError(f"{display(path)} line {number}: {error}") from None
