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

    `indexed` keeps where each element starts (8 bytes an element), so that the elements added since a count can
    be read back while more are added (the live viewer); a lock keeps the reading and the adding apart."""

    def __init__(self, indexed: bool = False) -> None:
        self.file = tempfile.SpooledTemporaryFile(IN_MEMORY, "w+b")  # noqa: SIM115 (closed by write_to)
        self.count = 0
        self.size = 0  # bytes written
        self.starts = array("q") if indexed else None
        self.lock = threading.Lock()

    def append(self, text: bytes) -> None:
        """Add one element, given as its JSON (made inert here)."""
        text = inert(text)
        with self.lock:
            if self.count:
                self.file.write(b",")
                self.size += 1
            if self.starts is not None:
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
        """Where elements first to upto (not included) are, in bytes; an indexed spool only."""
        assert self.starts is not None, "only an indexed spool knows where its elements start"
        with self.lock:
            if first >= upto:
                return 0, 0
            end = self.starts[upto] - 1 if upto < self.count else self.size  # (before the comma that follows)
            return self.starts[first], end

    def copy_elements(self, out: BinaryIO, first: int, upto: int) -> None:
        """Elements first to upto (not included) as a JSON array, into `out`, leaving the spool as it was: what
        was written never changes, so it is read a chunk at a time while more is added."""
        position, end = self.span(first, upto)
        out.write(b"[")
        while position < end:
            with self.lock:
                writing_at = self.file.tell()
                self.file.seek(position)
                chunk = self.file.read(min(1 << 20, end - position))
                self.file.seek(writing_at)
            out.write(chunk)
            position += len(chunk)
        out.write(b"]")
