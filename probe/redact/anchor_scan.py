"""Where the needles of the text rules are, found by their anchors: one rare character of each needle is found
with `find` (memchr), and the text before it is checked for the needles' starts. Used where no automaton
(probe.redact.needle_scan) is installed, or the text is not ASCII. Only the standard library is imported."""

import re
from collections import defaultdict
from dataclasses import dataclass

# A needle is found through one of its characters that is rare in prompts and JSON, its anchor: a one-character
# `find` (memchr) visits each place of the anchor, and the text before it is checked for the needles' starts.
# Needles sharing an anchor share one pass. Of the characters here, a needle's first is its anchor (at its last
# place in the needle, so that the check reads the most). A needle with none (`auth`, `shp`) is found whole.
CASED_ANCHORS = "-_JQXZVKGWYFHBUMLNRECDOPSTI9A"  # `A` last: base64 of zeros is `AAAA…`
LOWERED_ANCHORS = "="  # the lowercased text has no capitals, and its `-` would be a second pass over every `-`
# Visiting places one by one costs more than one pass of a regular expression once the anchor is denser than
# one per so many characters (`snake_case` keys, `-` in code, base64): the rest of the text is then read by one
# pattern that finds the needles around the anchor (`dense_pattern`), checking each place without leaving C.
CHARACTERS_PER_VISIT = 1024


@dataclass(frozen=True)
class Needle:
    rule: int  # its rule's place in RULES
    text: str | bytes
    anchor: int  # where its anchor character is in it, or -1: found whole


@dataclass(frozen=True)
class Group:
    """The needles that share an anchor."""

    anchor: str | bytes
    starts: tuple  # each needle up to and with its anchor (the text that ends at a place worth checking)
    by_previous: dict  # the character before the anchor in a needle -> those needles, and those with none ("")
    dense: re.Pattern  # the anchor where one of the needles is


@dataclass(frozen=True)
class Scan:
    """How one kind of haystack (the text as it is, or lowercased) is scanned for the needles of its rules."""

    groups: tuple[Group, ...]
    whole: tuple[Needle, ...]

    def hits(self, haystack, found: defaultdict[int, list[int]]) -> None:
        """Adds where each rule's probe occurs in the haystack, by rule (a place twice does no harm)."""
        starts_with = haystack.startswith
        for group in self.groups:
            by_previous, anywhere = group.by_previous, group.by_previous.get(haystack[:0], ())
            for place in anchor_places(haystack, group):
                for needle in by_previous.get(haystack[place - 1 : place], anywhere):
                    start = place - needle.anchor
                    if start >= 0 and starts_with(needle.text, start):
                        found[needle.rule].append(start)
        for needle in self.whole:
            find, text, places = haystack.find, needle.text, found[needle.rule]
            position = find(text)
            while position >= 0:
                places.append(position)
                position = find(text, position + 1)


def anchor_places(haystack, group: Group) -> list[int]:
    """Where the group's anchor ends one of its needles' starts."""
    find, ends_with, anchor, starts = haystack.find, haystack.endswith, group.anchor, group.starts
    budget = len(haystack) // CHARACTERS_PER_VISIT + 16
    places = []
    position = find(anchor)
    while position >= 0:
        budget -= 1
        if budget < 0:  # a common character here: the rest in one pass (a look-behind sees before `position`)
            return places + [match.start() for match in group.dense.finditer(haystack, position)]
        if ends_with(starts, 0, position + 1):
            places.append(position)
        position = find(anchor, position + 1)
    return places


def build_scan(rules_needles: list[tuple[int, str, bool]], lowercase: bool, as_bytes: bool) -> Scan:
    """The scan of the needles, each (its rule's place, the needle, whether it is looked for lowercased), that are
    looked for as `lowercase` says."""
    anchors = LOWERED_ANCHORS if lowercase else CASED_ANCHORS
    grouped, whole = {}, []
    for index, text, lowered in rules_needles:
        if lowered == lowercase:
            places = [place for place, character in enumerate(text) if character in anchors]
            place = min(places, key=lambda place: (anchors.index(text[place]), -place)) if places else -1
            needle = Needle(index, text.encode() if as_bytes else text, place)
            if place < 0:
                whole.append(needle)
            else:
                grouped.setdefault(text[place], []).append(needle)
    return Scan(tuple(group_of(anchor, needles, as_bytes) for anchor, needles in grouped.items()), tuple(whole))


def group_of(anchor: str, needles: list[Needle], as_bytes: bool) -> Group:
    starts = tuple(dict.fromkeys(needle.text[: needle.anchor + 1] for needle in needles))
    by_previous = {}  # a needle whose anchor is its first character is checked at every place, under ""
    for needle in needles:
        previous = needle.text[needle.anchor - 1 : needle.anchor] if needle.anchor else needle.text[:0]
        by_previous[previous] = by_previous.get(previous, ()) + (needle,)
    anywhere = by_previous.get(needles[0].text[:0], ())
    by_previous = {previous: group + anywhere * bool(previous) for previous, group in by_previous.items()}
    dense = dense_pattern(anchor, needles)
    return Group(
        anchor.encode() if as_bytes else anchor, starts, by_previous, re.compile(dense.encode() if as_bytes else dense)
    )


def dense_pattern(anchor: str, needles: list[Needle]) -> str:
    """The anchor where one of the needles is, whole (a text of `AAAA…`, base64 of zeros, gives no place)."""
    ending, around = {}, []
    for needle in needles:
        text = as_str(needle.text)
        before, after = re.escape(text[: needle.anchor + 1]), re.escape(text[needle.anchor + 1 :])
        if after:
            around.append(f"(?<={before})(?={after})")
        else:  # one look-behind for the needles of one length: its alternatives are skipped on their first character
            ending.setdefault(needle.anchor, []).append(before)
    alternatives = [f"(?<={'|'.join(befores)})" for _, befores in sorted(ending.items())] + around
    # Most places fail on the two characters before the anchor, checked first against those of any needle.
    depth = min(min(needle.anchor for needle in needles), 2)
    guard = "".join(
        "[" + "".join(sorted({re.escape(as_str(needle.text)[needle.anchor - back]) for needle in needles})) + "]"
        for back in range(depth, 0, -1)
    )
    return f"{re.escape(anchor)}(?<={guard}{re.escape(anchor)})(?:{'|'.join(alternatives)})"


def as_str(text: str | bytes) -> str:
    return text.decode() if isinstance(text, bytes) else text
