"""Reads a file of JSON lines one line at a time, with a bound on how much of one line is ever held."""

from collections.abc import Iterator

MAX_LINE_BYTES = 256 * 1024 * 1024  # one exchange; a longer line is skipped, not held (memory stays bounded)


def bounded_lines(file, limit: int, seen=None) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, the line or None if it is over the limit, its size): a longer line is read through in
    chunks and dropped, never held whole. `seen`, if given, gets every byte read (to hash the whole file)."""
    readline, number = file.readline, 0
    while True:
        raw = readline(limit + 1)
        if not raw:
            return
        number += 1
        if seen is not None:
            seen(raw)
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield number, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = readline(1 << 20)
            if not raw:
                break
            if seen is not None:
                seen(raw)
            size += len(raw)
        yield number, None, size
