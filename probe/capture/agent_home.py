"""The agent's private state folder: new and empty for each run, removed after it, and by a later run when a
killed run could not remove its own.

It lives outside the run folder because agents keep their session logs there, and codex's logs repeat the
prompts, the model's answers and the credentials it was given, unredacted.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

from probe.runs.target_checks import RUN_FOLDER

PREFIX = "agent-probe-home-"
WORKDIR_PREFIX = "agent-probe-workdir-"  # a fresh working folder's parent (see fresh_workdir)
CA_PREFIX = "agent-probe-ca-"  # the certificate authority of a run with --all-hosts (see probe.capture.forward)
# The owner's pid and its start time (clock ticks since boot): a pid alone may be reused by another process.
# Where agents keep state besides HOME, each a folder of the private home (a target's private_env may name others):
# the user's own XDG folders never reach an agent in a private home (Copilot CLI writes its device id and cache to
# $XDG_CACHE_HOME, opencode its config and sessions to the other three).
PRIVATE_XDG = {
    "XDG_CONFIG_HOME": "{agent_home}/.config",
    "XDG_CACHE_HOME": "{agent_home}/.cache",
    "XDG_DATA_HOME": "{agent_home}/.local/share",
    "XDG_STATE_HOME": "{agent_home}/.local/state",
    "XDG_RUNTIME_DIR": "{agent_home}/.runtime",
}
OWNED = re.compile(rf"^(?:{PREFIX}|{WORKDIR_PREFIX}|{CA_PREFIX})(\d+)-(\d+)-")


def process_start(pid: int) -> int | None:
    """When a process started, in clock ticks since boot, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return int(file.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def create(prefix: str = PREFIX) -> Path:
    """A new private folder named after this process, so a later run can tell when its owner is gone."""
    owner = f"{os.getpid()}-{process_start(os.getpid()) or 0}"
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{owner}-"))


def populate(home: Path, files: dict[str, str], run: Path) -> None:
    """Write the files a target declares (agent.files) into the new home, or into the run folder for a name that
    starts `{run}/`: settings the agent reads at start. A name ending in "/" is a folder. Paths were checked to
    stay inside the home (or the run folder) when the target was read. The XDG folders are made first (0700)."""
    for place in PRIVATE_XDG.values():
        (home / place.removeprefix("{agent_home}/")).mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, text in files.items():
        path = run / name.removeprefix(RUN_FOLDER) if name.startswith(RUN_FOLDER) else home / name
        if name.endswith("/"):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            continue
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as file:
            file.write(text)


def fresh_workdir() -> Path:
    """A new empty folder for the agent to work in (`--workdir fresh`): in the temp folder, outside any git
    repository, and always named `workdir`, since agents tell the model the name of the folder they run in
    (gemini-cli's `~/.gemini/tmp/<name>`). Not inside the agent's home, whose files the agent would then name by
    relative paths (`../.qwen/…`). The agent sees the same surroundings in every run, which a replay relies on.
    Remove it with remove_workdir."""
    workdir = create(WORKDIR_PREFIX) / "workdir"
    workdir.mkdir(mode=0o700)
    return workdir


def is_fresh_workdir(path: str) -> bool:
    """Whether a folder is one fresh_workdir made (in any run, on any machine): `…/agent-probe-workdir-…/workdir`."""
    parts = path.rstrip("/").split("/")
    return len(parts) >= 2 and parts[-1] == "workdir" and OWNED.match(parts[-2]) is not None


def remove_workdir(workdir: Path) -> None:
    remove(workdir.parent)


def remove(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the folders whose owner process is gone (a run killed with SIGKILL, with its watchdog too)."""
    removed = []
    for path in Path(parent or tempfile.gettempdir()).glob("agent-probe-*"):
        match = OWNED.match(path.name)
        if match and path.is_dir() and not path.is_symlink() and process_start(int(match[1])) != int(match[2]):
            remove(path)
            removed.append(path)
    return removed
