"""speedscope, the independent reader the Perfetto export is checked with (it imports Chrome Trace Event JSON),
installed pinned from npm into .agents/speedscope on first use (CI installs it ahead, with
`python tests/speedscope_install.py`)."""

import fcntl
import shutil
import sys
from pathlib import Path

from probe.capture import npm
from probe.common.errors import ToolMissing

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / ".agents" / "speedscope"
PACKAGE = ("speedscope", "1.25.0")  # speedscope_read.mjs reaches into this version's bundle
RELEASE = FOLDER / "node_modules" / "speedscope" / "dist" / "release"


def ensure_installed() -> Path:
    """The built speedscope script (its importers inside), installed first if it is missing; test workers wait
    for one another's install."""
    found = bundle()
    if found is not None:
        return found
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with (FOLDER.parent / ".speedscope.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if bundle() is None:
            shutil.rmtree(FOLDER, ignore_errors=True)  # an install without its script is no install
            npm.install(*PACKAGE, FOLDER)
    found = bundle()
    if found is None:
        raise ToolMissing(f"speedscope@{PACKAGE[1]} installed without its script in {RELEASE}")
    return found


def bundle() -> Path | None:
    """The one speedscope-<hash>.js the release holds, if it is installed."""
    scripts = sorted(RELEASE.glob("speedscope-*.js")) if RELEASE.is_dir() else []
    return scripts[0] if len(scripts) == 1 else None


if __name__ == "__main__":
    try:
        print(f"speedscope: {ensure_installed().relative_to(PROJECT_ROOT)}")
    except ToolMissing as error:
        sys.exit(f"error: {error}")
