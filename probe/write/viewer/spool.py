"""A JSON array written element by element for the viewer's data: in memory up to a bound, then on disk."""

import shutil
import tempfile
import threading
from array import array
from typing import BinaryIO

from probe.write.viewer.inert import inert

IN_MEMORY = 8 * 1024 * 1024  # bytes of the page's data kept in memory before spilling to disk


class Spool:
    """A JSON array written element by element, each as inert JSON, in memory up to IN_MEMORY then on disk:
    the page's data is not held as objects until the end, so memory stays flat however large the capture.

    It keeps where each element starts (8 bytes an element), so that elements can be read back while more are
    added (the live viewer asks for those added since a count; a page too large to hold whole keeps some turns
    and the values they name): a lock keeps the reading and the adding apart."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(IN_MEMORY, "w+b")  # noqa: SIM115 (closed by write_to)
        self.count = 0
        self.size = 0  # bytes written
        self.starts = array("q")
        self.lock = threading.Lock()

    def append(self, text: bytes) -> None:
        """Add one element, given as its JSON (made inert here)."""
        text = inert(text)
        with self.lock:
            if self.count:
                self.file.write(b",")
                self.size += 1
            self.starts.append(self.size)
            self.file.write(text)
            self.size += len(text)
            self.count += 1

    def write_to(self, out: BinaryIO) -> None:
        out.write(b"[")
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, 1 << 20)
        out.write(b"]")
        self.file.close()

    def span(self, first: int, upto: int) -> tuple[int, int]:
        """Where elements first to upto (not included) are, in bytes."""
        with self.lock:
            if first >= upto:
                return 0, 0
            end = self.starts[upto] - 1 if upto < self.count else self.size  # (before the comma that follows)
            return self.starts[first], end

    def copy_elements(self, out: BinaryIO, first: int, upto: int) -> None:
        """Elements first to upto (not included) as a JSON array, into `out`, leaving the spool as it was: what
        was written never changes, so it is read a chunk at a time while more is added."""
        out.write(b"[")
        self.copy_span(out, *self.span(first, upto))
        out.write(b"]")

    def copy_span(self, out: BinaryIO, position: int, end: int) -> None:
        """The bytes from `position` to `end`, into `out`, a chunk at a time."""
        while position < end:
            with self.lock:
                writing_at = self.file.tell()
                self.file.seek(position)
                chunk = self.file.read(min(1 << 20, end - position))
                self.file.seek(writing_at)
            out.write(chunk)
            position += len(chunk)

    def element(self, index: int) -> bytes:
        """One element's JSON, as it was added (inert)."""
        position, end = self.span(index, index + 1)
        with self.lock:
            writing_at = self.file.tell()
            self.file.seek(position)
            text = self.file.read(end - position)
            self.file.seek(writing_at)
        return text

    def element_size(self, index: int) -> int:
        position, end = self.span(index, index + 1)
        return end - position
