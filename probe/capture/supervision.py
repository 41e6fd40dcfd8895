"""Runs the agent to its end, or until the proxies fail, its time runs out or Ctrl-C stops it, and says how the
run ended (an Outcome)."""

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from probe.capture import hangup, processes
from probe.capture.terminal import Terminal

# What stops a run from outside its agent, asked every so often: (status, why), or None while all is well (the
# proxies' `problem` for the run: a proxy died, recording stopped, the run folder is gone).
Problem = Callable[[], tuple[str, str] | None]


@dataclass
class Outcome:
    """How a run ended: the manifest's status, the exit code to return, and why, in one line."""

    status: str  # complete, agent-failed, interrupted, proxy-failed or recording-failed
    exit_code: int
    note: str | None = None
    agent_exit_code: int | None = None  # when it differs from exit_code: an agent we had to stop

    @property
    def agent_code(self) -> int | None:
        return self.exit_code if self.agent_exit_code is None else self.agent_exit_code


INTERRUPTED = Outcome("interrupted", 130, "stopped by Ctrl-C or a signal")


def hung_up(agent_code: int | None) -> Outcome:
    """A run whose terminal hung up: interrupted, as a run stopped by Ctrl-C is; nothing more goes to the terminal."""
    hangup.Output.move_if_gone()
    return Outcome("interrupted", hangup.EXIT_CODE, hangup.NOTE, agent_code)


def supervise(
    argv: list[str],
    env: dict[str, str],
    timeout: float | None,
    problem_of_run: Problem,
    cwd: Path,
    interactive: bool = False,
) -> Outcome:
    """Run the agent in its own process group to its end, unless the proxies die, recording stops, the run
    folder disappears or time runs out: then stop the whole group and say why. `interactive`: the agent's group
    is given this terminal while it runs (its UI reads the keys, takes Ctrl-C and follows resizes)."""
    terminal = Terminal() if interactive else None
    stdin = None if interactive or (sys.stdin is not None and sys.stdin.isatty()) else subprocess.DEVNULL
    try:
        process = processes.spawn(argv, env=env, stdin=stdin, cwd=cwd, in_terminal=interactive)
    except OSError as error:
        return Outcome("agent-failed", 127, f"cannot start {argv[0]}: {error.strerror}")
    try:
        if terminal is not None:
            terminal.hand_to(process.pid)
        return watch_to_the_end(process, timeout, problem_of_run, terminal)
    finally:
        if terminal is not None:
            terminal.take_back()


def watch_to_the_end(
    process: subprocess.Popen, timeout: float | None, problem_of_run: Problem, terminal: Terminal | None = None
) -> Outcome:
    """Wait for the agent to end, stopping its group if the run cannot go on or its time runs out. With the
    `terminal` the agent holds, a suspended agent (Ctrl-Z) suspends the recording too (Terminal.follow_suspend)."""
    deadline = time.monotonic() + timeout if timeout else None
    try:
        processes.Interrupts.raise_pending()
        while process.poll() is None:
            problem = problem_of_run()
            if problem is not None:
                status, note = problem
                return Outcome(status, 1, note, processes.stop(process))
            if deadline and time.monotonic() > deadline:
                processes.stop(process)
                return Outcome("interrupted", 124, f"agent stopped after the {timeout:g} s timeout")
            if terminal is not None:
                if hangup.hung_up():  # an agent that outlives its closed window: stopped, as Ctrl-C would
                    return hung_up(processes.stop(process, signal.SIGHUP))
                terminal.follow_suspend(process.pid)
            time.sleep(0.05)
    except KeyboardInterrupt:
        processes.stop(process)
        raise
    # The agent may have left children behind in its group (node workers, tool processes).
    processes.stop(process, grace=0)
    code = process.returncode
    if terminal is not None and hangup.hung_up():
        # Its window was closed: the agent ended of the hang-up (or took it as its way out, exit 0), not of itself.
        return hung_up(code)
    return Outcome("complete" if code == 0 else "agent-failed", code)


def wait_for_a_problem(problem_of_run: Problem) -> Outcome:
    """Record until stopped (KeyboardInterrupt) or until recording cannot go on."""
    while True:
        problem = problem_of_run()
        if problem is not None:
            return Outcome(problem[0], 1, problem[1])
        time.sleep(0.2)
