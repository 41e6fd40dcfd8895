"""secretlint, the second secret scanner the tests check the masking against, installed pinned from npm into
.agents/secretlint on first use (CI installs it ahead, with `python tests/secretlint_install.py`)."""

import fcntl
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / ".agents" / "secretlint"
SECRETLINT = FOLDER / "node_modules" / ".bin" / "secretlint"
PACKAGES = ("secretlint@13.0.6", "@secretlint/secretlint-rule-preset-recommend@13.0.7")


def ensure_installed() -> Path:
    """secretlint's program, installed first if it is missing; test workers wait for one another's install."""
    if SECRETLINT.is_file():
        return SECRETLINT
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with (FOLDER.parent / ".secretlint.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SECRETLINT.is_file():
            install()
    return SECRETLINT


def install() -> None:
    """npm install into a folder beside the final one, renamed into place when whole: a half-done install is
    never taken for one."""
    npm = shutil.which("npm")
    assert npm, f"secretlint is not installed at {SECRETLINT}, and npm, which installs it, was not found"
    work = Path(tempfile.mkdtemp(prefix=".secretlint.installing-", dir=FOLDER.parent))
    try:
        result = subprocess.run(
            [npm, "install", "--prefix", str(work), "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"installing {' '.join(PACKAGES)} failed: {result.stdout}{result.stderr}"
        shutil.rmtree(FOLDER, ignore_errors=True)
        work.rename(FOLDER)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(f"secretlint: {ensure_installed().relative_to(PROJECT_ROOT)}")
    sys.exit(0)
