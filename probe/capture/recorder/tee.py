"""A response stream passed on unchanged while its body and timings are kept, in memory or, past a size, in a spool."""

import collections
import concurrent.futures
import time
from collections.abc import Callable

from probe.capture.recorder import spool as capture_spool
from probe.capture.recorder.body_file import BodyFile

TIMINGS_KEPT, TIMING_GAP = 1000, 0.01  # chunk timings kept one by one, then the gap (s) that starts a new entry
SPOOL_THRESHOLD = 8 << 20  # bytes of response body above which it is kept on disk, not in memory
SPOOL_BATCH = 1 << 20  # bytes of chunks handed to the spool at a time
SPOOL_BACKLOG = 16  # batches waiting for the spooler before the stream waits for it (memory stays bounded)


class Tee:
    """A `flow.response.stream` callable: passes each chunk on unchanged, keeping the body and when it arrived.

    A body stays in memory until it passes `spool_threshold`; from then on it goes to disk, written by the spooler
    thread in batches, so that neither memory nor the event loop pays for a large body: to its body file
    (`body_file` makes one), else (a compressed body, which is decoded whole) to an unnamed spool.
    """

    def __init__(
        self,
        spool_threshold: int = 0,
        spool_folder: str = "",
        spooler=None,
        body_file: Callable[[], BodyFile] | None = None,
    ) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.timings: list[list[float]] = []  # [arrival time, bytes since the previous entry], thinned
        self.first_arrival: float | None = None
        self.last_arrival: float | None = None
        self.ended_at: float | None = None
        self.spool: capture_spool.Spool | BodyFile | None = None
        self.spool_threshold, self.spool_folder, self.spooler = spool_threshold, spool_folder, spooler
        self.body_file = body_file
        self.spooling: collections.deque[concurrent.futures.Future] = collections.deque()  # batches handed over
        self.unspooled = 0  # bytes in `chunks` not yet handed to the spool

    def __call__(self, data: bytes) -> bytes:
        now = time.time()
        if not data:
            self.ended_at = now  # mitmproxy signals the end of the body with an empty chunk
            return data
        self.size += len(data)
        self.note_arrival(now, len(data))
        self.chunks.append(data)
        if self.spool is None and self.spool_threshold and self.size > self.spool_threshold:
            self.spool = self.new_spool()
        if self.spool is not None:
            self.unspooled += len(data)
            if self.unspooled >= SPOOL_BATCH:
                self.hand_to_spool()
        return data

    def new_spool(self) -> "capture_spool.Spool | BodyFile":
        if self.body_file is not None:
            try:
                return self.body_file()
            except OSError:
                pass  # no bodies/ folder can be made (a read-only run folder): kept unnamed, and written in the line
        return capture_spool.Spool(self.spool_folder)

    def note_arrival(self, now: float, size: int) -> None:
        """Every chunk's time for the first TIMINGS_KEPT; after that a chunk joins the previous entry unless a
        gap has passed, and the gap doubles with every TIMINGS_KEPT entries: a 500 MB stream is not 30,000 entries."""
        if self.first_arrival is None:
            self.first_arrival = now
        self.last_arrival = now
        kept = len(self.timings)
        if kept >= TIMINGS_KEPT and now - self.timings[-1][0] < TIMING_GAP * 2 ** (kept // TIMINGS_KEPT - 1):
            self.timings[-1][0] = now
            self.timings[-1][1] += size
        else:
            self.timings.append([now, size])

    def hand_to_spool(self) -> None:
        """The chunks so far go to the spool: in the spooler thread when there is one, which keeps their hashing
        and writing off the event loop."""
        batch, self.chunks, self.unspooled = self.chunks, [], 0
        if self.spooler is None:
            self.spool.add_all(batch)
            return
        self.spooling.append(self.spooler.submit(self.spool.add_all, batch))
        while self.spooling and self.spooling[0].done():
            self.spooling.popleft()
        if len(self.spooling) > SPOOL_BACKLOG:
            # The disk (or a busy machine) is slower than the stream: the stream waits, rather than memory grow.
            self.spooling.popleft().result()

    def finish(self) -> None:
        if self.spool is not None and self.chunks:
            self.hand_to_spool()

    def wait_for_spool(self) -> None:
        """Every chunk is in the spool (called from the writer thread, before the body is read back)."""
        while self.spooling:
            self.spooling.popleft().result()

    def body(self) -> bytes:
        """The whole body held in memory, joined once (a stream must not be copied again for every use)."""
        if len(self.chunks) > 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0] if self.chunks else b""
