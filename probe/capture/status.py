"""The capture addon's status pipe: each recording problem it reports, one line each."""

import os
from pathlib import Path


class StatusReader:
    """The read end of the pipe on which the capture addon reports recording problems, one line each.

    A pipe, not a file: when the disk is full, a file could not carry the news that the disk is full.
    """

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self.pending = b""
        self.errors = 0
        self.fatal: str | None = None

    def read(self) -> None:
        if self.fd < 0:
            return
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            self.pending += data
            *lines, self.pending = self.pending.split(b"\n")
            for line in lines:
                self.take(line.decode("utf-8", "replace"))

    def take(self, line: str) -> None:
        kind, _, message = line.partition(" ")
        if kind == "recording-error":
            self.errors += 1
        elif kind == "fatal":
            self.errors += 1
            self.fatal = self.fatal or message

    def close(self) -> None:
        self.read()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def last_log_line(log: Path | None) -> str:
    if log is None or not log.is_file():
        return "no log"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
