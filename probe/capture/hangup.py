"""A terminal that hangs up during a run (its window closed, SIGHUP): the run ends as interrupted, and what would
have been written into the dead terminal goes to the run's terminal.log instead."""

import contextlib
import errno
import io
import os
import select
import signal
import sys
from pathlib import Path

LOG = "terminal.log"  # in the run folder: what was said after the terminal hung up
NOTE = f"the terminal hung up (its window closed, or SIGHUP): anything said once it was gone is in {LOG}"
EXIT_CODE = 128 + signal.SIGHUP  # as a shell reports a process ended by a hang-up
# What writing to a terminal that has gone says: EIO from a hung-up terminal, EPIPE and ENXIO from one whose
# other end is gone.
GONE = (errno.EIO, errno.EPIPE, errno.ENXIO)


def hung_up() -> bool:
    """Whether this process's terminal (its standard streams that were one) has hung up: a hung-up terminal
    reports POLLHUP or POLLERR to everyone who holds it open."""
    poller = select.poll()
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError, io.UnsupportedOperation):
            poller.register(stream.fileno(), select.POLLHUP | select.POLLERR)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


class Output:
    """This process's stdout and stderr, moved to the run's terminal.log once the terminal is gone, so that no write
    into it raises (a traceback into a closed window helps no one, and would cut the report short).

    `guard` wraps sys.stdout and sys.stderr: a write the terminal refuses moves both to the log and is written there.
    `move` moves them at once, at the file descriptors, so that what children write goes there too."""

    log: Path | None = None
    moved = False

    @classmethod
    def guard(cls, run: Path) -> None:
        """Guard sys.stdout and sys.stderr where either is a terminal (only a terminal hangs up)."""
        if not any(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr)):
            return
        cls.log = run / LOG
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, Guarded):
                setattr(sys, name, Guarded(stream))

    @classmethod
    def move_if_gone(cls) -> None:
        if hung_up():
            cls.move()

    @classmethod
    def move(cls) -> None:
        if cls.moved or cls.log is None:
            return
        cls.moved = True
        try:
            log = os.open(cls.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            log = os.open(os.devnull, os.O_WRONLY)  # the run folder is gone: nothing more is said anywhere
        for fd in (1, 2):
            os.dup2(log, fd)
        os.close(log)


def moved(error: OSError) -> None:
    """Move the output to the log if `error` says the terminal has gone; raise it otherwise."""
    if error.errno not in GONE:
        raise error
    Output.move()


class Guarded(io.TextIOBase):
    """A text stream that, when its terminal has gone, moves the output to the log (Output.move) and writes there."""

    def __init__(self, stream) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as error:
            # A terminal refuses the text as the stream flushes it: it is in the stream's buffer, which the flush
            # after the move writes to the log.
            moved(error)
            self.stream.flush()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as error:
            moved(error)
            self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return not Output.moved and self.stream.isatty()

    @property
    def encoding(self) -> str:
        return self.stream.encoding

    @property
    def errors(self) -> str | None:
        return self.stream.errors

    def writable(self) -> bool:
        return True
