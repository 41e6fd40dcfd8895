"""The fingerprint of each request of a run as the model saw it, with what `invoke diff` ignores as volatile left out,
and the first request of one run that another run never sent."""

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from probe.analyse.run_figures import SENT_LISTS, Difference
from probe.analyse.volatile import Volatile, durations_out
from probe.common.counting import counted

# Measured or derived, not sent as such: an item's size, a tool's hash of itself as sent (volatile values included).
NOT_SENT = frozenset({"size", "hash"})


def sorted_json(value: Any) -> bytes:
    """`value` as JSON with its keys sorted: two agents' runs may send one object's fields in another order."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, or nesting deeper than orjson goes
        return json.dumps(value, sort_keys=True, default=str).encode("utf-8", "surrogatepass")


def sent_only(value: Any) -> Any:
    return {key: item for key, item in value.items() if key not in NOT_SENT} if isinstance(value, dict) else value


class SentVolatile(Volatile):
    """Volatile values as `invoke diff` normalises them, and the durations a tool reports (measured anew each run,
    as a replay matches requests: a fork re-runs the recorded tool calls before its fork point)."""

    def text(self, value: str) -> str:
        return durations_out(super().text(value))


class RequestPrints:
    """Fed a run's turns in order (each line of turns.jsonl, or each record as it is written), keeps one digest per
    request: its endpoint, model, settings, instructions, tools and input, each value normalised (SentVolatile)
    with the places of its run (probe.analyse.volatile.run_places).
    A value of the table is normalised and hashed once, however many requests re-send it."""

    def __init__(self, places: list) -> None:
        self.volatile = SentVolatile(places)
        self.digests: dict[int, bytes] = {}  # the table's value number -> its digest
        self.prints: list[tuple[int, bytes]] = []  # (the request's number, its digest), in order
        self.stop = 0  # past the highest number the table defines: what a run of numbers can name

    def digest(self, value: Any) -> bytes:
        try:
            text = sorted_json(self.volatile.value(sent_only(value)))
        except RecursionError:  # nested deeper than json.dumps goes: all such values count as one
            text = b"<nested too deeply>"
        return hashlib.blake2b(text, digest_size=16).digest()

    def define(self, first: int, values: Iterable[Any]) -> None:
        """The values a line adds to the table, numbered from `first`."""
        for offset, value in enumerate(values):
            self.digests[first + offset] = self.digest(value)
            self.stop = max(self.stop, first + offset + 1)

    def add(self, turn: dict, listed: dict[str, list[int] | list[Any]], numbered: bool = True) -> None:
        """One request: `turn` its scalar fields, `listed` its sent lists as the table's numbers (`numbered`) or
        as the values themselves (a whole line, written before values were numbered)."""
        whole = hashlib.blake2b(digest_size=16)
        head = [turn.get("method"), self.volatile.text(str(turn.get("path") or "").split("?", 1)[0]),
                turn.get("model"), self.volatile.value(turn.get("config") or {})]  # fmt: skip
        whole.update(sorted_json(head))
        for name in SENT_LISTS:
            whole.update(b"|" + name.encode())
            for item in listed.get(name) or []:
                whole.update(self.digests.get(item, b"?") if numbered else self.digest(item))
        number = turn.get("number")
        self.prints.append((number if isinstance(number, int) else len(self.prints) + 1, whole.digest()))


def first_difference(origin: list[tuple[int, bytes]], other: list[tuple[int, bytes]]) -> Difference:
    """The first request of `other`, in its order, that none of `origin`'s requests not matched yet equals. Each
    request carries its whole conversation so far, so matching each to any equal one (rather than to the one at
    the same place) tells a changed request from sub-agents' requests that interleave in another order."""
    waiting = Counter(digest for _, digest in origin)
    for number, digest in other:
        if waiting[digest] <= 0:
            return Difference(number, "")
        waiting[digest] -= 1
    if len(other) < len(origin):
        left = len(origin) - len(other)
        return Difference(
            None, f"none: each of its {counted(len(other), 'request')} is one of the origin's, which sent {left:,} more"
        )
    return Difference(None, f"none: the same {counted(len(other), 'request')}")
