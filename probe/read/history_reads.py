"""Reads the items of a request's history, reusing those read from an earlier request that sent the same ones.

A session re-sends its whole history with every request: reading it all again, item by item in Python, cost
several times more than parsing it. Items sent exactly as before (compared as JSON text, in C) are the objects
read before, and what reading them noted on the turn (unrecognised content) is noted again.
"""

from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from hashlib import blake2b
from typing import Any

import orjson

from probe.read.conversation import Item, Turn
from probe.read.dedupe import RECENT_REQUESTS, common_prefix, trim


def starts_with(text: bytes, earlier: bytes) -> bool:
    """Whether the JSON list `text` starts with the items of the JSON list `earlier`: `earlier`'s text, but its
    closing bracket, starts `text`, and a comma or a closing bracket follows (JSON reads the same bytes into the
    same items). One comparison, in C."""
    end = len(earlier) - 1
    return end >= 1 and text.startswith(memoryview(earlier)[:end]) and text[end : end + 1] in (b",", b"]")


def as_sent(raws: list) -> list:
    """Each raw item's JSON text, as a digest, to compare items exactly (1, 1.0 and true are equal in Python); an
    item orjson cannot write (a lone surrogate, an integer past 64 bits) gets an object equal to nothing, so it is
    read anew. (A digest, not the text: orjson gives each text a 4 KB buffer, and a hostile request of 300,000
    tiny items held 1.2 GB of them.)"""
    texts: list = []
    for raw in raws:
        try:
            texts.append(blake2b(orjson.dumps(raw), digest_size=16).digest())
        except (orjson.JSONEncodeError, TypeError):
            texts.append(object())
    return texts


NOTHING_NOTED: tuple[list, list] = ((), ())  # type: ignore[assignment]

# The JSON text of the lists masking handed on last (probe.read.history_masks: a re-sent history masked item by item
# is never written out whole), each held with its list, by identity: the history's reading takes its text from here
# instead of writing it out again. Each is taken once; a few at most are held.
KNOWN_TEXTS: dict[int, tuple[list, bytes]] = {}
KNOWN_KEPT = 8


def text_known(value: list, text: bytes) -> None:
    """Hand on `text`, the JSON text orjson writes for `value`, to the reading of `value`."""
    KNOWN_TEXTS.pop(id(value), None)
    while len(KNOWN_TEXTS) >= KNOWN_KEPT:
        del KNOWN_TEXTS[next(iter(KNOWN_TEXTS))]
    KNOWN_TEXTS[id(value)] = (value, text)


def known_text(value: list) -> bytes | None:
    """The text handed on for `value` itself (text_known), taken; None if none was."""
    entry = KNOWN_TEXTS.pop(id(value), None)
    return entry[1] if entry is not None and entry[0] is value else None


class HistoryReads:
    """The items of the last few requests' histories, each with what reading it noted on its turn."""

    def __init__(self) -> None:
        self.recent: deque[tuple[list, list[Item], list[tuple[list, list]]]] = deque(maxlen=RECENT_REQUESTS)
        # The newest history's JSON text and its list, as read: the next request usually re-sends it whole, which
        # one comparison of texts, in C, tells (instead of writing and hashing each item again; hashing the text,
        # to hold less, cost as much as parsing the capture).
        self.newest_text: bytes | None = None
        self.newest_raws: list | None = None

    def read(self, raws: list, turn: Turn, read_one: Callable[[Any], Item]) -> list[Item]:
        sent = self.sent(raws)
        count, earlier = 0, None
        for candidate in reversed(self.recent):
            shared = common_prefix(candidate[0], sent)
            if shared > count:
                count, earlier = shared, candidate
            if shared and shared == len(candidate[0]):
                break  # this history extends that one whole: the usual case
        items: list[Item] = []
        notes: list[tuple[list, list]] = []
        if earlier is not None:
            items, notes = earlier[1][:count], earlier[2][:count]
            for unrecognised, unknown in notes:
                turn.unrecognised += unrecognised
                turn.unknown += unknown
        for raw in raws[count:]:
            marks = len(turn.unrecognised), len(turn.unknown)
            items.append(read_one(raw))
            noted = len(turn.unrecognised) > marks[0] or len(turn.unknown) > marks[1]
            # Most items note nothing: one shared empty note, not two lists each, for 300,000 tiny items.
            notes.append((turn.unrecognised[marks[0] :], turn.unknown[marks[1] :]) if noted else NOTHING_NOTED)
        self.recent.append((sent, items, notes))
        trim(self.recent, lambda entry: len(entry[0]))
        return items

    def sent(self, raws: list) -> list:
        """as_sent(raws), taking the digests of the newest history when `raws` starts with it whole: the JSON
        text of that history, but its closing bracket, is where `raws`'s own text starts, and a comma or a closing
        bracket follows (JSON reads the same bytes into the same items)."""
        newest, newest_text = (self.recent[-1][0] if self.recent else None), self.newest_text
        text = known_text(raws)
        if text is None:
            try:
                text = orjson.dumps(raws)
            except (orjson.JSONEncodeError, TypeError):
                self.newest_text = self.newest_raws = None
                return as_sent(raws)
        self.newest_text, self.newest_raws = text, raws
        if not newest or newest_text is None or len(newest) > len(raws) or not starts_with(text, newest_text):
            return as_sent(raws)
        return newest + as_sent(raws[len(newest) :])

    def digests(self, raws: list) -> list | None:
        """The digests (as_sent) of the history last read, if `raws` is that list: what an output that stores
        each distinct item once can look its items up by."""
        if raws is self.newest_raws and self.recent:
            return self.recent[-1][0]
        return None


# The reads of the TurnBuilder reading a request now; a reader called on its own reads every item.
CURRENT: ContextVar[HistoryReads | None] = ContextVar("history_reads", default=None)


def read_history(raws: list, turn: Turn, read_one: Callable[[Any], Item]) -> list[Item]:
    """The items of a request's history, in order, as `read_one` reads each (it may note things on `turn`). A history
    too long to read whole (probe.read.thinning) holds its ends only: what was left out is the turn's input's."""
    left_out = getattr(raws, "left_out", None)
    if left_out is not None:
        left_out.history = True
    reads = CURRENT.get()
    return reads.read(raws, turn, read_one) if reads is not None else [read_one(raw) for raw in raws]


def history_key(item: Item, fields_left_out: frozenset[str], kinds_left_out: frozenset[str] = frozenset()) -> Any:
    """An item as compared for carried-over history, without the raw fields an agent changes on re-sent items
    (cache markers, signatures) and without the parts of kinds it drops from them: neither makes an old item new."""
    return (
        item.type,
        item.role,
        [
            (
                part.kind,
                part.type,
                part.text,
                part.name,
                part.call_id,
                part.arguments,
                part.is_error,
                ({key: value for key, value in part.raw.items() if key not in fields_left_out} or None)
                if isinstance(part.raw, dict)
                else part.raw,
            )
            for part in item.parts
            if part.kind not in kinds_left_out
        ],
    )
