"""One exchange's JSON line as bytes: written whole for an ordinary exchange (or one whose large body is in its
own file), or in pieces around a spooled body that is masked and escaped one segment at a time, so that the line
is never built in memory (where no body file could be made).

Loaded beside the capture addon by `mitmdump -s`: it imports nothing of `probe` but its siblings, and uses orjson
where it is installed (about three times faster than the standard library at writing a body as a JSON string).
"""

import base64
import json
import secrets
from collections.abc import Iterator

try:
    import orjson
except ImportError:  # a mitmdump installed on its own, without our dependencies
    orjson = None

from probe.capture.recorder.spool import Spool
from probe.redact import masking as redaction
from probe.redact.replacing import fingerprints_of
from probe.redact.stream_pieces import EventStream

# Stands in for the spooled body while the rest of the record is written; random, so that no captured text can
# be mistaken for it.
PLACEHOLDER = f"\x00spooled-body-{secrets.token_hex(16)}\x00"


def dumps(value) -> bytes:
    """A value as compact JSON in UTF-8, the way every line of traffic.jsonl is written."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            pass  # lone surrogates, an integer past 64 bits, or nesting orjson refuses: the standard library's way
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from JSON escapes) are not valid UTF-8; ASCII escapes keep them.
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def line(record: dict) -> bytes:
    return dumps(record) + b"\n"


def spooled_line(record: dict, spool: Spool, masking: bool) -> Iterator[bytes]:
    """The pieces of a line whose `response.body` is PLACEHOLDER (its response object's last field), the body
    itself read from `spool`: masked unless `masking` is off, as text if it is all UTF-8, else as base64."""
    head, found, tail = dumps(record).partition(dumps(PLACEHOLDER))
    if not found:
        raise ValueError("the record has no place for its body")
    as_text = spool.is_utf8
    yield head + b'"'
    masked = 0
    pieces = text_pieces(spool, masking) if as_text else base64_pieces(spool, masking)
    for piece, count in pieces:
        masked += count
        yield piece
    # The body is its response's last field, so its count of masked values can follow it there.
    yield b'"' + (b',"redacted_tokens":%d' % masked if masked else b"") + tail + b"\n"


def text_pieces(spool: Spool, masking: bool) -> Iterator[tuple[bytes, int]]:
    events = EventStream()
    for segment in spool.segments(cut_at_lines=True):
        count = 0
        if masking:
            # As a text body is masked (a large body is never parsed whole): token shapes, then the secret-named
            # fields of its JSON lines (SSE events, NDJSON), or of a long JSON line's `"name": value` pairs; then
            # the secrets that cross events, the last events held back until what follows them has come.
            masked, count = redaction.mask_text_lines(segment)
            segment = events.feed(masked, fingerprints_of(masked) - fingerprints_of(segment) if count else frozenset())
        yield escaped(segment.decode("utf-8", "surrogateescape")), count
    if masking:
        yield escaped(events.finish().decode("utf-8", "surrogateescape")), events.count


def base64_pieces(spool: Spool, masking: bool) -> Iterator[tuple[bytes, int]]:
    carry = b""
    for segment in spool.segments(cut_at_lines=False):
        count = 0
        if masking:
            segment, count = redaction.mask_bytes(segment)
        data = carry + segment
        whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups joins up with the next piece's
        carry = data[whole:]
        yield base64.b64encode(data[:whole]), count
    if carry:
        yield base64.b64encode(carry), 0


def escaped(text: str) -> bytes:
    """The inside of a JSON string holding `text`."""
    if orjson is not None:
        try:
            return orjson.dumps(text)[1:-1]
        except orjson.JSONEncodeError:
            pass  # lone surrogates (bytes that were not UTF-8, kept by surrogateescape)
    return json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogateescape")[1:-1]
