"""The releases run's pages, written by the writers it hands its rows to: the changelog of one target's versions
(probe.write.releases_page) and the table of agents side by side (probe.write.releases_table)."""

import importlib
import sys
from pathlib import Path

from probe.runs.release_runs import ReleaseRun


def changelog(target: str, rows: list[ReleaseRun], out: Path, compares: str | None) -> list[Path]:
    """releases.md, releases.html and the diffs of one target's versions, under `out/<target>/`; `compares`: the
    scenario the file marks as the one versions are compared by (None: the writer's own choice)."""
    writer = writer_of("probe.write.releases_page", "changelog")
    return writer(target, rows, out, compares=compares) if writer else []


def side_by_side(scenario: str, rows: list[ReleaseRun], out: Path) -> list[Path]:
    """The table of agents on one scenario, under `out`."""
    writer = writer_of("probe.write.releases_table", "side_by_side")
    return writer(scenario, rows, out) if writer else []


def writer_of(module: str, name: str):
    """The writer's entry point; None, said once, while an install does not have it yet (the rows are printed)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise  # the writer is there but something it needs is not: that is a fault to show
        print(f"note: this install has no {module}: no page written", file=sys.stderr)
        return None
