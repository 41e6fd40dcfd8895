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

from probe.redact import escapes, maintained
from probe.redact.anchor_scan import CHARACTERS_PER_VISIT, build_scan
from probe.redact.needle_scan import Finder
from probe.redact.replacing import replace_spans
from probe.redact.secret_names import CHECKS
from probe.redact.shape_rules import BOUNDARY, RULES, Rule, needles_of

__all__ = ["CHARACTERS_PER_VISIT"]  # the scan by anchors, which the tests look into


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
RULES_NEEDLES = [(index, needle, rule.lowercase) for index, rule in enumerate(RULES) for needle in needles_of(rule)]
SCANS = {
    as_bytes: (build_scan(RULES_NEEDLES, False, as_bytes), build_scan(RULES_NEEDLES, True, as_bytes))
    for as_bytes in (False, True)
}
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
    flags = ["\\" in text for text in texts]  # escaped: what decoding shows is looked for in each alone
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
    """Where the secrets are: those the rules find in the text as written, and those they find only once JSON's
    escapes are taken off, level by level (a tool call's arguments in a request body are escaped twice)."""
    spans = direct_spans(text, is_bytes, found)
    if (b"\\" if is_bytes else "\\") in text:
        spans += escaped_spans(text, is_bytes, 1)
    return without_escape_ends(text, spans)


DEEPEST = 8  # levels of escaping looked through: JSON in a string in JSON in a string … eight deep


def escaped_spans(text, is_bytes: bool, depth: int) -> list[tuple[int, int]]:
    """The secrets the rules find in the parts of `text` that hold escapes they cannot read through
    (escapes.regions), each decoded once (and looked through again while it still holds such escapes), as spans of
    `text`. A secret found there and as written is one span: they are joined when masked."""
    spans = []
    for start, end in escapes.regions(text):
        part = text[start:end]
        view = escapes.decoded(part)
        if view == part:
            continue
        found = direct_spans(view, is_bytes, probe_hits(view, is_bytes))
        if depth < DEEPEST:
            found += escaped_spans(view, is_bytes, depth + 1)
        spans += [(start + first, start + last) for first, last in escapes.to_written(part, found)]
    return spans


def direct_spans(text, is_bytes: bool, found) -> list[tuple[int, int]]:
    """The secrets the rules find in the text as it is written, by the places of their probes (probe_hits)."""
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
    # (read with one level of escapes as what they stand for: they are written for source code, not JSON)
    found_by_maintained = [unquoted(text, *span) for span in maintained.secret_spans(escapes.spaced(text))]
    if is_bytes:  # a binary body: its random bytes can look like anything a loose rule describes
        found_by_maintained = [span for span in found_by_maintained if reads_as_text(text, *span)]
    return spans + found_by_maintained


QUOTES = {False: "\"'`", True: b"\"'`"}


def unquoted(text, start: int, end: int) -> tuple[int, int]:
    """A span without the quotes around it (a maintained rule may take them in): the secret is what they hold, and
    masks the same wherever it is written."""
    quotes = QUOTES[isinstance(text, bytes)]
    while end - start > 2 and text[start : start + 1] in quotes and text[end - 1 : end] == text[start : start + 1]:
        start, end = start + 1, end - 1
    return start, end


def without_escape_ends(text, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans, each ending before a backslash it would end with: in JSON's text that backslash starts the escape
    after the secret (`…\\"` closing an escaped quote), and masking it would break the JSON around."""
    backslash = b"\\"[0] if isinstance(text, bytes) else "\\"
    trimmed = []
    for start, end in spans:
        while end > start and text[end - 1] == backslash:
            end -= 1
        if end > start:
            trimmed.append((start, end))
    return trimmed


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
