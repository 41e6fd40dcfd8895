"""Follows a file another process appends to, and hands each new complete line to a function, from a thread."""

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

POLL = 0.1  # seconds between looks at the file
CHUNK = 1 << 20


class Follower:
    """Calls `take(line)` with each complete line (newline included) appended to `path` after it was opened
    (with `from_start`, every line from the first), or `take(None)` for a line longer than `limit` bytes, which is
    read through and never held whole.

    It only reads, from its own thread: the writer never waits for it. A failure (of the file, or of `take`)
    goes to `failed` once, and following stops.
    """

    def __init__(
        self,
        path: Path,
        take: Callable[[bytes | None], None],
        failed: Callable[[Exception], None],
        limit: int,
        poll: float = POLL,
        from_start: bool = False,
        humble: bool = True,
    ) -> None:
        self.take, self.failed, self.limit, self.poll, self.humble = take, failed, limit, poll, humble
        self.file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by the thread when it ends)
        # Unless asked for, what is there already is not new.
        self.position = self.file.seek(0, os.SEEK_SET if from_start else os.SEEK_END)
        self.line_start = self.position
        self.parts: list[bytes] = []
        self.held = 0  # bytes of the line so far, also those of an over-long line that were let go
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="probe-follow", daemon=True)

    def start(self) -> "Follower":
        self.thread.start()
        return self

    def stop(self, timeout: float) -> None:
        """Take what was appended up to now, then end (waiting at most `timeout` seconds for that)."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def run(self) -> None:
        if self.humble:  # (a follower someone watches, the live viewer, keeps its process's priority)
            yield_the_processor()
        try:
            while True:
                last = self.stopping.is_set()  # set before this read: it takes everything written until then
                self.read()
                if last:
                    return
                self.stopping.wait(self.poll)
        except Exception as error:  # a thread's exception would print a traceback: report it instead
            self.failed(error)
        finally:
            self.file.close()

    def read(self) -> None:
        if os.fstat(self.file.fileno()).st_size < self.position:
            self.rewind()
        while data := self.file.read(CHUNK):
            self.position += len(data)
            self.split(data)

    def rewind(self) -> None:
        """The writer cut a record it could not finish back off the file: drop what was read of it."""
        self.position = self.file.seek(min(self.line_start, os.fstat(self.file.fileno()).st_size))
        self.line_start, self.parts, self.held = self.position, [], 0

    def split(self, data: bytes) -> None:
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            self.hold(data[start : end + 1])
            self.finish_line()
            start = end + 1
        self.hold(data[start:])

    def hold(self, piece: bytes) -> None:
        self.held += len(piece)
        if self.held > self.limit:
            self.parts = []
        elif piece:
            self.parts.append(piece)

    def finish_line(self) -> None:
        line = None if self.held > self.limit else b"".join(self.parts)
        self.line_start += self.held
        self.parts, self.held = [], 0
        self.take(line)


def yield_the_processor() -> None:
    """Run this thread at the lowest priority (Linux schedules threads one by one): a follower is never in a
    hurry, and the writer, or anything else on the machine, must not wait for it."""
    with contextlib.suppress(AttributeError, OSError):  # elsewhere it runs at its process's priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
