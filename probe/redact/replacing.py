"""What replaces a secret, its fingerprint, and how found secrets are replaced: each once, and never a fingerprint
again."""

import bisect
import hashlib
import re

from probe.redact import escapes

REDACTED_PREFIX = "[REDACTED"
FINGERPRINT = re.compile(r"\[REDACTED sha256:[0-9a-f]{8}\]")


def fingerprint(value: str | bytes) -> str:
    """A stand-in for a secret that still tells whether two requests used the same one."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    return f"[REDACTED sha256:{hashlib.sha256(data).hexdigest()[:8]}]"


def is_fingerprint(text: str) -> bool:
    return FINGERPRINT.fullmatch(text) is not None


FINGERPRINT_BYTES = re.compile(FINGERPRINT.pattern.encode())


def replace_spans(text, spans: list[tuple[int, int]], is_bytes: bool):
    """Each secret (start, end) replaced by its fingerprint. Secrets that overlap are masked as one: a rule that
    reads too far (into a JSON escape, say) must not leave the rest of the next secret showing. A fingerprint
    already there is never masked again, in whole or in part."""
    masked_already = fingerprints_in(text, is_bytes)
    pieces, cursor, count = [], 0, 0
    for start, end in joined_spans(spans):
        if overlaps(masked_already, start, end):
            continue  # inside a secret already masked
        secret = text[start:end]
        shown = secret.decode("latin-1") if is_bytes else secret
        if shown.startswith(REDACTED_PREFIX):
            continue
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


def fingerprints_in(text, is_bytes: bool) -> list[tuple[int, int]]:
    if (REDACTED_PREFIX.encode() if is_bytes else REDACTED_PREFIX) not in text:
        return []
    return [found.span() for found in (FINGERPRINT_BYTES if is_bytes else FINGERPRINT).finditer(text)]


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether (start, end) overlaps one of `spans` (sorted, apart from each other)."""
    after = bisect.bisect_right(spans, (start, float("inf")))
    return any(
        start < other_end and end > other_start for other_start, other_end in spans[max(after - 1, 0) : after + 1]
    )


def unescaped(secret: str) -> str:
    """A secret as it would be written without JSON's escapes, at whatever depth (a PEM key's `\\n`, or `\\\\n` in a
    tool call's arguments), so that it gets the same fingerprint wherever it appears."""
    for _ in range(8):
        if "\\" not in secret:
            break
        decoded = escapes.decoded(secret)
        if decoded == secret:
            break
        secret = decoded
    return secret
