"""Starting and stopping child processes as whole process groups, so nothing is left behind."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from probe.capture import hangup, watchdog


class Interrupts:
    """Ctrl-C (or SIGTERM) held back while a child is being started.

    Raised inside `Popen`, it would leave a running child whose handle we never got, so nobody could
    stop it. The signal handler asks `arrived()`; the caller raises it once it holds the handle.
    """

    deferring = False
    pending = False

    @classmethod
    def arrived(cls) -> bool:
        """Called by the signal handler: True when the interrupt is held back for now."""
        if cls.deferring:
            cls.pending = True
        return cls.deferring

    @classmethod
    def raise_pending(cls) -> None:
        if cls.pending:
            cls.pending = False
            raise KeyboardInterrupt


def spawn(
    argv: list[str], first_signal: int = signal.SIGTERM, in_terminal: bool = False, **options
) -> subprocess.Popen:
    """Start argv in its own session, so its whole group can be signalled (and Ctrl-C is ours); `in_terminal`: in
    a process group of its own in this session, so that it can be given the terminal (probe.capture.terminal).

    The group is handed to the running watchdog, if any, which stops it with `first_signal` should this
    process die without stopping it. An interrupt arriving meanwhile is held back: call
    `Interrupts.raise_pending()` once the returned process is in hand (in the block that stops it on
    KeyboardInterrupt).
    """
    Interrupts.deferring = True
    try:
        group = {"process_group": 0} if in_terminal else {"start_new_session": True}
        process = subprocess.Popen(argv, **group, **options)
        watchdog.watch(process.pid, first_signal)
        return process
    finally:
        Interrupts.deferring = False


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


def signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def stop(process: subprocess.Popen, first_signal: int = signal.SIGTERM, grace: float = 10.0) -> int | None:
    """Ask the group to stop, wait up to `grace` seconds, then kill it. Returns the exit code."""
    if process.poll() is None:
        signal_group(process, first_signal)
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    # Children of the leader (a shell's commands, node's workers) may outlive it: end them too. Only while the
    # group has a member: once its leader is reaped and it is empty, its number is free, and may already name the
    # group of a process someone else started.
    if process.poll() is None or group_alive(process.pid):
        signal_group(process, signal.SIGKILL)
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None
    watchdog.release(process.pid)
    return code


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP stop a run the same way, once: the first raises KeyboardInterrupt, and
    every later one, or any that arrives once the cleanup has begun, only says that we are stopping.

    A second KeyboardInterrupt raised inside the cleanup would abandon it half-way and leave the proxies or
    the agent running: Ctrl-C pressed twice must not do that. SIGINT is set explicitly too: a shell starts
    background jobs with it ignored, and Python keeps that.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    SAYING = "stopping: the proxies are writing what they hold, and every child is being stopped"

    def __init__(self, saying: str = SAYING) -> None:
        self.stopping = False
        self.asked = False  # a stop signal arrived, at any time
        self.hung_up = False  # SIGHUP among them: the terminal hung up
        self.told = False
        self.saying = saying
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        self.previous = {signum: signal.signal(signum, self.handle) for signum in self.SIGNALS}
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def cleaning_up(self) -> None:
        """From now on a signal does not interrupt: what runs is the cleanup itself."""
        self.stopping = True

    def cleaned_up(self) -> None:
        """The cleanup is over. A signal interrupts again, unless one already asked us to stop: then what
        the owner still does on the way out (the pipeline's report) belongs to the stop and runs whole."""
        self.stopping = self.asked

    def handle(self, signum, frame) -> None:
        self.asked = True
        if signum == signal.SIGHUP:
            self.hung_up = True
            hangup.Output.move_if_gone()
        if Interrupts.arrived():
            return
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt
        if not self.told:
            self.told = True
            print(self.saying, file=sys.stderr, flush=True)
