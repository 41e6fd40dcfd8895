"""Turns as the lines of turns.jsonl (schema 2): one compact JSON object per exchange, each distinct item, tool and
instruction block written once, on the line that first carries it, and named by its number on the lines after."""

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from probe.common.fastjson import encoded
from probe.common.lookup import fill_misses
from probe.common.number_runs import runs
from probe.read import dedupe
from probe.read.conversation import SCHEMA, Turn, plain
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
# The fields a session repeats, written as numbers into the file's table of values.
LISTED = ("system", "tools", "input", "output")
HASHES_KEPT = 1 << 17  # values known by their hash before the table starts over (about 100 bytes each)
# Fields written only on the lines that have something in them: what was left out of lists too long to read.
WHEN_PRESENT = ("left_out",)


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


class Listed:
    """One of a turn's listed fields as numbers into the table (written as runs), with the objects they number
    and how each becomes the value its number names (for an output that shows some of them)."""

    __slots__ = ("convert", "generation", "numbers", "objects")

    def __init__(self, numbers: list[int], objects: Sequence[Any], convert: Callable[[Any], Any], generation: int):
        self.numbers, self.objects, self.convert = numbers, objects, convert
        self.generation = generation  # of the table: a number of another generation names another value


class ValueTable:
    """Numbers each distinct value once, by the object handed back for a value re-sent unchanged (the turn
    builder hands back one object for an item, tool or block sent as before), else by the hash of its JSON.

    Memory stays flat: past as many objects as the builder keeps items to compare histories (RECENT_ITEMS), it
    lets go of the objects it knows (found again by their hash, at the cost of converting them once more); past
    HASHES_KEPT hashes, it forgets everything and numbers the values it meets after that from the next free number
    (`generation` counts the times), so a value met again is written again. Both between lines. A number once
    written always means the same value."""

    def __init__(self) -> None:
        self.next = 0
        self.generation = 0
        self.by_object: dict[int, int] = {}  # id(object) -> its number, the object kept alive in `alive`
        self.alive: list[Any] = []
        self.by_content: dict[bytes, int] = {}
        self.pending: list[tuple[int, bytes | None]] = []  # what this line added, undone if it cannot be written
        self.first_new = 0
        self.new_texts: list[bytes] = []  # this line's new values, encoded

    def __getstate__(self) -> dict:
        # A saved reading (probe.analysis.resume) leaves out the objects known by identity (40 MB of items in a 1 GB
        # capture's): loaded again, their numbers are found by their hash, the same numbers.
        return self.__dict__ | {"by_object": {}, "alive": []}

    def start_line(self) -> None:
        # Between lines only: a line's numbers all belong to one generation.
        if len(self.by_content) > HASHES_KEPT:
            self.forget()
        elif len(self.alive) > dedupe.RECENT_ITEMS:
            self.by_object, self.alive = {}, []
        self.pending, self.new_texts, self.first_new = [], [], self.next

    def numbers(self, objects: Sequence[Any], convert: Callable[[Any], Any]) -> list[int]:
        """The numbers of `objects`, each converted to its JSON-ready value and added when it is new."""
        found = list(map(self.by_object.get, map(id, objects)))  # a re-sent history, looked up in C
        return fill_misses(found, lambda at: self.number(objects[at], convert))

    def number(self, thing: Any, convert: Callable[[Any], Any]) -> int:
        value = convert(thing)
        text = encoded(value)
        key = hashlib.blake2b(text, digest_size=16).digest()
        number = self.by_content.get(key)
        added_key = None
        if number is None:
            number = self.by_content[key] = self.next
            self.next += 1
            # A copy of its own size: orjson gives each text a buffer of a few KB, and a hostile request of
            # 300,000 tiny items would hold a gigabyte of them until its line is written.
            self.new_texts.append(bytes(memoryview(text)) if len(text) < 4096 else text)
            added_key = key
        self.by_object[id(thing)] = number
        self.alive.append(thing)
        self.pending.append((id(thing), added_key))
        return number

    def undo_line(self) -> None:
        """Take back what this line added: it is written without them, so no later line may name them."""
        for object_id, key in self.pending:
            self.by_object.pop(object_id, None)
            if key is not None:
                self.by_content.pop(key, None)
        self.next = self.first_new
        self.start_line()

    def forget(self) -> None:
        self.by_object.clear()
        self.by_content.clear()
        self.alive = []
        self.generation += 1


