"""Installs one exact version of an npm package into a folder of its own, and says in one line why it could not."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from probe.common.errors import ToolMissing
from probe.common.npm_names import PACKAGE_NAME, is_plain_version


def install(package: str, version: str, destination: Path, beside: tuple[tuple[str, str], ...] = ()) -> None:
    """Install `package@version` and its dependencies with `destination` as npm's prefix, with the (package,
    version) pairs `beside` it (plugins it loads by name, pinned as it is). npm works in a temporary folder beside
    the destination, renamed into place only when it succeeded, so a half-done install (npm stopped, or failing)
    is never taken for a finished one."""
    for name, wanted in ((package, version), *beside):
        if not PACKAGE_NAME.fullmatch(name) or not is_plain_version(wanted):
            # The callers check them first; this is the last guard before anything reaches npm's command line.
            raise ToolMissing(f"will not ask npm for {name!r} at version {wanted!r}")
    npm = shutil.which("npm")
    if not npm:
        raise ToolMissing(
            f"{package}@{version} is not installed and npm was not found: install Node.js >= 20 (it brings npm)"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{destination.name}.installing-", dir=destination.parent))
    try:
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(work),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"{package}@{version}",
                *(f"{name}@{wanted}" for name, wanted in beside),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise ToolMissing(
                f"installing {package}@{version} failed: {failure(result.stdout, package, version, result.returncode)}"
            )
        try:
            os.rename(work, destination)
        except OSError:
            if not destination.is_dir():  # else another run installed the same version first: use theirs
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def failure(output: str, package: str, version: str, code: int) -> str:
    """npm's many lines of failure as one: the reason, not the path of its debug log."""
    if "code ETARGET" in output:
        return f"npm has no version {version} of {package}"
    if "code E404" in output:
        return f"npm has no package {package}"
    for line in output.splitlines():
        reason = line.removeprefix("npm error").strip()
        if line.startswith("npm error") and reason and not reason.startswith(("code ", "A complete log")):
            return reason
    return f"npm exited with {code}"
