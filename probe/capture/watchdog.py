"""Stops a capture's children and closes its run if the capture process dies without doing it (kill -9).

Signal handlers cannot help against SIGKILL, so a capture starts this small process first and keeps a pipe
to it. The capture tells it, line by line, which process groups it started, which run folder it records
into and which private folders to remove. When the pipe reaches its end without a final `done` (the kernel
closes it when the capture dies, however it dies), the watchdog stops those groups, marks the run's
manifest `interrupted`, scrubs the agent's files and removes the private folders.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE = 60.0  # seconds the groups get to stop before they are killed; mitmdump may need them to write a big exchange


class Link:
    """The capture's end of the pipe to its watchdog."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "probe.capture.watchdog"],
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


# The watchdog process -------------------------------------------------------------------------------


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs; zombies (dead, not yet reaped) do not count."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def stop_groups(groups: dict[int, int]) -> None:
    for pgid, first_signal in groups.items():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, first_signal)
    deadline = time.monotonic() + GRACE
    while any(map(group_alive, groups)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def clean_up(groups: dict[int, int], run: Path | None, secrets: list[str] | None, folders: list[Path]) -> None:
    from probe.capture import scrub, session  # only the watchdog process needs these

    stop_groups(groups)
    if run is not None and run.is_dir():
        if secrets is not None:
            scrub.scrub_run(run, secrets)
        session.close_abandoned(
            run,
            "the capture process ended without closing the run (it was killed?); "
            "its watchdog stopped the proxies, the mock and the agent",
        )
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the end of the pipe stops us
    groups: dict[int, int] = {}
    run, secrets, folders = None, None, []
    for raw in sys.stdin.buffer:
        command, *words = raw.decode("ascii", "replace").split()
        if command == "done":
            return 0
        if command == "watch":
            groups[int(words[0])] = int(words[1])
        elif command == "release":
            groups.pop(int(words[0]), None)
        elif command == "run":
            run = Path(decode(words[0]))
        elif command == "remove":
            folders.append(Path(decode(words[0])))
        elif command == "scrub":
            secrets = (secrets or []) + [decode(word) for word in words]
    clean_up(groups, run, secrets, folders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
