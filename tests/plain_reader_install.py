"""A plain DuckDB reader of the team lake, as a team member without agent-probe has one: a virtualenv holding only
duckdb and the three extension wheels from PyPI, pinned, made in .agents/duckdb-reader on first use (CI makes it
ahead, with `python tests/plain_reader_install.py`)."""

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / ".agents" / "duckdb-reader"
PYTHON = FOLDER / "bin" / "python"
PACKAGES = [
    "duckdb==1.5.5",
    "duckdb-extension-ducklake==1.5.5",
    "duckdb-extension-postgres-scanner==1.5.5",
    "duckdb-extension-httpfs==1.5.5",
]
DONE = FOLDER / ".installed"  # written last, holding what was installed: a half-made virtualenv is made again


def ensure_installed() -> Path:
    """The reader virtualenv's Python, made first if it is missing; test workers wait for one another's install."""
    if installed():
        return PYTHON
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with (FOLDER.parent / ".duckdb-reader.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed():
            shutil.rmtree(FOLDER, ignore_errors=True)
            # The system's Python, not this one's virtualenv: nothing of agent-probe's environment comes along.
            subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(FOLDER)], check=True)
            subprocess.run([sys.executable, "-m", "pip", "--python", str(PYTHON), "install", "--quiet",
                            "--disable-pip-version-check", *PACKAGES], check=True)  # fmt: skip
            DONE.write_text("\n".join(PACKAGES) + "\n")
    return PYTHON


def installed() -> bool:
    return PYTHON.is_file() and DONE.is_file() and DONE.read_text() == "\n".join(PACKAGES) + "\n"


if __name__ == "__main__":
    print(f"duckdb reader: {ensure_installed().relative_to(PROJECT_ROOT)}")
