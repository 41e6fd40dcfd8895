"""Finds a Python interpreter of at least a given version on this machine, for an agent that needs a newer one."""

import os
import re
import subprocess
import sys
from pathlib import Path

from probe.common.errors import ToolMissing

# A minimum as a target file writes it: "3.12".
MINIMUM = re.compile(r"3\.(\d{1,2})", re.ASCII)
NEWEST_MINOR = 20  # looked for up to here: python3.<minimum> … python3.20


def interpreter(minimum: str | None) -> str:
    """The running Python if it is new enough (or no minimum is asked), else the oldest `python3.N` at least the
    minimum that runs (an agent's dependencies publish wheels for a new Python last): on PATH, then under pyenv's
    versions folder (its newest patch release first), since pyenv's shim refuses a version that is not selected."""
    if minimum is None:
        return sys.executable
    wanted = int(MINIMUM.fullmatch(minimum).group(1))
    if sys.version_info >= (3, wanted):
        return sys.executable
    for minor in range(wanted, NEWEST_MINOR + 1):
        for candidate in candidates(f"python3.{minor}"):
            if runs_as(candidate, minor):
                return candidate
    raise ToolMissing(
        f"this agent needs Python {minimum} or newer, and none was found (python3.{wanted} or newer on PATH or "
        f"under pyenv's versions): install one, or run agent-probe itself with it"
    )


def candidates(name: str) -> list[str]:
    on_path = [str(Path(folder) / name) for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    minor = name.removeprefix("python")
    in_pyenv = sorted((str(path) for path in pyenv.glob(f"{minor}.*/bin/{name}")), reverse=True)
    return [path for path in [*on_path, *in_pyenv] if Path(path).is_file() and os.access(path, os.X_OK)]


def runs_as(program: str, minor: int) -> bool:
    """Whether `program` runs and is Python 3.`minor` (a pyenv shim for an unselected version exits non-zero)."""
    try:
        said = subprocess.run(
            [program, "-c", "import sys; print(sys.version_info[1])"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return said.returncode == 0 and said.stdout.strip() == str(minor)
