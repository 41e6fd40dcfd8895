"""What replaces a secret, its fingerprint, and how found secrets are replaced: each once, and never a fingerprint
again."""

import bisect
import contextlib
import contextvars
import hashlib
import json
import re
from collections.abc import Iterator

REDACTED_PREFIX = "[REDACTED"
FINGERPRINT = re.compile(r"\[REDACTED sha256:[0-9a-f]{8}\]")


def fingerprint(value: str | bytes) -> str:
    """A stand-in for a secret that still tells whether two requests used the same one."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    made = f"[REDACTED sha256:{hashlib.sha256(data).hexdigest()[:8]}]"
    seen = SEEN.get()
    if seen is not None:
        seen.setdefault(made, data.decode("utf-8", "replace"))
    return made


# While `secrets_seen` runs: each fingerprint made, with what it stands for (for a caller that judges what it masked).
SEEN: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("secrets_seen", default=None)


@contextlib.contextmanager
def secrets_seen() -> Iterator[dict[str, str]]:
    """The fingerprints made inside the block, each with the value it replaced."""
    seen: dict[str, str] = {}
    token = SEEN.set(seen)
    try:
        yield seen
    finally:
        SEEN.reset(token)


def is_fingerprint(text: str) -> bool:
    return FINGERPRINT.fullmatch(text) is not None


def fingerprints_of(text) -> set[str]:
    """The fingerprints a text (str or bytes) holds, as str."""
    if (REDACTED_PREFIX.encode() if isinstance(text, bytes) else REDACTED_PREFIX) not in text:
        return set()
    if isinstance(text, bytes):
        return {found.decode("ascii") for found in FINGERPRINT_BYTES.findall(text)}
    return set(FINGERPRINT.findall(text))


# Any mask in brackets, a fingerprint of another length (an older capture's) among them.
ANY_MASK = re.compile(r"\[REDACTED[^\]\r\n]{0,80}\]")


def between_fingerprints(text: str) -> list[tuple[int, int]]:
    """Where a text holds anything but masks and the separators around them."""
    spans, cursor = [], 0
    for found in ANY_MASK.finditer(text):
        spans += trimmed(text, cursor, found.start())
        cursor = found.end()
    return spans + trimmed(text, cursor, len(text))


def only_fingerprints(text: str) -> bool:
    """Whether a value holds nothing but fingerprints (and separators between them): masked already, whole."""
    return REDACTED_PREFIX in text and not FINGERPRINT.sub("", text).strip(SEPARATORS)


FINGERPRINT_BYTES = re.compile(FINGERPRINT.pattern.encode())


def replace_spans(text, spans: list[tuple[int, int]], is_bytes: bool):
    """Each secret (start, end) replaced by its fingerprint. Secrets that overlap are masked as one: a rule that
    reads too far (into a JSON escape, say) must not leave the rest of the next secret showing. A fingerprint
    already there is never masked again, in whole or in part; what a span holds around one is (outside_fingerprints)."""
    pieces, cursor, count = [], 0, 0
    for start, end in outside_fingerprints(text, joined_spans(spans), is_bytes):
        secret = text[start:end]
        shown = secret.decode("latin-1") if is_bytes else secret
        replacement = fingerprint(unescaped(shown))
        pieces += [text[cursor:start], replacement.encode("ascii") if is_bytes else replacement]
        cursor, count = end, count + 1
    if not count:
        return text, 0
    pieces.append(text[cursor:])
    return (b"" if is_bytes else "").join(pieces), count


def joined_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans in order, those that overlap joined into one."""
    joined: list[list[int]] = []
    for start, end in sorted(spans):
        if joined and start < joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [(start, end) for start, end in joined]


def outside_fingerprints(text, spans: list[tuple[int, int]], is_bytes: bool) -> list[tuple[int, int]]:
    """The spans (in order, apart) with the fingerprints already in the text cut out of them. A rule that reads a
    line whole, `Cookie: …` up to its end, masks what it holds around a secret masked before; a piece of nothing
    but separators (`; `, a space) is left as it is. A span that starts in a fingerprint is dropped: the rule took
    the mask for its secret, and what it read on from there is no part of one."""
    masked_already = fingerprints_in(text, is_bytes)
    if not masked_already:
        return spans
    kept = []
    for start, end in spans:
        index = max(bisect.bisect_right(masked_already, (start, float("inf"))) - 1, 0)
        inside = []
        while index < len(masked_already) and masked_already[index][0] < end:
            if masked_already[index][1] > start:
                inside.append(masked_already[index])
            index += 1
        if not inside:
            kept.append((start, end))
            continue
        if inside[0][0] <= start:
            continue
        for fingerprint_start, fingerprint_end in inside:
            kept += trimmed(text, start, fingerprint_start)
            start = max(start, fingerprint_end)
        kept += trimmed(text, start, end)
    return kept


SEPARATORS = " \t\r\n;,"


def trimmed(text, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) without separators at either end: no span if nothing else is left."""
    piece = text[start:end]
    if isinstance(piece, bytes):
        piece = piece.decode("latin-1")
    stripped = piece.strip(SEPARATORS)
    if not stripped:
        return []
    start += len(piece) - len(piece.lstrip(SEPARATORS))
    return [(start, start + len(stripped))]


def fingerprints_in(text, is_bytes: bool) -> list[tuple[int, int]]:
    if (REDACTED_PREFIX.encode() if is_bytes else REDACTED_PREFIX) not in text:
        return []
    return [found.span() for found in (FINGERPRINT_BYTES if is_bytes else FINGERPRINT).finditer(text)]


def unescaped(secret: str) -> str:
    """A secret as it would be written without JSON's escapes, at whatever depth (a PEM key's `\\n`, or `\\\\n` in a
    tool call's arguments), so that it gets the same fingerprint wherever it appears."""
    for _ in range(8):
        if "\\" not in secret:
            break
        try:
            secret = json.loads(f'"{secret}"')
        except ValueError:
            break
    return secret