class TurnLines:
    """Writes turns as lines of turns.jsonl, masked like everything this project writes.

    `only_output` masks only the answer: enough for a capture masked when it was recorded, with the rules in
    force now, since everything else is as captured, while the answer holds what a model streamed in pieces,
    joined (a key in three deltas, each too short to be recognised). A value met first in an answer keeps the form
    it was written in there.
    """

    def __init__(self, redact: bool = True, only_output: bool = False) -> None:
        self.redact, self.only_output = redact, only_output
        self.strings = StringMemo()  # masked strings, by string
        self.table = ValueTable()

    def converter(self, mask: bool) -> Callable[[Any], Any]:
        if not mask:
            return plain
        return lambda thing: mask_json_scanned(plain(thing), memo=self.strings)[0]

    def line(self, turn: Turn) -> bytes:
        return self.encode(turn, self.record(turn))

    def record(self, turn: Turn) -> dict | None:
        """The turn as turns.jsonl holds it, masked, its listed fields as numbers (`Listed`) and the values it
        adds to the table under `new`; None if it is nested deeper than a walk can go."""
        table = self.table
        table.start_line()
        try:
            record: dict[str, Any] = {"schema": SCHEMA, "new": None}
            for name in turn.__dataclass_fields__:
                value = getattr(turn, name)
                if name in WHEN_PRESENT and not value:
                    continue
                if name in LISTED:
                    mask = self.redact and (name == "output" or not self.only_output)
                    convert = self.converter(mask)
                    record[name] = Listed(table.numbers(value, convert), value, convert, table.generation)
                else:
                    record[name] = plain(value)
                    if self.redact and not self.only_output:
                        record[name] = mask_json_scanned(record[name], memo=self.strings)[0]
        except RecursionError:
            table.undo_line()
            return None
        record["new"] = NewValues(table.first_new, table.new_texts)
        return record

    def encode(self, turn: Turn, record: dict | None) -> bytes:
        """The line of `record` (this turn's); when it is too deep to write, where and what it was."""
        if record is not None:
            return encoded_record(record) + b"\n"
        line = encoded(shallow_record(turn))
        return (mask_body(line, "application/json").data if self.redact else line) + b"\n"


class NewValues:
    """The values a line adds to the table, numbered from `first`, already encoded."""

    __slots__ = ("first", "texts")

    def __init__(self, first: int, texts: list[bytes]) -> None:
        self.first, self.texts = first, texts

    def encoded(self) -> bytes:
        return b'{"from":%d,"values":[' % self.first + b",".join(self.texts) + b"]}"


def encoded_record(record: dict) -> bytes:
    """`record` as compact JSON: its new values as encoded when they were numbered, its listed fields as runs, and
    no `new` when the line adds nothing."""
    members = []
    for key, value in record.items():
        if isinstance(value, NewValues):
            if not value.texts:
                continue
            text = value.encoded()
        elif isinstance(value, Listed):
            text = encoded(runs(value.numbers))
        elif value is None and key == "new":
            continue
        else:
            text = encoded(value)
        members.append(encoded(key) + b":" + text)
    return b"{" + b",".join(members) + b"}"


def shallow_record(turn: Turn) -> dict:
    """What a turn too deeply nested to write still says: where and what it was."""
    record = {"schema": SCHEMA, **{name: getattr(turn, name) for name in SCALAR_FIELDS}}
    return record | {"unrecognised": turn.unrecognised + ["content nested too deeply to write"]}


def turn_line(turn: Turn, redact: bool = True) -> bytes:
    """One turn's line of turns.jsonl, masked, holding every value it names (for a single turn; TurnLines writes a
    whole file)."""
    return TurnLines(redact).line(turn)
