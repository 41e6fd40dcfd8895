"""The first and last elements of a sequence walked once (a stream's events), those between counted and digested as
they pass: what probe.read.thinning does to a list too long to read whole, for one never held whole."""

import hashlib
from collections import deque
from collections.abc import Callable
from typing import Any

from probe.common.fastjson import encoded
from probe.read.conversation import LeftOut

LIST_READ = 10_000  # elements of one list read whole; a longer one is read at its ends, half that many at each


def ends(kept: int) -> tuple[int, int]:
    """How many elements are read from a thinned list's start and from its end."""
    return (kept + 1) // 2, kept // 2


class EndsOf:
    """The first and last elements of a sequence walked once, those between counted and digested as they pass, as
    probe.read.thinning.thinned would for the list of them all: memory holds the ends only. `mask` masks the JSON
    of each element digested (the text rules: probe.redact.shapes.mask_bytes)."""

    def __init__(self, mask: Callable[[bytes], tuple[bytes, int]], keep: int = LIST_READ) -> None:
        self.mask = mask
        self.first, self.last = ends(keep)
        self.head: list = []
        self.tail: deque = deque()
        self.count = self.middle = self.bytes = 0
        self.digest = hashlib.sha256()

    def add(self, value: Any) -> None:
        self.count += 1
        if len(self.head) < self.first:
            self.head.append(value)
            return
        self.tail.append(value)
        if len(self.tail) > self.last:
            text = self.mask(encoded(self.tail.popleft()))[0]
            self.digest.update(b"," if self.middle else b"[")
            self.digest.update(text)
            self.bytes += len(text) + 1  # and its comma, or the opening bracket
            self.middle += 1

    def kept(self, where: str) -> tuple[list, LeftOut | None]:
        """The elements kept, and what was left out between them (None if nothing was)."""
        if not self.middle:
            return self.head + list(self.tail), None
        digest = self.digest.copy()
        digest.update(b"]")
        left_out = LeftOut(where, self.count, len(self.head), len(self.tail), self.bytes + 1, digest.hexdigest())
        return self.head + list(self.tail), left_out
