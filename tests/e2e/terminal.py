"""A real terminal for the tests of interactive sessions: a tmux server of the test's own (its own socket), a
command in its one pane, keys typed into it and the screen read back, polled with generous waits."""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WIDTH, HEIGHT = 200, 50  # wide enough that the mock's answer line is never wrapped
POLL = 0.5  # seconds between two looks at the screen


class Tmux:
    """One tmux server on a socket named for this session alone, started with no configuration file; `close`
    ends the server and whatever still runs in it."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            raise AssertionError(
                "tmux is not installed: the interactive sessions are tested in it (apt-get install tmux)"
            )
        self.socket = f"agent-probe-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # The command's exit status, written by the shell that runs it: tmux's own (#{pane_dead_status}) was seen
        # to stay empty after the command had ended.
        self.status_file = Path(tempfile.mkdtemp(prefix="agent-probe-tmux-")) / "status"
        script = '"$@"; echo $? > "$STATUS_FILE"'
        # The server takes its environment from the command that starts it: the agent's run sees `env`. The pane
        # stays after its command ends, so that its last screen can still be read.
        self.tmux("new-session", "-d", "-s", "test", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd),
                  shlex.join(["sh", "-c", script, "sh", *command]),
                  ";", "set-option", "-t", "test", "remain-on-exit", "on",
                  env=dict(env, STATUS_FILE=str(self.status_file)))  # fmt: skip

    def tmux(self, *arguments: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *arguments],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise AssertionError(f"tmux {arguments[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def screen(self) -> str:
        """What the pane shows now (with its scrollback, so that a long answer's start is kept)."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "test")

    def wait_for(self, *texts: str, timeout: float = 240) -> str:
        """Wait until the screen shows one of `texts`; return that text. Fails with the last screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            for text in texts:
                if text in screen:
                    return text
            if self.exit_status() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {texts!r}; it shows:\n{screen}")
            time.sleep(POLL)

    def type(self, text: str) -> None:
        """Type `text` as keys (literally), then Enter once the screen shows it: a UI still drawing the typed
        text would take an Enter sent at once as part of it."""
        self.tmux("send-keys", "-t", "test", "-l", text)
        self.wait_for(text, timeout=60)
        time.sleep(POLL)  # the input box may echo the text before its handler has it
        self.tmux("send-keys", "-t", "test", "Enter")

    def wait_until_gone(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen still shows {text!r}:\n{self.screen()}")
            time.sleep(POLL)

    def press(self, key: str) -> None:
        self.tmux("send-keys", "-t", "test", key)

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended, else None."""
        try:
            return int(self.status_file.read_text())
        except (OSError, ValueError):
            return None  # not ended yet, or the shell is still writing it

    def wait_for_exit(self, timeout: float = 240) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not end; the screen shows:\n{self.screen()}")
            time.sleep(POLL)
        return status

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=60)
        shutil.rmtree(self.status_file.parent, ignore_errors=True)


# What the mock answers to any prompt once its tool call has run (probe.mock.wording.final_answer_text).
ANSWER_LINE = 'return "Hello, world!"'
TOOL_OUTPUT = "agent-probe tool call"  # what the mock's tool call, `echo agent-probe tool call`, prints


def interactive_session(
    target: str, program: str, project: Path, data_dir: Path, prompt: str, exit_command: str, *approvals: str
) -> tuple[Path, str]:
    """`python -m probe.pipeline --target T --upstream mock` with no prompt, in tmux, from `project` (the agent's
    pinned program first on PATH, run folders under `data_dir`): type `prompt`, answer any approval dialog (a
    screen showing one of `approvals`) with Enter (its first choice: allow), wait for the mock's answer on screen,
    leave with the agent's own `exit_command` and wait for the pipeline to end. Returns the run folder and the
    screen that showed the answer."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    env.pop("TMUX", None)  # a test run from inside tmux still starts a server of its own
    command = [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", "mock", "--port", "api=0"]
    tmux = Tmux(command, project, env)
    try:
        tmux.wait_for("Type your message", "Ask anything", timeout=300)  # the agent's input box, ready
        tmux.type(prompt)
        while (seen := tmux.wait_for(ANSWER_LINE, *approvals)) != ANSWER_LINE:
            tmux.press("Enter")
            tmux.wait_until_gone(seen)
        answered = tmux.screen()
        tmux.type(exit_command)
        status = tmux.wait_for_exit()
        assert status == 0, f"the pipeline ended with {status}; the screen shows:\n{tmux.screen()}"
    finally:
        tmux.close()
    [run] = (data_dir / target).iterdir()
    return run, answered
