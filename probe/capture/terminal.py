"""Hands the user's terminal to the agent's interactive UI for as long as it runs, and takes it back after."""

import contextlib
import os
import signal
import sys
import termios

from probe.common.errors import UsageError
from probe.runs.targets import Target


def check_interactive(target: Target) -> None:
    """An interactive session needs the target's interactive command and a terminal to run it in."""
    if not target.interactive:
        raise UsageError(f"{target.name} has no interactive session (agent.interactive in its target): give --prompt")
    problem = terminal_problem()
    if problem is not None:
        raise UsageError(problem)


def terminal_problem() -> str | None:
    """Why an interactive session cannot run from here, or None: it needs this process's standard input and output
    on a terminal whose foreground this process holds (a job started in the background must not take it)."""
    if sys.stdin is None or sys.stdout is None or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return "an interactive session needs a terminal: run it in one, or give --prompt (or --command)"
    try:
        if os.tcgetpgrp(sys.stdin.fileno()) != os.getpgrp():
            return "an interactive session needs the terminal's foreground: run it as a foreground job"
    except OSError as error:
        return f"an interactive session needs a terminal: {error.strerror}"
    return None


class Terminal:
    """The terminal as this process found it: `hand_to` makes a process group its foreground (keys, Ctrl-C and
    resizes then go to the agent, not to the recording), and `take_back` makes this process the foreground again
    and restores the modes found at the start (an agent stopped mid-session leaves its raw mode behind)."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno()
        self.modes = termios.tcgetattr(self.fd)
        self.handed = False

    def hand_to(self, group: int) -> None:
        self.set_foreground(group)
        self.handed = True
        # The agent may have touched the terminal before it was its own (a read or a mode change from a background
        # group stops it with SIGTTIN or SIGTTOU): wake it, now that the terminal is its.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGCONT)

    def follow_suspend(self, group: int) -> None:
        """If the agent was suspended (Ctrl-Z stops its group, which holds the terminal), suspend this process too,
        with the terminal given back, so that the user's shell takes over as it does for any job; when the shell
        resumes it (`fg`), hand the terminal back to the agent and wake it."""
        if not is_stopped(group):
            return
        self.take_back()
        os.kill(os.getpid(), signal.SIGSTOP)  # the shell sees its job stopped; SIGCONT (fg) goes on from here
        self.hand_to(group)

    def take_back(self) -> None:
        if not self.handed:
            return
        self.handed = False
        with contextlib.suppress(OSError):
            self.set_foreground(os.getpgrp())
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.modes)

    def set_foreground(self, group: int) -> None:
        # A process outside the foreground that changes it gets SIGTTOU, which would stop it: held off meanwhile.
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.tcsetpgrp(self.fd, group)
        finally:
            signal.signal(signal.SIGTTOU, previous)


def is_stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (its state in /proc is T)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] == b"T"
    except (OSError, IndexError):
        return False
