"""Installs one exact version of a PyPI distribution into a virtualenv of its own, and says in one line why it
could not."""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from probe.capture import pythons
from probe.common.errors import ToolMissing
from probe.common.pypi_names import DISTRIBUTION_NAME, is_plain_version

# Written last into a finished virtualenv: what it holds. A folder without it was left half-installed.
MARKER = ".agent-probe-installed"


def installed(destination: Path, distribution: str, version: str) -> bool:
    """Whether `destination` holds `distribution==version`, installed whole."""
    try:
        return (destination / MARKER).read_text() == f"{distribution}=={version}\n"
    except OSError:
        return False


def install(
    distribution: str, version: str, destination: Path, python: str | None = None, extras: tuple[str, ...] = ()
) -> None:
    """Install `distribution==version` and its dependencies into a new virtualenv at `destination`. A virtualenv's
    programs name its folder in their first line, so, unlike an npm install, it cannot be built beside its place and
    renamed into it: it is built in place, one install at a time (a lock beside it), and marked whole at the end; a
    folder left without the mark (an install stopped or failing) is built afresh. `python`: the distribution's
    minimum Python ("3.12"), where it may be newer than the one running this; `extras`: the distribution's extras
    installed with it."""
    names = (distribution, *extras)
    if not all(DISTRIBUTION_NAME.fullmatch(name) for name in names) or not is_plain_version(version):
        # The callers check both first; this is the last guard before anything reaches pip's command line.
        raise ToolMissing(f"will not ask pip for {distribution!r} at version {version!r}")
    interpreter = pythons.interpreter(python)  # before anything is made: a missing Python leaves nothing behind
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination.parent / f".{destination.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(destination, distribution, version):
            return  # another run installed it while this one waited
        shutil.rmtree(destination, ignore_errors=True)
        try:
            run([interpreter, "-m", "venv", str(destination)], distribution, version)
            python = str(destination / "bin" / "python")
            pip = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--quiet"]
            wanted = f"{distribution}[{','.join(extras)}]" if extras else distribution
            run([*pip, f"{wanted}=={version}"], distribution, version)
        except BaseException:
            shutil.rmtree(destination, ignore_errors=True)
            raise
        (destination / MARKER).write_text(f"{distribution}=={version}\n")


def run(argv: list[str], distribution: str, version: str) -> None:
    # A virtualenv of the user's, active here, must not be the one pip installs into.
    env = {name: value for name, value in os.environ.items() if name not in ("VIRTUAL_ENV", "PYTHONHOME")}
    result = subprocess.run(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, env=env
    )
    if result.returncode != 0:
        why = failure(result.stdout, distribution, version, result.returncode)
        raise ToolMissing(f"installing {distribution}=={version} failed: {why}")


def failure(output: str, distribution: str, version: str, code: int) -> str:
    """pip's many lines of failure as one: the reason."""
    if "No matching distribution found" in output:
        return f"PyPI has no version {version} of {distribution} (for this Python)"
    errors = [line.removeprefix("ERROR:").strip() for line in output.splitlines() if line.startswith("ERROR:")]
    return errors[-1] if errors else f"exited with {code}"
