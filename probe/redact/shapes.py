"""What a secret looks like in free text, and how it is masked there: token shapes, private keys,
credentials after an auth scheme or a header name, secret URL parameters, also when written with JSON escapes.

A secret becomes a fingerprint, `[REDACTED sha256:<first 8 hex digits>]`, so two requests that used the same
key still match. Masking is idempotent: a fingerprint is never masked again. The rules themselves are in
probe.redact.shape_rules. Only the standard library is imported: the capture addon loads this under any mitmdump.
"""

import bisect
import re
import string
from collections import defaultdict
from dataclasses import dataclass

from probe.redact import maintained
from probe.redact.needle_scan import Finder
from probe.redact.replacing import replace_spans
from probe.redact.secret_names import CHECKS
from probe.redact.shape_rules import BOUNDARY, RULES, Rule, needles_of

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


def build_scan(lowercase: bool, as_bytes: bool) -> Scan:
    anchors = LOWERED_ANCHORS if lowercase else CASED_ANCHORS
    grouped, whole = {}, []
    for index, rule in enumerate(RULES):
        if rule.lowercase != lowercase:
            continue
        for text in needles_of(rule):
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


@dataclass(frozen=True)
class Compiled:
    """A rule's pattern for str and for bytes."""

    rule: Rule
    pattern: re.Pattern
    pattern_bytes: re.Pattern
    at_boundary: bool  # the pattern starts with BOUNDARY: it is only tried where a token can start


COMPILED = [
    Compiled(rule, re.compile(rule.pattern), re.compile(rule.pattern.encode()), rule.pattern.startswith(BOUNDARY))
    for rule in RULES
]


# The scans of the text as it is and lowercased, for str and for bytes.
SCANS = {as_bytes: (build_scan(False, as_bytes), build_scan(True, as_bytes)) for as_bytes in (False, True)}
KELVIN, DOTTED_I = "\u212a", "\u0130"  # the letters whose lowercase is (or starts with) an ASCII letter
# Every rule's needles for one pass of RE2, a lowercase rule's matched ignoring case, and the rule of each.
NEEDLE_RULES = [index for index, rule in enumerate(RULES) for _ in needles_of(rule)]
NEEDLE_FINDER = Finder([(needle.encode(), rule.lowercase) for rule in RULES for needle in needles_of(rule)])
ESCAPE = "\\u00"  # JSON's escape for an ASCII character: a token written `\u0073k-…` is found after decoding
ESCAPED_RUN = re.compile(r"(?:[A-Za-z0-9_.+/=-]|\\u00[0-9a-fA-F]{2}|\\/)+")
TOKEN_CHARACTER = re.compile(r"[A-Za-z0-9_.+/=-]")


def mask_text(text: str) -> tuple[str, int]:
    """Token shapes, private keys, auth-scheme credentials, secret header lines and secret URL parameters in
    free text, including tokens written with JSON escapes."""
    if not text:
        return text, 0
    text, escaped = unescape_runs(text)
    masked, count = apply_rules(text, False)
    return masked, count + escaped


def mask_bytes(data: bytes) -> tuple[bytes, int]:
    """The same rules on bytes: a binary body, or text not yet decoded."""
    if not data:
        return data, 0
    if ESCAPE.encode() in data:
        decoded = data.decode("latin-1")  # one byte, one character: positions and other bytes stay as they are
        unescaped, escaped = unescape_runs(decoded)
        if escaped:
            data = unescaped.encode("latin-1")
        masked, count = apply_rules(data, True)
        return masked, count + escaped
    return apply_rules(data, True)


