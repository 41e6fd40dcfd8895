"""secretlint, the second secret scanner the tests check the masking against, installed pinned from npm into
.agents/secretlint on first use (CI installs it ahead, with `python tests/secretlint_install.py`)."""

import fcntl
import shutil
import sys
from pathlib import Path

from probe.capture import npm
from probe.common.errors import ToolMissing

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / ".agents" / "secretlint"
SECRETLINT = FOLDER / "node_modules" / ".bin" / "secretlint"
PACKAGE = ("secretlint", "13.0.6")
RULES = ("@secretlint/secretlint-rule-preset-recommend", "13.0.7")  # the rules it runs, which it loads by name


def ensure_installed() -> Path:
    """secretlint's program, installed first if it is missing; test workers wait for one another's install."""
    if SECRETLINT.is_file():
        return SECRETLINT
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with (FOLDER.parent / ".secretlint.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SECRETLINT.is_file():
            shutil.rmtree(FOLDER, ignore_errors=True)  # an install without its program is no install
            npm.install(*PACKAGE, FOLDER, beside=(RULES,))
    return SECRETLINT


if __name__ == "__main__":
    try:
        print(f"secretlint: {ensure_installed().relative_to(PROJECT_ROOT)}")
    except ToolMissing as error:
        sys.exit(f"error: {error}")
