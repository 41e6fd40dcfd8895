"""Finds literal needles in bytes in one pass of a Hyperscan automaton, at memory speed, where the `hyperscan`
package is installed: every place of every needle (as the slower finders of probe.redact.needle_scan report
them), or only whether any is there at all.

Optional, like RE2: the capture addon loads this under any mitmdump, and `automaton` is then None.
"""

import contextlib
import threading

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