def probe_hits(text, is_bytes: bool) -> defaultdict[int, list[int]]:
    """Where each rule's probe occurs, by rule: in one pass of an automaton (Hyperscan's, else RE2's) over every
    needle where one is installed (and the text is bytes, or ASCII), else by the needles' anchors."""
    found: defaultdict[int, list[int]] = defaultdict(list)
    if NEEDLE_FINDER.one_pass and (is_bytes or text.isascii()):
        for needle, positions in NEEDLE_FINDER.positions(text if is_bytes else text.encode()).items():
            found[NEEDLE_RULES[needle]] += positions
        return found
    # Other text: the automaton over its UTF-8 tells at once whether any probe is there at all (most often none);
    # only then are the places found, in the text's own positions, by the anchors. (The two letters that lowercase
    # to ASCII ones would make a probe of the lowercased text that the bytes do not hold.)
    if (
        NEEDLE_FINDER.one_pass
        and not (KELVIN in text or DOTTED_I in text)
        and not NEEDLE_FINDER.any_in(text.encode("utf-8", "surrogatepass"))
    ):
        return found
    cased, lowered = SCANS[is_bytes]
    cased.hits(text, found)
    lowered.hits(text.lower(), found)
    return found


def which_have_shapes(texts: list[str]) -> list[bool]:
    """For each of many short texts (a message's header names and values), whether mask_text could find anything
    in it: found in one scan of them all, joined by line ends (which no probe holds)."""
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + 1
    flags = [ESCAPE in text for text in texts]
    joined = "\n".join(texts)
    if maintained.found_in(joined):
        return [True] * len(texts)  # a shape of the maintained rules: each text is masked alone
    for positions in probe_hits(joined, False).values():
        for hit in positions:
            flags[bisect.bisect_right(starts, hit) - 1] = True
    return flags


def apply_rules(text, is_bytes: bool):
    return apply_rules_at(text, is_bytes, probe_hits(text, is_bytes))


def apply_rules_at(text, is_bytes: bool, found) -> tuple:
    """apply_rules with the probes' places already found, by rule (probe_hits); then the maintained rules."""
    spans = secret_spans_at(text, is_bytes, found)
    if not spans:
        return text, 0
    return replace_spans(text, spans, is_bytes)


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Where the secrets are in a text, as (start, end), unmasked: for whoever masks them in pieces."""
    return secret_spans_at(text, False, probe_hits(text, False)) if text else []


def secret_spans_at(text, is_bytes: bool, found) -> list[tuple[int, int]]:
    spans = []
    for index in sorted(found):  # in the order of RULES, each rule's hits in order
        compiled = COMPILED[index]
        pattern = compiled.pattern_bytes if is_bytes else compiled.pattern
        resume = 0
        for position in sorted(found[index]):
            if position < resume:
                continue  # inside this rule's last match, or a place seen already
            match = anchored_match(pattern, text, position, compiled.rule.before, compiled.at_boundary)
            if match is not None and compiled.rule.check and not checked(compiled.rule, match, text, is_bytes):
                match = None  # the shape, but not a secret: `password: string`, `fortune_cookie: …`
            resume = match.end() if match is not None else position + 1
            if match is not None:
                keep_end = match.end("keep") if "keep" in match.re.groupindex else match.start()
                spans.append((keep_end, match.end()))
    found_by_maintained = maintained.secret_spans(text)
    if is_bytes:  # a binary body: its random bytes can look like anything a loose rule describes
        found_by_maintained = [span for span in found_by_maintained if reads_as_text(text, *span)]
    return spans + found_by_maintained


def checked(rule: Rule, match: re.Match, text, is_bytes: bool) -> bool:
    """Whether a free-text rule's match passes its check; in bytes, only where they read as text."""
    return (not is_bytes or reads_as_text(text, match.start(), match.end())) and CHECKS[rule.check](match, text)


TEXT_CONTEXT = 16  # bytes around a match that must read as text too
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reads_as_text(data: bytes, start: int, end: int) -> bool:
    """Whether the bytes of a match, and a few around it, are UTF-8 text without control characters."""
    around = data[max(start - TEXT_CONTEXT, 0) : end + TEXT_CONTEXT]
    try:
        around.decode("utf-8")
    except UnicodeDecodeError as error:
        # A character cut at the edge of the window is still text.
        if error.start < len(around) - 4 and error.end > 4:
            return False
    return CONTROL.search(around) is None


