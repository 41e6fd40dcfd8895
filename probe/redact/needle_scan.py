"""Finds every place where any of a set of literal needles occurs in a text, fast whatever the text holds.

Fifty needles are fifty `bytes.find` passes at about 1.4 GB/s each: seconds for a 200 MB body, milliseconds for an
ordinary request. With Hyperscan (the `hyperscan` package) installed, all the needles are found in one pass of its
automaton at memory speed (`Automaton`); else, with RE2 (`google-re2`), in one pass of RE2's. Without
either, each needle is looked for by its rarest byte where that byte is sparse in the text
(a one-byte search runs at memory speed, and an absent byte rules the needle out), and by `find` only where every
one of its bytes is common. The capture addon loads this module from its own folder, under any mitmdump.
"""

import contextlib
import re
import threading

try:
    import hyperscan
except ImportError:  # optional, like RE2: the same positions are found, more slowly
    hyperscan = None
try:
    import re2
except ImportError:  # optional: the same positions are found, more slowly
    re2 = None

# Bytes in order of how rare they tend to be in what agents send (prompts, code, JSON, SSE): a needle is looked
# for by the first of its bytes in this order that is sparse in the text at hand. Bytes not listed come last.
RARITY = b"\\QZXJKVqzjx`~|^@#$%&*+!?;<>[]WYUGBHFPMDCOIRLSNTAE9876543210=_-/():'.,kvbwgfypmhcudlrnsioatE"
RANK = {byte: index for index, byte in enumerate(dict.fromkeys(RARITY))}
SAMPLE = 16 * 1024  # bytes at the start of the text whose count of a byte estimates how common it is
SPARSE = 1 / 512  # at most this share of the text: following each occurrence is cheaper than a `find` pass
SHORT = 64 * 1024  # in texts up to this size every needle is simply found: choosing would cost more than it saves


class Haystack:
    """One text, and what has been learnt about it: where its sparse bytes are, and which bytes it lacks."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sparse: dict[int, list[int] | None] = {}  # byte -> every position, or None where it is common

    def positions(self, needle: bytes) -> list[int]:
        """Every position where `needle` starts, overlapping ones included, in order."""
        data = self.data
        if len(data) > SHORT:
            for offset, byte in by_rarity(needle):
                places = self.places_of(byte)
                if places is None:
                    continue
                length = len(needle)
                return [
                    place - offset
                    for place in places
                    if place >= offset and data[place - offset : place - offset + length] == needle
                ]
        found, position = [], data.find(needle)
        while position >= 0:
            found.append(position)
            position = data.find(needle, position + 1)
        return found

    def places_of(self, byte: int) -> list[int] | None:
        """Every position of `byte` if it is sparse here (an empty list if it is absent), else None."""
        if byte in self.sparse:
            return self.sparse[byte]
        data, single = self.data, bytes((byte,))
        limit = max(int(len(data) * SPARSE), 16)
        places: list[int] | None = None
        if data.count(single, 0, SAMPLE) * len(data) <= limit * SAMPLE:
            places, position = [], data.find(single)
            while position >= 0:
                places.append(position)
                if len(places) > limit:  # the sample misled (the byte is common further on)
                    places = None
                    break
                position = data.find(single, position + 1)
        self.sparse[byte] = places
        return places


def by_rarity(needle: bytes) -> list[tuple[int, int]]:
    """The needle's (offset, byte) pairs, rarest byte first, each byte once."""
    first: dict[int, int] = {}
    for offset, byte in enumerate(needle):
        first.setdefault(byte, offset)
    return sorted(((offset, byte) for byte, offset in first.items()), key=lambda pair: RANK.get(pair[1], len(RANK)))


