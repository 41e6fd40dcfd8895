"""A one-line progress indication on stderr, for long analyses run at a terminal."""

import sys
import time
from pathlib import Path

INTERVAL = 0.5  # seconds between updates


class Progress:
    def __init__(self, path: Path):
        self.total = max(path.stat().st_size, 1)
        self.done = 0
        self.shown_at = 0.0
        self.started = time.monotonic()

    def advance(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now - self.shown_at >= INTERVAL:
            self.shown_at = now
            megabytes = self.done / 1e6
            rate = megabytes / max(now - self.started, 1e-6)
            sys.stderr.write(
                f"\ranalysing: {megabytes:,.0f} of {self.total / 1e6:,.0f} MB "
                f"({100 * self.done / self.total:.0f}%, {rate:,.0f} MB/s)"
            )
            sys.stderr.flush()

    def finish(self) -> None:
        if self.shown_at:
            sys.stderr.write("\r\033[K")  # clear the line, so the report path prints cleanly
            sys.stderr.flush()
