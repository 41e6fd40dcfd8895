"""Decodes a body from its Content-Encoding: bounded in size, and as far as a cut-off stream goes.

mitmproxy's own decoding raises on a stream that was cut off, and builds whatever a decompression bomb
expands to. Loaded beside the capture addon by `mitmdump -s`, so it imports no `probe` module; `brotli` and
`zstandard` are the project's own dependencies (mitmproxy 12.3 no longer brings zstandard).
"""

import zlib
from dataclasses import dataclass

import brotli
import zstandard


@dataclass
class Decoded:
    data: bytes  # the decoded bytes, as far as decoding went (the original bytes when past the cap)
    complete: bool  # the whole body decoded cleanly
    note: str | None  # why not, in one line
    too_large: bool = False  # it decodes past the cap: the original bytes are kept


class TooLarge(Exception):
    pass


def decode_body(data: bytes, content_encoding: str, cap: int) -> Decoded:
    """Decode a body from its Content-Encoding (right to left when chained), never holding more than `cap`
    decoded bytes. A cut-off stream is decoded as far as it goes; past the cap the original bytes are kept."""
    names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
    current, notes = data, []
    for name in reversed(names):
        if name == "identity":
            continue
        decoder = DECODERS.get(name)
        if decoder is None:
            return Decoded(data, False, f"{content_encoding}: an encoding this tool cannot decode; kept as sent")
        try:
            current, complete = decoder(current, cap)
        except TooLarge:
            return Decoded(data, False, f"{name}: decoded size passed the {cap:,}-byte cap; kept as sent", True)
        if not complete:
            notes.append(f"{name}: the stream is cut off or damaged; decoded {len(current):,} bytes")
            return Decoded(current, False, "; ".join(notes))
    return Decoded(current, True, None)


def decode_zlib(data: bytes, cap: int, wbits: int) -> tuple[bytes, bool]:
    """gzip (possibly several members) or zlib/deflate, in bounded steps."""
    chunks, size, complete = [], 0, True
    remaining = data
    while remaining:
        decompressor = zlib.decompressobj(wbits)
        buffer = remaining
        try:
            while buffer:
                chunk = decompressor.decompress(buffer, 1 << 20)
                size += len(chunk)
                if size > cap:
                    raise TooLarge
                chunks.append(chunk)
                buffer = decompressor.unconsumed_tail
                if decompressor.eof:
                    break
            if not decompressor.eof:
                tail = decompressor.flush()
                if size + len(tail) > cap:
                    raise TooLarge
                chunks.append(tail)
                complete = False
                break
        except zlib.error:
            complete = False
            break
        remaining = decompressor.unused_data
        if remaining and remaining.strip(b"\0") == b"":
            break  # padding after the last member
    return b"".join(chunks), complete


def decode_gzip(data: bytes, cap: int) -> tuple[bytes, bool]:
    return decode_zlib(data, cap, 16 + zlib.MAX_WBITS)


def decode_deflate(data: bytes, cap: int) -> tuple[bytes, bool]:
    decoded, complete = decode_zlib(data, cap, zlib.MAX_WBITS)
    if complete or decoded:
        return decoded, complete
    return decode_zlib(data, cap, -zlib.MAX_WBITS)  # servers often send raw deflate, without the zlib header


class Sliced:
    """Feeds a decompressor without an output limit (brotli, zstd) in slices of input that start at 16 bytes
    and grow while each call's output stays small: one input byte can expand to megabytes (a bomb), and the
    cap is checked between calls."""

    def __init__(self, cap: int):
        self.cap, self.size, self.chunks, self.step = cap, 0, [], 16

    def feed(self, process, data: bytes) -> None:
        position = 0
        while position < len(data):
            chunk = process(data[position : position + self.step])
            position += self.step
            self.size += len(chunk)
            if self.size > self.cap:
                raise TooLarge
            self.chunks.append(chunk)
            self.step = min(self.step * 2, 1 << 16) if len(chunk) < (1 << 16) else max(self.step // 2, 16)

    def result(self) -> bytes:
        return b"".join(self.chunks)


def decode_brotli(data: bytes, cap: int) -> tuple[bytes, bool]:
    decompressor, sliced = brotli.Decompressor(), Sliced(cap)
    try:
        sliced.feed(decompressor.process, data)
    except brotli.error:
        return sliced.result(), False
    return sliced.result(), decompressor.is_finished()


def decode_zstd(data: bytes, cap: int) -> tuple[bytes, bool]:
    """One frame after another; complete only if the input ends exactly where a frame does."""
    sliced, remaining = Sliced(cap), data
    while remaining:
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            sliced.feed(decompressor.decompress, remaining)
        except zstandard.ZstdError:
            return sliced.result(), False
        if not decompressor.eof:
            return sliced.result(), False
        remaining = decompressor.unused_data
    return sliced.result(), True


DECODERS = {
    "gzip": decode_gzip,
    "x-gzip": decode_gzip,
    "deflate": decode_deflate,
    "br": decode_brotli,
    "zstd": decode_zstd,
}
