"""Whether a report or viewer page just written says the same as the one it replaces, apart from when it was
generated."""

import itertools
from pathlib import Path

from probe.write.report_header import GENERATED_AT
from probe.write.viewer.page import GENERATED

COMPARED_AT_ONCE = 1 << 20  # bytes of a line compared at a time: a page's data is one line of many megabytes


def same_apart_from(old: Path, new: Path, generated: bytes) -> bool:
    with old.open("rb") as first, new.open("rb") as second:
        # Both are read in the same pieces while they agree; the generated line, far shorter, is read whole.
        pieces_of_old = iter(lambda: first.readline(COMPARED_AT_ONCE), b"")
        pieces_of_new = iter(lambda: second.readline(COMPARED_AT_ONCE), b"")
        for line_of_old, line_of_new in itertools.zip_longest(pieces_of_old, pieces_of_new):
            if line_of_old != line_of_new and not (
                line_of_old and line_of_new and line_of_old.startswith(generated) and line_of_new.startswith(generated)
            ):
                return False
    return True


def same_report(old: Path, new: Path) -> bool:
    """Whether two reports say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED_AT.encode())


def same_page(old: Path, new: Path) -> bool:
    """Whether two viewer pages say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED)
