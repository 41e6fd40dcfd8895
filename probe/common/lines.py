"""Reads a file of JSON lines one line at a time, with a bound on how much of one line is ever held."""

from collections.abc import Iterator

MAX_LINE_BYTES = 256 * 1024 * 1024  # one exchange; a longer line is skipped, not held (memory stays bounded)
# The buffer a capture is read through: its lines are tens of kilobytes, and through the default 8 KB one each took
# several reads and a join (reading the 311 MB growing capture line by line: 0.8 s, against 0.16 s through 1 MB).
READ_BUFFER = 1 << 20
HEAD = 64  # bytes kept of a line dropped


class BoundedLines:
    """(line number, the line or None if it is over the limit, its size): a longer line is read through in
    chunks and dropped, never held whole (`head` keeps its first HEAD bytes, which say what it was). `seen`, if
    given, gets every byte read (to hash the whole file).

    An iterator object rather than a generator: a generator's frame would hold the line it gave out until the next
    one is asked for, while its exchange is read, and a line of a hostile capture is hundreds of megabytes."""

    def __init__(self, file, limit: int, seen=None) -> None:
        self.readline, self.limit, self.seen, self.number = file.readline, limit, seen, 0
        self.head = b""  # the start of the last line dropped

    def __iter__(self) -> Iterator[tuple[int, bytes | None, int]]:
        return self

    def __next__(self) -> tuple[int, bytes | None, int]:
        raw = self.readline(self.limit + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        if self.seen is not None:
            self.seen(raw)
        if len(raw) <= self.limit or raw.endswith(b"\n"):
            return self.number, raw, len(raw)
        size, self.head = len(raw), raw[:HEAD]
        while not raw.endswith(b"\n"):
            raw = self.readline(1 << 20)
            if not raw:
                break
            if self.seen is not None:
                self.seen(raw)
            size += len(raw)
        return self.number, None, size
