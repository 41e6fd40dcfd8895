"""Finds literal needles in bytes in one pass of a Hyperscan automaton, at memory speed, where the `hyperscan`
package is installed: every place of every needle (as the slower finders of probe.redact.needle_scan report
them), or only whether any is there at all; and tells whether any of a set of regular expressions may match.

Optional, like RE2: the capture addon loads this under any mitmdump, and `automaton` is then None.
"""

import contextlib
import os
import tempfile
import threading
from pathlib import Path

try:
    import hyperscan
except ImportError:  # the slower finders find the same places
    hyperscan = None


class Automaton:
    """One compiled set of needles; each thread scans with its own scratch space (Hyperscan's rule)."""

    def __init__(self, needles: list[tuple[bytes, bool]]) -> None:
        self.lengths = [len(needle) for needle, _ in needles]
        self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        # Each needle byte by byte as an escape: a needle is a literal, whatever it holds.
        expressions = [b"".join(b"\\x%02x" % byte for byte in needle) for needle, _ in needles]
        # Ignoring case folds ASCII letters only, as bytes.lower() does (the needle is given in lowercase).
        flags = [hyperscan.HS_FLAG_CASELESS if ignore_case else 0 for _, ignore_case in needles]
        self.database.compile(expressions=expressions, ids=list(range(len(needles))), flags=flags)
        self.local = threading.local()

    def scratch(self):
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = hyperscan.Scratch(self.database)
        return scratch

    def positions(self, text: bytes) -> dict[int, list[int]]:
        """For each needle found (by its index), every place where it starts, overlapping ones included, in order.
        Hyperscan reports each needle at each place it ends, in the order of those ends."""
        found: dict[int, list[int]] = {}
        lengths = self.lengths

        def each(index: int, start: int, end: int, flags: int, context) -> None:
            places = found.get(index)
            if places is None:
                places = found[index] = []
            places.append(end - lengths[index])

        if text:
            self.database.scan(bytes(text), match_event_handler=each, scratch=self.scratch())
        return found

    def any_in(self, text: bytes) -> bool:
        """Whether any needle is in the text: the scan stops at the first."""
        seen = []

        def first(index: int, start: int, end: int, flags: int, context) -> bool:
            seen.append(index)
            return True  # stop here

        if text:
            with contextlib.suppress(hyperscan.ScanTerminated):  # (stopped at the first, as asked)
                self.database.scan(bytes(text), match_event_handler=first, scratch=self.scratch())
        return bool(seen)


def automaton(needles: list[tuple[bytes, bool]]) -> Automaton | None:
    """The needles compiled, or None without Hyperscan (or on a machine it cannot compile for)."""
    if hyperscan is None or not needles:
        return None
    try:
        return Automaton(needles)
    except Exception:  # a CPU without the instructions it needs, a library that will not load: found otherwise
        return None


class PatternSet:
    """Whether any of a set of regular expressions may match a text, in one pass: compiled in Hyperscan's prefilter
    mode, which may say yes where none matches, but never no where one does (reading them as PCRE does)."""

    def __init__(self, database) -> None:
        self.database = database
        self.local = threading.local()

    def may_match(self, text: bytes) -> bool:
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = hyperscan.Scratch(self.database)
        seen = []

        def first(index: int, start: int, end: int, flags: int, context) -> bool:
            seen.append(index)
            return True  # stop here

        with contextlib.suppress(hyperscan.ScanTerminated):
            self.database.scan(bytes(text), match_event_handler=first, scratch=scratch)
        return bool(seen)


PREFILTER = (
    (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY) if hyperscan else 0
)


def pattern_set(patterns: list[str], cache: Path) -> PatternSet | None:
    """The patterns compiled (seconds for hundreds), or loaded from `cache` where an earlier process left them
    compiled; None without Hyperscan, or if any pattern cannot be compiled (a prefilter must cover them all)."""
    if hyperscan is None or not patterns:
        return None
    cache = cache.with_name(f"{cache.name}-hyperscan-{hyperscan.__version__}.db")
    with contextlib.suppress(Exception):  # missing, from another machine or version: compiled again
        return PatternSet(hyperscan.loadb(cache.read_bytes(), hyperscan.HS_MODE_BLOCK))
    try:
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[pattern.encode() for pattern in patterns],
            ids=list(range(len(patterns))),
            flags=[PREFILTER] * len(patterns),
        )
    except Exception:
        return None
    with contextlib.suppress(OSError, hyperscan.HyperscanError):  # written whole or not at all; else compiled next time
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache.parent, delete=False) as out:
            out.write(hyperscan.dumpb(database))
        os.replace(out.name, cache)
    return PatternSet(database)
