"""The body of one export request, read strictly: by a Content-Length of plain digits or in chunks whose sizes are
plain hex, never past the limit, and a body cut off is said so; then its Content-Encoding undone, bounded."""

import re

from probe.common.decoding import decode_body

DIGITS = re.compile(rb"[0-9]{1,20}")
HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")  # what a chunk's size may be: not -1, +10, 0x10, " 10" nor 1_0
LINE = 1024  # bytes of a chunk's size line (with its extensions) or a trailer


class BodyError(ValueError):
    """Why a body was not read; `too_large`: over the limit (413), else malformed or cut off (400)."""

    def __init__(self, why: str, too_large: bool = False):
        super().__init__(why)
        self.too_large = too_large


def read_body(stream, headers, limit: int) -> bytes:
    """The request's body, by its Content-Length or in chunks (Node's exporters send chunks)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return read_chunks(stream, limit)
    length = headers.get("content-length", "").strip().encode("latin-1", "replace")
    if not DIGITS.fullmatch(length):
        raise BodyError("neither a Content-Length nor chunks")
    size = int(length)
    if size > limit:
        raise BodyError(f"{size:,} bytes, over the {limit:,}-byte limit", too_large=True)
    return exactly(stream, size, 0)


def read_chunks(stream, limit: int) -> bytes:
    """A chunked body, its chunks joined."""
    parts, size = [], 0
    while True:
        line = stream.readline(LINE)
        if not line.endswith(b"\n"):
            raise BodyError("a chunk's size line cut off" if len(line) < LINE else "a chunk's size line too long")
        digits = line.split(b";", 1)[0].rstrip(b"\r\n")
        if not HEX.fullmatch(digits):
            raise BodyError("a chunk's size that is not plain hex")
        length = int(digits, 16)
        if length == 0:
            for _ in range(100):  # trailers, unused
                if stream.readline(LINE) in (b"\r\n", b"\n", b""):
                    return b"".join(parts)
            raise BodyError("more trailers than a body has")
        if size + length > limit:
            raise BodyError(f"over the {limit:,}-byte limit", too_large=True)
        parts.append(exactly(stream, length, size))
        size += length
        if stream.readline(3) not in (b"\r\n", b"\n"):
            raise BodyError("a chunk longer than its size")


def exactly(stream, size: int, before: int) -> bytes:
    """`size` bytes, or a BodyError saying where the body was cut off (`before`: the bytes read before these)."""
    data = stream.read(size)
    if len(data) < size:
        raise BodyError(f"cut off after {before + len(data):,} bytes: the client went away or the run ended")
    return data


def unpacked(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body as sent, its Content-Encoding undone by the project's bounded decoding (probe.common.decoding),
    never past `limit` bytes: a small bomb stays small."""
    decoded = decode_body(body, content_encoding, limit)
    if decoded.too_large:
        raise BodyError(f"over the {limit:,}-byte limit once unpacked", too_large=True)
    if not decoded.complete:
        raise BodyError(decoded.note or f"{content_encoding[:40]}: not decoded")
    return decoded.data