def anchored_match(pattern: re.Pattern, text, position: int, before: int, at_boundary: bool = False):
    """The first match that starts at most `before` characters before the probe and reaches past it."""
    for start in range(max(position - before, 0), position + 1):
        if at_boundary and not token_can_start(text, start):
            continue  # the pattern's BOUNDARY would fail here: `task-…` is not `sk-…`
        match = pattern.match(text, start)
        if match is not None and match.end() > position:
            return match
    return None


@dataclass(frozen=True)
class Characters:
    """What BOUNDARY looks at, as str or as bytes (a byte of bytes is a one-byte slice here)."""

    token: frozenset
    escaped: frozenset  # `\\n`, `\\r` …: a JSON escape a token can follow
    backslash_u: str | bytes
    percent: str | bytes
    hex_digits: str | bytes


def characters(as_bytes: bool) -> Characters:
    def spelled(text: str):
        return text.encode() if as_bytes else text

    token = string.ascii_letters + string.digits + "_-"
    return Characters(
        frozenset(spelled(character) for character in token),
        frozenset(spelled("\\" + character) for character in "nrtbf"),
        spelled("\\u"),
        spelled("%"),
        spelled(string.hexdigits),
    )


CHARACTERS = {False: characters(False), True: characters(True)}


def token_can_start(text, start: int) -> bool:
    """BOUNDARY, without a regular expression: not after a token character, unless that character ends a JSON
    escape (`\\n`, `\\u00e9`) or a percent-encoded byte (`%2F`)."""
    known = CHARACTERS[isinstance(text, bytes)]
    if start == 0 or text[start - 1 : start] not in known.token:
        return True
    if text[max(start - 2, 0) : start] in known.escaped:
        return True
    if (
        start >= 6
        and text[start - 6 : start - 4] == known.backslash_u
        and not text[start - 4 : start].strip(known.hex_digits)
    ):
        return True
    return (
        start >= 3
        and text[start - 3 : start - 2] == known.percent
        and not text[start - 2 : start].strip(known.hex_digits)
    )


def unescape_runs(text: str) -> tuple[str, int]:
    """Runs of token characters written with JSON escapes (`\\u0073k-…`, `\\/`): decoded and checked, and
    replaced by a fingerprint of the secret only if one is found (a run keeps its escapes otherwise)."""
    if ESCAPE not in text:
        return text, 0
    pieces, cursor, total = [], 0, 0
    position = text.find(ESCAPE)
    while position >= 0:
        run = ESCAPED_RUN.search(text, max(position - 4096, cursor), position + 4096)
        while run is not None and run.end() <= position:
            run = ESCAPED_RUN.search(text, run.end(), position + 4096)
        if run is None or run.start() > position:
            position = text.find(ESCAPE, position + 1)
            continue
        decoded = decode_escapes(run.group(0))
        masked, count = apply_rules(decoded, False) if decoded is not None else (None, 0)
        if count:
            pieces += [text[cursor : run.start()], masked]
            cursor, total = run.end(), total + count
        position = text.find(ESCAPE, run.end())
    if not total:
        return text, 0
    pieces.append(text[cursor:])
    return "".join(pieces), total


def decode_escapes(run: str) -> str | None:
    """A run's escapes decoded, if each stands for a token character (else the run is not one token)."""

    def character(match: re.Match) -> str:
        if match.group(0) == "\\/":
            return "/"
        decoded = chr(int(match.group(0)[2:], 16))
        if not TOKEN_CHARACTER.match(decoded):
            raise ValueError(decoded)
        return decoded

    try:
        return re.sub(r"\\u00[0-9a-fA-F]{2}|\\/", character, run)
    except ValueError:
        return None
