"""The releases run's pages, written by the writers' own scripts it hands its rows to, on their standard input: the
changelog of one target's versions (python -m probe.write.releases_page) and the table of agents side by side
(python -m probe.write.releases_table). A script of their own keeps this job's imports shallow, and each writer can
be run again on the same rows by hand."""

import subprocess
import sys
from pathlib import Path

from probe.common.errors import RunError
from probe.runs.release_runs import ReleaseRun, rows_json


def changelog(rows: list[ReleaseRun], out: Path, compares: str | None) -> None:
    """releases.md, releases.html and the diffs of one target's versions, under `out/<target>/`; `compares`: the
    scenario the file marks as the one versions are compared by (None: the writer's own choice)."""
    write("probe.write.releases_page", rows, out, ["--compares", compares] if compares else [])


def side_by_side(rows: list[ReleaseRun], out: Path) -> None:
    """The table of agents on one scenario, under `out`."""
    write("probe.write.releases_table", rows, out, [])


def write(script: str, rows: list[ReleaseRun], out: Path, options: list[str]) -> None:
    """Run the writer's script with the rows; its lines (the pages written, or its one-line error) go to ours."""
    argv = [sys.executable, "-m", script, "--rows", "-", "--output", str(out), *options]
    ended = subprocess.run(argv, input=rows_json(rows), text=True, check=False)
    if ended.returncode != 0:
        raise RunError(f"{script} could not write the pages (exit {ended.returncode}); the runs are kept")
