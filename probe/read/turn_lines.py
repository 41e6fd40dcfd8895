"""Turns as the lines of turns.jsonl: one compact JSON object per exchange, with the strings repeated across
turns stored once."""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from probe.common.fastjson import encoded
from probe.read.conversation import SCHEMA, Item, Tool, Turn, plain
from probe.redact.masking import mask_body, mask_json_scanned

# The fields of a turn that hold no captured structure, so they can always be written.
SCALAR_FIELDS = (
    "number",
    "line",
    "kind",
    "proxy",
    "method",
    "path",
    "status",
    "complete",
    "api",
    "provider",
    "operation",
    "request_bytes",
    "response_bytes",
)


class StringMemo(dict):
    """mask_json's memo of masked strings, emptied once the strings it holds pass MEMO_BYTES: it would otherwise
    keep every distinct string of the capture (tool outputs, file contents), up to tens of thousands of any length,
    and memory would grow with the capture."""

    MEMO_BYTES = 16 << 20

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        text = key[0] if type(key) is tuple and key and type(key[0]) is str else ""
        if self.size + len(text) > self.MEMO_BYTES:
            self.clear()
        self.size += len(text)
        super().__setitem__(key, value)

    def clear(self) -> None:
        super().clear()
        self.size = 0


class TurnLines:
    """Writes turns as lines of turns.jsonl, masked like everything this project writes.

    `only_output` masks only the answer: enough for a capture masked when it was recorded, with the rules in
    force now, since everything else is as captured, while the answer holds what a model streamed in pieces,
    joined (a key in three deltas, each too short to be recognised). A session re-sends its history with every
    request, and the builder hands back the same object for an item or tool re-sent unchanged, so each is
    converted and masked once.
    """

    ITEMS_KEPT = 1 << 12  # items remembered before starting over: memory stays bounded

    def __init__(self, redact: bool = True, only_output: bool = False) -> None:
        self.redact, self.only_output = redact, only_output
        self.strings = StringMemo()  # masked strings, by string
        self.items: dict[int, tuple[Item, Any]] = {}  # id(item) -> (the item, kept alive; its line form)

    def item(self, item: Item | Tool, mask: bool) -> Any:
        found = self.items.get(id(item))
        if found is None or found[0] is not item:
            value = plain(item)
            if mask:
                value = mask_json_scanned(value, memo=self.strings)[0]
            if len(self.items) >= self.ITEMS_KEPT:
                self.items.clear()
            found = self.items[id(item)] = (item, value)
        return found[1]

    def line(self, turn: Turn) -> bytes:
        return self.encode(turn, self.record(turn))

    def record(self, turn: Turn) -> dict | None:
        """The turn as turns.jsonl holds it, masked; None if it is nested deeper than a walk can go."""
        try:
            record = {"schema": SCHEMA}
            for name in turn.__dataclass_fields__:
                value = getattr(turn, name)
                if name in ("input", "output", "tools"):  # what a session repeats: one conversion per object
                    mask = self.redact and (name == "output" or not self.only_output)
                    record[name] = ConvertedItems(value, lambda item, mask=mask: self.item(item, mask))
                else:
                    record[name] = plain(value)
                    if self.redact and not self.only_output:
                        record[name] = mask_json_scanned(record[name], memo=self.strings)[0]
            return record
        except RecursionError:
            return None

    def encode(self, turn: Turn, record: dict | None) -> bytes:
        """The line of `record` (this turn's); when it is too deep to write, masked as text, or cut to where
        and what it was."""
        if record is not None:
            with contextlib.suppress(RecursionError):
                return encoded_record(record) + b"\n"
        try:
            line = encoded(turn.to_json())
        except RecursionError:
            line = encoded(shallow_record(turn))
        return (mask_body(line, "application/json").data if self.redact else line) + b"\n"


ENCODED_RUN = 1024  # items converted and encoded together


class ConvertedItems:
    """A turn's items (or tools) as turns.jsonl holds them, each converted (and masked) when it is written or
    looked at: a hostile request of 300,000 tiny items would otherwise be held as 300,000 dicts at once."""

    def __init__(self, items: list, convert: Callable[[Any], Any]) -> None:
        self.items, self.convert = items, convert

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return map(self.convert, self.items)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self.convert(item) for item in self.items[index]]
        return self.convert(self.items[index])

    def encoded(self) -> bytes:
        # In runs of items: encoding each alone gives each its own buffer of a few KB, a gigabyte for 300,000.
        runs = (encoded(self[start : start + ENCODED_RUN]) for start in range(0, len(self.items), ENCODED_RUN))
        return b"[" + b",".join(run[1:-1] for run in runs if len(run) > 2) + b"]"


def encoded_record(record: dict) -> bytes:
    """`record` as compact JSON, its converted item lists written one item at a time."""
    members = (
        encoded(key) + b":" + (value.encoded() if isinstance(value, ConvertedItems) else encoded(value))
        for key, value in record.items()
    )
    return b"{" + b",".join(members) + b"}"


def shallow_record(turn: Turn) -> dict:
    """What a turn too deeply nested to write still says: where and what it was."""
    record = {"schema": SCHEMA, **{name: getattr(turn, name) for name in SCALAR_FIELDS}}
    return record | {"unrecognised": turn.unrecognised + ["content nested too deeply to write"]}


def turn_line(turn: Turn, redact: bool = True) -> bytes:
    """One turn's line of turns.jsonl, masked (for a single turn; TurnLines writes a whole file)."""
    return TurnLines(redact).line(turn)
