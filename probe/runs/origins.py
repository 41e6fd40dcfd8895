"""The run a fork or a resend was made from, found by the name its manifest gives it (`origin.run`), in the data
folder the run lies in, then in the data folder: never at a path the manifest names, since a run folder may come
from elsewhere."""

import re
from pathlib import Path
from typing import Any

from probe.common.errors import RunError
from probe.common.paths import TARGET_NAME, data_dir, display

# As the capture names run folders: a timestamp, and a label made of these characters (folders.sanitise_label).
RUN_FOLDER = re.compile(r"\d{8}-\d{6}(?:-[A-Za-z0-9._-]+)?")


def declared_origin(manifest: Any) -> dict | None:
    """The manifest's `origin` block, if it has one."""
    origin = manifest.get("origin") if isinstance(manifest, dict) else None
    return origin if isinstance(origin, dict) else None


def origin_run(run: Path, manifest: Any) -> Path:
    """The origin run folder of `run`, whose manifest is `manifest`; a RunError in one line when it names none or
    the origin is not there."""
    origin = declared_origin(manifest)
    if origin is None:
        raise RunError(
            f"{display(run)}: its manifest names no origin run; give the origin first (--run ORIGIN --run RUN)"
        )
    name = origin.get("run")
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not TARGET_NAME.match(parts[0]) or not RUN_FOLDER.fullmatch(parts[1]):
        shown = repr(name)[:80]
        raise RunError(f"{display(run)}: its manifest's origin.run is {shown}, not <target>/<run folder>")
    places = [run.resolve().parent.parent, data_dir()]
    for base in places:
        candidate = base / parts[0] / parts[1]
        if (candidate / "traffic.jsonl").is_file():
            return candidate
    where = " or ".join(dict.fromkeys(display(base) for base in places))
    raise RunError(f"origin {name} of {display(run)}: no such run in {where}; give it with --run")
