"""Where the project's targets, run data and installed agents live."""

import os
import re
from pathlib import Path

import platformdirs

from probe.common.errors import one_line

# A target's name names its folder under data/: nothing in it may climb out of there.
TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# Used from its checkout (`pip install -e .`, or run in it), the project's folders sit beside the package: the
# checkout is the folder that holds the package and invoke.yaml. Installed (`pip install .`), the package stands
# alone: its targets are bundled inside it and its runs and agents go to the user's data folder.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).resolve().parents[1]
IN_CHECKOUT = (PROJECT_ROOT / "invoke.yaml").is_file() and (PROJECT_ROOT / "targets").is_dir()


def checkout() -> Path | None:
    """The checkout the package runs from, or None for an installed package."""
    return PROJECT_ROOT if IN_CHECKOUT else None


def user_data_dir() -> Path:
    """An installed package's own folder: $XDG_DATA_HOME/agent-probe, by default ~/.local/share/agent-probe
    (each system's usual place elsewhere)."""
    return platformdirs.user_data_path("agent-probe")


def targets_dir() -> Path:
    bundled = PROJECT_ROOT / "targets" if IN_CHECKOUT else PACKAGE / "targets"  # the wheel copies targets/ there
    return Path(os.environ.get("PROBE_TARGETS_DIR", bundled))


def data_dir() -> Path:
    """Where run folders go: $PROBE_DATA_DIR, else the checkout's data/, else runs/ in the user's data folder."""
    own = PROJECT_ROOT / "data" if IN_CHECKOUT else user_data_dir() / "runs"
    return Path(os.environ.get("PROBE_DATA_DIR", own))


def agents_dir() -> Path:
    """Where pinned agents are installed from npm: $PROBE_AGENTS_DIR, else the checkout's .agents/ (git-ignored),
    else agents/ in the user's data folder."""
    own = PROJECT_ROOT / ".agents" if IN_CHECKOUT else user_data_dir() / "agents"
    return Path(os.environ.get("PROBE_AGENTS_DIR", own))


def display(path: Path) -> str:
    """A path as the user should read it: relative to the current folder when it is inside it, and with control
    characters shown as escapes (a run folder from elsewhere may have any name, and a terminal would obey them)."""
    try:
        shown = str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return one_line(shown)
