"""The watchdog process: reads what the capture tells it until the pipe ends; if no `done` came, it stops the
process groups, closes the run, scrubs the agent's files and removes the private folders (probe.capture.watchdog)."""

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from probe.capture import scrub, session
from probe.capture.processes import group_alive
from probe.capture.watchdog import decode

GRACE = 60.0  # seconds the groups get to stop before they are killed; mitmdump may need them to write a big exchange


def stop_groups(groups: dict[int, int]) -> None:
    # A group is signalled only while it has a member: an empty group's number is free, and may already name the
    # group of a process someone else started.
    for pgid, first_signal in groups.items():
        if group_alive(pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, first_signal)
    deadline = time.monotonic() + GRACE
    while any(map(group_alive, groups)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pgid in groups:
        if group_alive(pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)


def clean_up(groups: dict[int, int], run: Path | None, secrets: list[str] | None, folders: list[Path]) -> None:
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
