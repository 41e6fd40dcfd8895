"""A body a recording keeps as decoded, though its Content-Encoding header stays (a HAR's content, a cassette's or
trace's text, a traffic.jsonl line's body not marked decoded), that may still be in that encoding: told apart, and
decoded when it is, so that masking sees what it holds and a key inside cannot be recovered from what is written."""

from collections.abc import Callable

from probe.common import decoding

# The first bytes of the encodings that have them: a body cut off part-way is taken as still encoded only by these
# (a decoded body mislabelled deflate or br can decode, part-way, into noise).
MAGIC = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


def undone(
    data: bytes, encoding: str, cap: int, told: Callable[[int], None] | None
) -> tuple[bytes, decoding.Decoded] | None:
    """The body's bytes still in `encoding` (they, or the text they are read as Latin-1, as some tools write bytes
    into text) and what they decode to (`too_large` past `cap`, which `told` is told); None when they are not in
    it."""
    encoding = encoding.strip().lower()
    magic = MAGIC.get(encoding.rsplit(",", 1)[-1].strip())
    for candidate in candidates(data):
        decoded = decoding.decode_body(candidate, encoding, cap)
        if decoded.too_large:
            if told is not None:
                told(cap)
            return candidate, decoded
        if decoded.data and (decoded.complete or (magic is not None and candidate.startswith(magic))):
            return candidate, decoded
    return None


def candidates(data: bytes) -> list[bytes]:
    """The body's bytes, then, where it is text of code points below 256, the bytes that text stands for."""
    try:
        latin = data.decode("utf-8").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return [data]
    return [data] if latin == data else [data, latin]
