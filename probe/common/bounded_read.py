"""Reads a small file (a target file, a price file) no further than a size limit."""

from pathlib import Path


def read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None if it holds more than `limit`: it is read no further, so that a FIFO or a huge
    file cannot hold us up. An OSError is the caller's to word."""
    with path.open("rb") as file:
        data = file.read(limit + 1)
    return data if len(data) <= limit else None
