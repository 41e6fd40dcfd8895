"""An interactive session of an agent against the mock, typed into a real terminal (tests/terminal_session.py)."""

import os
import sys
import time
from pathlib import Path

from terminal_session import TerminalSession

WIDTH, HEIGHT = 200, 50  # wide enough that the mock's answer line is never wrapped


# What the mock answers to any prompt once its tool call has run (probe.mock.wording.final_answer_text).
ANSWER_LINE = 'return "Hello, world!"'
TOOL_OUTPUT = "agent-probe tool call"  # what the mock's tool call, `echo agent-probe tool call`, prints


def wait_until_quiet(target_dir: Path, quiet: float = 3.0, timeout: float = 60.0) -> None:
    """Wait until the run's traffic has not grown for `quiet` seconds. Some agents send one more request after
    drawing the answer (Qwen Code asks the model about its next turn); leaving while it is in flight would record
    it, rightly, as cut short, which is not what these sessions test."""

    def size() -> int:
        return sum(path.stat().st_size for path in target_dir.glob("*/traffic.jsonl"))

    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = size()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def interactive_session(
    target: str,
    program: str,
    project: Path,
    data_dir: Path,
    prompt: str,
    exit_command: str,
    *approvals: str,
    options: tuple[str, ...] = (),
    exit_keys: tuple[str, ...] = (),
) -> tuple[Path, str]:
    """`python -m probe.pipeline --target T --upstream mock` with no prompt, in tmux, from `project` (the agent's
    pinned program first on PATH, run folders under `data_dir`): type `prompt`, answer any approval dialog (a
    screen showing one of `approvals`) with Enter (its first choice: allow), wait for the mock's answer on screen,
    leave with the agent's own `exit_command` (then `exit_keys`, pressed) and wait for the pipeline to end;
    `options` go to the pipeline too.
    Returns the run folder and the screen that showed the answer."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    # As in a shell on a CI machine: the UI must open even so (gemini-cli would run headless and exit 42).
    env["CI"] = "true"
    command = [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", "mock", "--port", "api=0"]
    command += options
    tmux = TerminalSession(command, project, env, WIDTH, HEIGHT)
    try:
        # The agent's input box, ready: its placeholder (Grok CLI's "Ask me anything"), or the help line drawn with
        # it (Copilot's, pi's, Mistral Vibe's), or its title (Kimi CLI's).
        ready = (
            "Type your message", "Ask anything", "Ask me anything", "? help", "ctrl+c/ctrl+d clear/exit",
            "Type /help for more", "── input ──",
        )  # fmt: skip
        tmux.wait_for_any(*ready, timeout=300)
        tmux.type_line(prompt, timeout=60)
        while (seen := tmux.wait_for_any(ANSWER_LINE, *approvals, timeout=240)) != ANSWER_LINE:
            tmux.press("Enter")
            tmux.wait_until_gone(seen, timeout=60)
        answered = tmux.screen()
        wait_until_quiet(data_dir / target)
        tmux.type_line(exit_command, timeout=60)
        for key in exit_keys:
            time.sleep(0.5)  # the UI has drawn what the key before it did
            tmux.press(key)
        status = tmux.wait_for_exit(timeout=240)
        assert status == 0, f"the pipeline ended with {status}; the screen shows:\n{tmux.screen()}"
    finally:
        tmux.close()
    [run] = (data_dir / target).iterdir()
    return run, answered
