"""Where the project's targets, run data and installed agents live."""

import os
import re
from pathlib import Path

from probe.common.errors import one_line

# A target's name names its folder under data/: nothing in it may climb out of there.
TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# The project is used from its checkout (`pip install -e .`), so its folders sit beside the package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def targets_dir() -> Path:
    return Path(os.environ.get("PROBE_TARGETS_DIR", PROJECT_ROOT / "targets"))


def data_dir() -> Path:
    return Path(os.environ.get("PROBE_DATA_DIR", PROJECT_ROOT / "data"))


def agents_dir() -> Path:
    """Where pinned agents are installed from npm; git-ignored."""
    return Path(os.environ.get("PROBE_AGENTS_DIR", PROJECT_ROOT / ".agents"))


def display(path: Path) -> str:
    """A path as the user should read it: relative to the current folder when it is inside it, and with control
    characters shown as escapes (a run folder from elsewhere may have any name, and a terminal would obey them)."""
    try:
        shown = str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return one_line(shown)
