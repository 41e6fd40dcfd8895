"""A recording command run in a real terminal (a tmux pane of a tmux server of its own), driven by keys and read
from the screen, as a user runs an interactive session."""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

# Generous: the agents start slowly on a loaded 2-core machine. Every wait polls the screen, so a fast run is
# never held back by these.
START_WAIT = 120.0
ANSWER_WAIT = 120.0
EXIT_WAIT = 180.0  # the agent's exit, then the report
POLL = 0.1  # one tmux call per look: often enough that a wait ends soon after what it waits for shows
EXIT_MARK = "agent-probe-test: exit status "


class TerminalSession:
    """One command in a tmux pane of `width` x `height`, on a tmux server of its own (a unique socket): `close`
    ends that server and nothing else. The pane stays on screen after the command ends, with its exit status."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], width: int = 160, height: int = 50):
        if shutil.which("tmux") is None:
            raise AssertionError("tmux is not installed: these tests drive the agent in a real terminal (apt tmux)")
        self.socket = f"agent-probe-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.config = cwd.parent / f"{self.socket}.conf"
        # remain-on-exit: the last screen stays readable once the command is gone.
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 5000\n")
        # The server is started by this call, so the pane's environment is exactly `env`. The pane's shell waits
        # for the command and prints its exit status: tmux may leave a pane's own process unreaped, a zombie whose
        # status it never reports (seen with tmux 3.3a on a loaded machine).
        command = f"cd {shlex.quote(str(cwd))} && {shlex.join(argv)}; echo {EXIT_MARK}$?"
        env = {name: value for name, value in env.items() if name != "TMUX"}  # a server of its own, even in tmux
        self.tmux("new-session", "-d", "-s", "run", "-x", str(width), "-y", str(height), command, env=env)

    def tmux(self, *arguments: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *arguments],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise AssertionError(f"tmux {arguments[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def screen(self) -> str:
        """What the pane shows now, with the lines scrolled above it."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "run")

    def wait_for(self, text: str, timeout: float = START_WAIT) -> str:
        """Wait until `text` is on screen; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if re.search(rf"^{EXIT_MARK}\d+$", screen, re.MULTILINE):
                raise AssertionError(f"the command ended before {text!r} was shown:\n{screen[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} was not shown within {timeout:.0f} s:\n{screen[-4000:]}")
            time.sleep(POLL)

    def wait_for_any(self, *texts: str, timeout: float = START_WAIT) -> str:
        """Wait until one of `texts` is on screen; returns that text."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            for text in texts:
                if text in screen:
                    return text
            if re.search(rf"^{EXIT_MARK}\d+$", screen, re.MULTILINE) or time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {texts!r}; it shows:\n{screen[-4000:]}")
            time.sleep(POLL)

    def wait_until_gone(self, text: str, timeout: float = START_WAIT) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen still shows {text!r}:\n{self.screen()[-4000:]}")
            time.sleep(POLL)

    def press(self, *keys: str) -> None:
        """Send keys by tmux's names (Enter, C-c), not typed as text."""
        self.tmux("send-keys", "-t", "run", *keys)

    def type_line(self, text: str, timeout: float = START_WAIT, settle: float = 0.5) -> None:
        """Type `text` as keys, wait until the agent shows it, then press Enter (a UI that is still drawing may
        drop an Enter sent with the text). `settle`: how long an agent's UI is given to take it all in; a shell's
        line editor reads keys in order, and needs none."""
        self.tmux("send-keys", "-t", "run", "-l", text)
        self.wait_for(text, timeout)
        time.sleep(settle)  # what was typed is drawn before the UI has taken it all in: let it settle
        self.tmux("send-keys", "-t", "run", "Enter")

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended (its shell printed it), else None."""
        found = re.search(rf"^{EXIT_MARK}(\d+)$", self.screen(), re.MULTILINE)
        return int(found[1]) if found else None

    def wait_for_exit(self, timeout: float = EXIT_WAIT) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not end within {timeout:.0f} s:\n{self.screen()[-4000:]}")
            time.sleep(POLL)
        return status

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        self.config.unlink(missing_ok=True)
        # A server that was killed leaves its socket behind.
        sockets = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (sockets / self.socket).unlink(missing_ok=True)


def pipeline_argv(target: str, *options: str) -> list[str]:
    """`python -m probe.pipeline` against the mock with no prompt: the agent's interactive session."""
    return [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", "mock", *options]


def session_environment(program: str, data_dir: Path, **changes: str | None) -> dict[str, str]:
    """This process's environment with the agent's pinned program first on PATH and runs going to `data_dir`;
    `changes` set variables, or remove those given None."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def file_hashes(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path -> sha256 of its bytes)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


# New files agent-probe's own tools make in the home they run with, wherever they run (these are not the agent's
# and not the user's; nothing existing is edited): mitmdump's certificate authority, made in ~/.mitmproxy when it is
# missing (the reverse proxies never present it), and agent-probe's cache of the maintained secret rules.
RECORDER_OWN = (".mitmproxy/", ".cache/agent-probe/")


def assert_only_own_files_changed(before: dict[str, str], after: dict[str, str], agent_own: tuple[str, ...]) -> None:
    """Every file of the home is as it was (`file_hashes`), but those under `agent_own` (the agent's own state
    and logs, which it writes in any session) and the new files of RECORDER_OWN."""
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    unexpected = {
        name
        for name in changed
        if not name.startswith(agent_own) and not (name.startswith(RECORDER_OWN) and name not in before)
    }
    assert unexpected == set(), f"changed in the home: {sorted(unexpected)}"
