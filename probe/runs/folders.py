"""Run folders under data/<target>/<timestamp>[-label]/: creating, finding and describing them."""

import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from probe.common.errors import RunError
from probe.common.paths import TARGET_NAME, data_dir, display

MANIFEST_SCHEMA = 1
# What the capture writes into a run folder: every other file there is made from these two, and nothing that
# writes a derived file or an export may write over them. (The recorder inside mitmdump spells the first itself.)
TRAFFIC, MANIFEST = "traffic.jsonl", "manifest.json"
CAPTURE_FILES = (TRAFFIC, MANIFEST)
BODIES = "bodies"  # the capture's folder of large bodies, each in a file named by its sha256, referred to by its line
RUN_NAME = re.compile(r"^\d{8}-\d{6}(-.+)?$")


def sanitise_label(label: str) -> str:
    """Keep a label to one safe path component: `../../x` must not escape data/."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip(".-")
    return cleaned[:60]


def create_run(target: str, label: str = "", root: Path | None = None) -> Path:
    """Make a new, private run folder named after the current time (and label)."""
    parent = (root or data_dir()) / target
    parent.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%d-%H%M%S")
    if label and sanitise_label(label):
        name += f"-{sanitise_label(label)}"
    for attempt in range(1, 100):
        candidate = parent / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            candidate.mkdir(mode=0o700)
            return candidate
        except FileExistsError:
            continue
    raise RunError(f"cannot create a run folder under {display(parent)}")


def list_runs(target: str | None = None, root: Path | None = None) -> list[Path]:
    """Run folders, oldest first by their timestamped names; `target` is a target's name."""
    base = root or data_dir()
    if target is not None and not TARGET_NAME.match(target):
        raise RunError(f"target name {target!r}: expected lowercase letters, digits, '.', '_' or '-'")
    parents = [base / target] if target else sorted(path for path in base.glob("*") if path.is_dir())
    runs = [
        run
        for parent in parents
        if parent.is_dir()
        for run in parent.iterdir()
        if run.is_dir() and RUN_NAME.match(run.name)
    ]
    return sorted(runs, key=lambda run: (run.name, str(run)))


def resolve_run(spec: str, target: str | None = None, root: Path | None = None) -> Path:
    """`latest`, a run folder name, or a path to a run folder."""
    base = root or data_dir()
    if spec == "latest":
        runs = list_runs(target, base)
        if not runs:
            where = f"{display(base / target)}" if target else display(base)
            raise RunError(f"no runs yet in {where}; capture one with `invoke pipeline`")
        return runs[-1]
    path = Path(spec)
    if path.is_dir():
        return path
    if path.exists():
        raise RunError(f"{spec}: not a folder (give `latest`, a run folder name under data/, or a run folder)")
    matches = [run for run in list_runs(target, base) if run.name == spec]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RunError(f'run name "{spec}" exists for several targets; pass --target or a path')
    raise RunError(f'no run "{spec}" (give `latest`, a run folder name under data/, or a path)')


@contextlib.contextmanager
def private_replacement(path: Path, unless_same: Callable[[Path, Path], bool] | None = None):
    """Write a text file readable by its owner only, atomically: readers see the old file or the new one.

    If `unless_same(old, new)` says the new file holds what the old one did, the old one is kept, with a new
    modification time: it was just made again, and a file under version control stays unchanged.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as file:
            yield file
        os.chmod(temporary, 0o600)
        regular = path.is_file() and not path.is_symlink()  # never compare with, or touch, what a link points to
        if unless_same is not None and regular and unless_same(path, Path(temporary)):
            Path(temporary).unlink()
            os.utime(path)
            return
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_manifest(run: Path, manifest: dict) -> None:
    with private_replacement(run / "manifest.json") as file:
        json.dump({"schema": MANIFEST_SCHEMA, **manifest}, file, indent=2, ensure_ascii=False)
        file.write("\n")


MAX_MANIFEST = 1_000_000  # bytes: a manifest is a page of JSON; a run folder from elsewhere may hold anything


def load_manifest(run: Path) -> tuple[dict | None, str | None]:
    """The run's manifest, or None and, if there is a file that cannot be used, why (one line)."""
    path = run / "manifest.json"
    if not path.exists():
        return None, None
    if not path.is_file():  # a FIFO would block the read for ever
        return None, "manifest.json is not a regular file; ignored"
    try:
        with path.open("rb") as file:
            data = file.read(MAX_MANIFEST + 1)
    except OSError as error:
        return None, f"manifest.json cannot be read ({error.strerror}); ignored"
    if len(data) > MAX_MANIFEST:
        return None, f"manifest.json is over the {MAX_MANIFEST:,}-byte limit; ignored"
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None, "manifest.json is not valid JSON; ignored"
    except RecursionError:
        return None, "manifest.json is nested too deeply; ignored"
    if not isinstance(manifest, dict):
        return None, "manifest.json is not a JSON object; ignored"
    return manifest, None


def read_manifest(run: Path) -> dict | None:
    return load_manifest(run)[0]


def hold_while_recording(run: Path) -> int:
    """Take a shared lock on the run folder, held until the returned descriptor is closed (or the process ends,
    however it ends): while it is held, `being_recorded` knows the capture is alive. The capture process and the
    proxies' addon each hold one."""
    fd = os.open(run, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def being_recorded(run: Path) -> bool:
    """Whether a capture is still writing into `run`: its manifest says `running` and a live process holds the
    folder's lock. A `running` manifest alone may be left over from a capture that was killed with its watchdog."""
    manifest = read_manifest(run)
    if manifest is None or manifest.get("status") != "running":
        return False
    try:
        fd = os.open(run, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock if it was taken
    return False
