"""Starting and stopping child processes as whole process groups, so nothing is left behind."""

import os
import signal
import subprocess
import time


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


def spawn(argv: list[str], **options) -> subprocess.Popen:
    """Start argv in its own session, so its whole group can be signalled (and Ctrl-C is ours).

    An interrupt arriving meanwhile is held back: call `Interrupts.raise_pending()` once the returned
    process is in hand (in the block that stops it on KeyboardInterrupt).
    """
    Interrupts.deferring = True
    try:
        return subprocess.Popen(argv, start_new_session=True, **options)
    finally:
        Interrupts.deferring = False


def signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop(process: subprocess.Popen, first_signal: int = signal.SIGTERM, grace: float = 10.0) -> int | None:
    """Ask the group to stop, wait up to `grace` seconds, then kill it. Returns the exit code."""
    if process.poll() is None:
        signal_group(process, first_signal)
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    # Children of the leader (a shell's commands, node's workers) may outlive it: end them too.
    signal_group(process, signal.SIGKILL)
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None
