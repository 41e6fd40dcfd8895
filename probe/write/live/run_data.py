"""A run's viewer data, grown line by line as its traffic.jsonl grows, read as report.html reads it (the report's
RunReading, handed in): what the page holds at a moment, and what was added since, without writing anything twice."""

import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from probe.analyse.cost import load_price_database
from probe.analyse.token_count import ENCODING, rust_counter
from probe.common.errors import one_line
from probe.read.traffic import exchange_of_line
from probe.redact.maintained import rule_set
from probe.runs.folders import load_manifest
from probe.write.live.time_so_far import TimeSoFar
from probe.write.viewer.inert import header_json


@dataclass(frozen=True)
class Snapshot:
    """The data at one moment: how many values and turns, the header then (inert JSON) and its version, and
    whether the run had ended."""

    counts: tuple[int, int]
    header: bytes
    version: int
    ended: bool


class LiveData:
    """Fed the run's traffic.jsonl a complete line at a time (`take`, from the follower's thread) until `end`; read
    at any time from the server's threads. Memory is bounded as report.html's writing bounds it (the values and
    turns wait in spools, on disk past a few MB), plus 8 bytes a value and a turn for where each starts."""

    def __init__(self, traffic: Path, reading: Any, warnings: list[str]) -> None:
        """`reading`: probe.analysis.report.RunReading, made by report.viewer_reading with the renderer and secrets the
        report would use; `warnings`: those met in choosing them."""
        self.traffic, self.run, self.reading, self.warnings = traffic, traffic.parent, reading, list(warnings)
        self.lock = threading.Lock()  # the reading's state (totals, insight) is read for the header meanwhile
        self.changed = threading.Condition(self.lock)  # told of each line taken and of the end, for waiting pages
        self.lines = 0  # lines of traffic.jsonl taken
        self.exchanges = 0
        self.ended = False
        self.header: tuple[int, bytes] | None = None  # (version, inert JSON), made again when the data changed
        self.time_so_far = TimeSoFar(reading)  # the timeline's model until the run's own is made, at its end
        self.refreshes = 0  # times the header was made again for that model alone (made later than its exchange)

    @property
    def page(self) -> Any:
        """The reading's probe.write.viewer.data.ViewerData."""
        return self.reading.page

    @staticmethod
    def warm_up() -> None:
        """Loads what reading the first exchange needs and would otherwise load then: the secret rules, the price
        database and the tokenizer (0.55 s together), so that the first exchange shows as soon as the others."""
        rule_set()
        load_price_database()
        rust_counter(ENCODING)

    def take(self, raw: bytes | None) -> None:
        """One complete line of traffic.jsonl; None for one over the size limit. A line that cannot be read costs
        a warning, as in the report, never the viewer."""
        with self.changed:
            self.changed.notify_all()  # (once the lock is let go, whatever this line brought is there)
            self.lines += 1
            exchange = exchange_of_line(raw, self.lines, None, self.exchanges + 1, self.warnings, self.run)
            del raw
            if exchange is None:
                return
            self.exchanges += 1
            try:
                self.reading.read(exchange, self.warnings)
            except Exception as error:  # the report would fail on it; the live page goes on without it
                why = one_line(f"{type(error).__name__}: {error}")[:300]
                self.warnings.append(f"line {self.lines}: could not be read ({why}); the report says more")

    def failed(self, error: Exception) -> None:
        """The follower stopped on an error of the file: the page says so, and ends."""
        with self.lock:
            self.warnings.append(f"the live viewer stopped reading traffic.jsonl: {type(error).__name__}: {error}")
        self.end()

    def end(self) -> None:
        """The run has ended and every line was taken: the run's last insight records (the agents, the run's
        totals) join the header, and the page stops asking for more."""
        with self.changed:
            if not self.ended:
                self.ended = True
                self.reading.finish()
                self.changed.notify_all()

    def version(self) -> int:
        """Changes whenever the header may have (held under the lock)."""
        return 2 * (self.lines + self.refreshes) + self.ended

    def wait(self, since: tuple[int, int], version: int, timeout: float) -> None:
        """Returns once there is something newer than `since` and `version`, the run has ended, or after `timeout`
        seconds: a page that asks is answered the moment a line is read, not at its next question."""
        with self.changed:
            # A timeline model put off (made at most so often) is made once it may be: the page is told then.
            due = None if self.ended else self.time_so_far.wait(self.exchanges)
            self.changed.wait_for(
                lambda: self.ended or self.version() != version or self.page.counts() != since,
                timeout if due is None else min(timeout, due),
            )
            if not self.ended and self.version() == version and self.time_so_far.wait(self.exchanges) == 0.0:
                self.refreshes += 1

    def snapshot(self) -> Snapshot:
        with self.lock:
            version = self.version()
            if self.header is None or self.header[0] != version:
                manifest, problem = load_manifest(self.run)  # as it is now: running, then how the run ended
                warnings = self.warnings + ([problem] if problem else [])
                header = self.reading.page_header(self.traffic, manifest, warnings)
                so_far = None if self.ended else self.time_so_far.header_insight(self.exchanges, manifest)
                self.header = version, header_json(header if so_far is None else {**header, "insight": so_far})
            return Snapshot(self.page.counts(), self.header[1], version, self.ended)

    def write_page_data(self, out: BinaryIO, snapshot: Snapshot) -> None:
        """All the data of `snapshot`, as report.html holds it."""
        self.page.write_part(out, snapshot.header, (0, 0), snapshot.counts)

    def news(self, since: tuple[int, int], version: int) -> bytes | None:
        """What was added after the counts `since` (values, turns) as JSON: {"version", "ended", "data": the values
        and turns added and the header (null if `version` is still current)}; None if `since` is more than the
        data holds."""
        snapshot = self.snapshot()
        if not all(0 <= have <= count for have, count in zip(since, snapshot.counts, strict=True)):
            return None
        out = io.BytesIO()
        ended = b"true" if snapshot.ended else b"false"
        out.write(b'{"version":%d,"ended":%s,"data":' % (snapshot.version, ended))
        header = snapshot.header if version != snapshot.version else b"null"
        self.page.write_part(out, header, since, snapshot.counts)
        out.write(b"}")
        return out.getvalue()
