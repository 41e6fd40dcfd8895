"""The live page's timeline before the run ends: the time model as it would be if the run ended at the last exchange
read, made again as the run grows at a bounded cost, and never changing what the run's own model will be."""

import time
from typing import Any

CHEAP = 0.01  # seconds: a model made this fast is made again for every exchange
SHARE = 10  # a slower one at most once a second, and for at most 1/SHARE of the time


class TimeSoFar:
    """The provisional span and time records for the header of a reading (probe.analysis.report.RunReading) not yet
    finished, made again when `stale` passes and the run read more exchanges; used under the live data's lock."""

    def __init__(self, reading: Any) -> None:
        self.reading = reading
        self.made_for = -1  # the exchanges read when it was made
        self.made_at = float("-inf")
        self.cost = 0.0
        self.records: dict | None = None  # the page's spans and times of the model last made

    def wait(self, exchanges: int) -> float | None:
        """Seconds until the model may be made again for `exchanges`; None if it is current."""
        if exchanges == self.made_for:
            return None
        gap = 0.0 if self.cost < CHEAP else max(1.0, SHARE * self.cost)
        return max(0.0, self.made_at + gap - time.monotonic())

    def header_insight(self, exchanges: int, manifest: dict | None) -> dict | None:
        """The header's `insight` with the model so far (`provisional`: true), made again if it may be; None when
        none could be made (more intervals than the page holds: the page draws the turns' own times)."""
        if self.wait(exchanges) == 0.0:
            began = time.monotonic()
            # (The page's bound is the insight lines' own, not imported: importing them would stack the live viewer's
            # imports a level deeper.)
            found = self.reading.totals.insight.time_so_far(manifest, self.reading.insight.page_spans)
            self.records = None if found is None else self.reading.insight.kept_beside(found)
            self.made_for, self.made_at = exchanges, time.monotonic()
            self.cost = self.made_at - began
        if self.records is None:
            return None
        return {**self.reading.insight.kept, **self.records, "provisional": True}
