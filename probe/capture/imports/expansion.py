"""What one imported file may expand to: the lines an import writes are held, in total, to a bound set by the file's
size, and no body is decoded, nor YAML alias weighed, past what is left of it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from probe.common.counting import counted

# An imported file may be written out as this much, plus this many times its own size: room for compressed bodies
# decoded (JSON compresses tenfold, rarely more), never a decompression bomb's or alias bomb's thousandfold.
FLOOR = 16 * 2**20
FACTOR = 32


@dataclass
class Expansion:
    """The bound of one import, and how much of it the lines written so far took."""

    source_size: int
    used: int = 0  # bytes written, and bytes decoded in vain (a body past the decoding cap: kept as sent)
    stopped: str | None = None  # the line that says the import stopped at the bound, once it has

    @property
    def limit(self) -> int:
        return FLOOR + FACTOR * self.source_size

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)

    def takes(self, size: int) -> bool:
        """Whether a line of `size` bytes fits in what is left; counted if it does."""
        if size > self.left:
            return False
        self.used += size
        return True

    def decoded_in_vain(self, size: int) -> None:
        self.used += size

    def reached(self, where: str, entries: int) -> str:
        """The one line that says the import stopped at `where`, with `entries` lines written before it."""
        kept = (
            "the exchange before it is kept"
            if entries == 1
            else f"the {counted(entries, 'exchange')} before it are kept"
        )
        return (
            f"import stopped at {where}: the file would expand past {megabytes(self.limit)}, the most an imported "
            f"file may ({megabytes(FLOOR)} and {FACTOR} times its {megabytes(self.source_size)}); {kept}"
        )


CURRENT: ContextVar[Expansion | None] = ContextVar("expansion", default=None)


@contextmanager
def bounded(source_size: int) -> Iterator[Expansion]:
    """The import of a file of `source_size` bytes, bounded while it runs."""
    expansion = Expansion(source_size)
    token = CURRENT.set(expansion)
    try:
        yield expansion
    finally:
        CURRENT.reset(token)


def left() -> int | None:
    """Bytes the running import may still write (None: no import is bounded)."""
    expansion = CURRENT.get()
    return None if expansion is None else expansion.left


def megabytes(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size:,} bytes"
