"""Stops a capture's children and closes its run if the capture process dies without doing it (kill -9).

Signal handlers cannot help against SIGKILL, so a capture starts this small process first and keeps a pipe
to it. The capture tells it, line by line, which process groups it started, which run folder it records
into and which private folders to remove. When the pipe reaches its end without a final `done` (the kernel
closes it when the capture dies, however it dies), the watchdog stops those groups, marks the run's
manifest `interrupted`, scrubs the agent's files and removes the private folders.
"""

import contextlib
import subprocess
import sys
from pathlib import Path


class Link:
    """The capture's end of the pipe to its watchdog."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "probe.capture.watchdog_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # no Ctrl-C of ours

    def send(self, *words: object) -> None:
        try:
            self.process.stdin.write((" ".join(map(str, words)) + "\n").encode())
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass  # the watchdog is gone: nothing more it could do for us

    def close(self, done: bool) -> None:
        if done:
            self.send("done")
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if done:
            self.process.wait()


active: Link | None = None


def start() -> None:
    global active
    if active is None:
        active = Link()


def stop(done: bool = True) -> None:
    """`done`: the capture cleaned up after itself. Otherwise the watchdog does it, as after a kill."""
    global active
    if active is not None:
        active.close(done)
        active = None


def send(*words: object) -> None:
    if active is not None:
        active.send(*words)


def watch(pid: int, first_signal: int) -> None:
    send("watch", pid, int(first_signal))


def release(pid: int) -> None:
    send("release", pid)


def close_run(run: Path) -> None:
    send("run", encode(str(Path(run).resolve())))


def remove(folder: Path) -> None:
    send("remove", encode(str(folder)))


def scrub(secrets: list[str]) -> None:
    """Scrub the run's agent files of these values (and of every token shape) if the capture dies."""
    send("scrub", *map(encode, secrets))


def encode(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").hex() or "-"


def decode(word: str) -> str:
    return "" if word == "-" else bytes.fromhex(word).decode("utf-8", "surrogateescape")
