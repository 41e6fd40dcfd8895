"""The capture addon's status pipe: the ports this run's mitmdump is bound to, and each recording problem."""

import os
import select
import subprocess
import time
from pathlib import Path

from probe.capture.ports import PortTaken, port_taken
from probe.common.errors import ProxyError

READY_TIMEOUT = 30.0


class StatusReader:
    """The read end of the pipe on which the capture addon reports, one line each, the ports it listens on once
    mitmproxy has bound them, and every recording problem.

    A pipe, not a file: when the disk is full, a file could not carry the news that the disk is full. And only
    this run's mitmdump holds its other end, so what comes through it is about this run's proxies alone.
    """

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self.pending = b""
        self.errors = 0
        self.fatal: str | None = None
        self.listening: set[int] | None = None  # the ports mitmdump is bound to, once it says so
        self.ended = False  # mitmdump closed its end: it has exited

    def read(self) -> None:
        if self.fd < 0:
            return
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not data:
                self.ended = True
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
        elif kind == "listening":
            self.listening = {int(word) for word in message.split() if word.isdigit()}

    def wait(self, seconds: float) -> None:
        """Wait up to `seconds` for more to read, then read it."""
        if self.fd >= 0 and not self.ended:
            select.select([self.fd], [], [], seconds)
        else:
            time.sleep(seconds)
        self.read()

    def close(self) -> None:
        self.read()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def wait_until_ready(
    process: subprocess.Popen, status: StatusReader, ports: dict[str, int], log: Path | None, since: int
) -> None:
    """Wait until the addon says, on the pipe only this mitmdump holds, that it is bound to every one of `ports`.

    Connecting to a port would prove nothing: it also succeeds when another run's mitmdump holds that port, and
    then this run's agent would talk to the other run's proxies. `since` is where this mitmdump's lines begin
    in `log`. Raises PortTaken when mitmdump could not bind a port.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    status.read()
    while status.listening is None:
        if process.poll() is not None:
            status.read()  # its last words, written before it exited
            if status.listening is None:
                raise start_failure(log, since)
            break
        if time.monotonic() > deadline:
            raise ProxyError(f"mitmdump did not start listening within {READY_TIMEOUT:.0f} s: {last_log_line(log)}")
        status.wait(0.05)
    missing = [str(port) for port in ports.values() if port not in status.listening]
    if missing:
        raise ProxyError(f"mitmdump is not listening on port(s) {', '.join(missing)}: {last_log_line(log)}")


def start_failure(log: Path | None, since: int) -> ProxyError:
    """Why mitmdump exited before it listened, from what it wrote to the log."""
    text = log_since(log, since)
    port = port_taken(text)
    if port is not None:
        return PortTaken(port, f"port {port} was taken by another process as mitmdump started")
    return ProxyError(f"mitmdump exited at start: {last_log_line(log)}")


def log_since(log: Path | None, offset: int) -> str:
    if log is None or not log.is_file():
        return ""
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode("utf-8", "replace")


def log_size(log: Path | None) -> int:
    try:
        return log.stat().st_size if log is not None else 0
    except OSError:
        return 0


def last_log_line(log: Path | None) -> str:
    if log is None or not log.is_file():
        return "no log"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
