"""A large streamed body kept in an unnamed file while it passes: hashed, sized and checked as UTF-8 on the way,
then read back (a compressed body, decoded whole; or, where no body file can be made, in segments cut after a
line end, so that a secret is not cut in two). Other large bodies go to probe.capture.recorder.body_file.

The file is created unlinked, so a crash or a kill leaves nothing behind, and the unmasked body never has a name
on disk. Loaded beside the capture addon by `mitmdump -s`: only the standard library is imported.
"""

import codecs
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator

SEGMENT = 1 << 20  # bytes masked and written at a time: a few copies of one segment is all the memory used
TAIL = 1 << 20  # the end of the body searched for a terminal event (codex's last event holds the whole answer)


class Spool:
    """The body's bytes as they arrived, with their sha256, size and whether they are all UTF-8."""

    def __init__(self, folder: str) -> None:
        self.fd = open_unnamed(folder)
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.is_utf8 = True
        self.failed: OSError | None = None  # a write that failed (a full disk): the body cannot be stored whole

    def add_all(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.add(chunk)

    def add(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        if self.is_utf8:
            try:
                self.utf8.decode(data)
            except UnicodeDecodeError:
                self.is_utf8 = False
        self.failed = write_unless_failed(self.fd, data, self.failed)

    def finish(self) -> None:
        """The body has ended: a character cut off at the very end makes it not UTF-8."""
        if self.is_utf8:
            try:
                self.utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                self.is_utf8 = False

    def segments(self, cut_at_lines: bool) -> Iterator[bytes]:
        """The body again, in segments of at most about twice SEGMENT bytes; text is cut after its last line end
        (else after a JSON string's end, else a comma), so that a token, a header line or an SSE event stays whole
        in one segment. Only a segment with none of them is cut where it ends."""
        offset, carry = 0, b""
        while True:
            data = os.pread(self.fd, SEGMENT, offset)
            offset += len(data)
            if not data:
                if carry:
                    yield carry
                return
            data = carry + data if carry else data
            cut = text_cut(data) if cut_at_lines else len(data)
            yield data[:cut]
            carry = data[cut:]

    def tail(self) -> bytes:
        """The body's last bytes, where a stream's terminal event is."""
        return os.pread(self.fd, TAIL, max(self.size - TAIL, 0))

    def read_all(self) -> bytes:
        """The whole body in memory: for the rare large body that must be decoded whole (a compressed one)."""
        pieces, offset = [], 0
        while data := os.pread(self.fd, SEGMENT * 8, offset):
            pieces.append(data)
            offset += len(data)
        return b"".join(pieces)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def text_cut(data: bytes) -> int:
    """Where to cut a segment of text: after its last line end, else after its last `",` (the end of a JSON
    string), else after its last comma; a segment with none of them is cut where it ends."""
    for separator in (b"\n", b'",', b","):
        position = data.rfind(separator)
        if position >= 0:
            return position + len(separator)
    return len(data)


def write_unless_failed(fd: int, data: bytes, failed: OSError | None) -> OSError | None:
    """Write `data` unless an earlier write failed (a full disk): the body is then lost whole, and the first
    failure is what is reported."""
    if failed is None:
        try:
            write_all(fd, data)
        except OSError as error:
            return error
    return failed


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def open_unnamed(folder: str) -> int:
    """A file with no name in `folder` (the run folder: the same disk as the capture), or in the system's
    temporary folder; where unnamed files are not supported, one named privately and unlinked at once."""
    for place in (folder, tempfile.gettempdir()):
        with contextlib.suppress(OSError, AttributeError):
            return os.open(place, os.O_TMPFILE | os.O_RDWR, 0o600)
    fd, path = tempfile.mkstemp(prefix=".probe-spool-", dir=folder if os.path.isdir(folder) else None)
    os.unlink(path)
    return fd