class Finder:
    """Where each of a fixed set of needles starts in a text; a needle may be matched ignoring ASCII case."""

    def __init__(self, needles: list[tuple[bytes, bool]]) -> None:
        self.needles = needles  # (needle, ignore_case); an ignore-case needle is written in lowercase
        self.exact: dict[bytes, list[int]] = {}  # a matched text -> the needles it is
        self.folded: dict[bytes, list[int]] = {}  # a matched text, lowercased -> the ignore-case needles it is
        for index, (needle, ignore_case) in enumerate(needles):
            (self.folded if ignore_case else self.exact).setdefault(needle, []).append(index)
        # RE2 reports one needle at a place and goes on after it: the needles that can also start at that place,
        # or inside it, are checked there (`gsk_` holds `sk_`; `auth=` starts as `auth` does).
        self.lowered = [needle.lower() for needle, _ in needles]
        self.by_first: dict[int, list[int]] = {}  # a needle's first byte, lowercased -> the needles
        for index, needle in enumerate(self.lowered):
            self.by_first.setdefault(needle[0], []).append(index)
        self.within = {text: self.overlapping(text) for text in [*self.exact, *self.folded]}
        alternatives = [
            b"(?i:%s)" % re.escape(needle) if ignore_case else re.escape(needle) for needle, ignore_case in needles
        ]
        self.union = byte_pattern(b"|".join(alternatives)) if re2 is not None and needles else None
        self.fast = automaton(needles)

    @property
    def one_pass(self) -> bool:
        """Whether every needle is found in one pass of an automaton (Hyperscan's or RE2's), not needle by needle."""
        return self.fast is not None or self.union is not None

    def any_in(self, text: bytes) -> bool:
        """Whether any needle is in the text."""
        if self.fast is not None:
            return self.fast.any_in(text)
        return bool(self.positions(text))

    def overlapping(self, text: bytes) -> list[tuple[int, int]]:
        """(offset, needle) for each needle that may start at that offset of a match of `text`."""
        pairs = []
        for offset in range(len(text)):
            rest = text[offset:].lower()
            for index in self.by_first.get(rest[0], ()):  # (only those that start as the rest does can match)
                needle = self.lowered[index]
                if needle[: len(rest)] == rest[: len(needle)] and not (offset == 0 and self.needles[index][0] == text):
                    pairs.append((offset, index))
        return pairs

    def matches(self, text: bytes, start: int, index: int) -> bool:
        needle, ignore_case = self.needles[index]
        if ignore_case:
            return text[start : start + len(needle)].lower() == needle
        return text.startswith(needle, start)

    def positions(self, text: bytes) -> dict[int, list[int]]:
        """For each needle found (by its index in the order given), every position where it starts, overlapping
        ones included, in order."""
        if self.fast is not None:
            return self.fast.positions(text)
        if self.union is None:
            return self.positions_by_find(text)
        found: dict[int, set[int]] = {}
        exact, folded, within = self.exact, self.folded, self.within
        for match in self.union.finditer(text):
            start, matched = match.start(), match.group()
            key = matched if matched in exact else matched.lower()
            for index in exact.get(matched, []) + folded.get(matched.lower(), []):
                found.setdefault(index, set()).add(start)
            for offset, index in within[key]:
                if self.matches(text, start + offset, index):
                    found.setdefault(index, set()).add(start + offset)
        return {index: sorted(places) for index, places in found.items()}

    def positions_by_find(self, text: bytes) -> dict[int, list[int]]:
        exact, lowered = Haystack(text), None
        found = {}
        for index, (needle, ignore_case) in enumerate(self.needles):
            if ignore_case:
                lowered = lowered or Haystack(text.lower())
                places = lowered.positions(needle)
            else:
                places = exact.positions(needle)
            if places:
                found[index] = places
        return found


def byte_pattern(pattern: bytes):
    """An RE2 pattern over bytes, each byte a character: ignoring case then folds ASCII letters only, as
    bytes.lower() does (in UTF-8, RE2 would also fold the Kelvin sign to k), and no text is decoded."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    return re2.compile(pattern, options=options)


class Automaton:
    """One compiled set of needles; each thread scans with its own scratch space (Hyperscan's rule)."""

    def __init__(self, needles: list[tuple[bytes, bool]]) -> None:
        self.lengths = [len(needle) for needle, _ in needles]
        self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        # Each needle byte by byte as an escape: a needle is a literal, whatever it holds.
        expressions = [b"".join(b"\\x%02x" % byte for byte in needle) for needle, _ in needles]
        # Ignoring case folds ASCII letters only, as bytes.lower() does (the needle is given in lowercase).
        flags = [hyperscan.HS_FLAG_CASELESS if ignore_case else 0 for _, ignore_case in needles]
        self.database.compile(expressions=expressions, ids=list(range(len(needles))), flags=flags)
        self.local = threading.local()

    def scratch(self):
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = hyperscan.Scratch(self.database)
        return scratch

    def positions(self, text: bytes) -> dict[int, list[int]]:
        """For each needle found (by its index), every place where it starts, overlapping ones included, in order.
        Hyperscan reports each needle at each place it ends, in the order of those ends."""
        found: dict[int, list[int]] = {}
        lengths = self.lengths

        def each(index: int, start: int, end: int, flags: int, context) -> None:
            places = found.get(index)
            if places is None:
                places = found[index] = []
            places.append(end - lengths[index])

        if text:
            self.database.scan(bytes(text), match_event_handler=each, scratch=self.scratch())
        return found

    def any_in(self, text: bytes) -> bool:
        """Whether any needle is in the text: the scan stops at the first."""
        seen = []

        def first(index: int, start: int, end: int, flags: int, context) -> bool:
            seen.append(index)
            return True  # stop here

        if text:
            with contextlib.suppress(hyperscan.ScanTerminated):  # (stopped at the first, as asked)
                self.database.scan(bytes(text), match_event_handler=first, scratch=self.scratch())
        return bool(seen)


def automaton(needles: list[tuple[bytes, bool]]) -> Automaton | None:
    """The needles compiled, or None without Hyperscan (or on a machine it cannot compile for)."""
    if hyperscan is None or not needles:
        return None
    try:
        return Automaton(needles)
    except Exception:  # a CPU without the instructions it needs, a library that will not load: found otherwise
        return None
