"""The report a recording command writes once its run has ended, and the lines that say where it is."""

from pathlib import Path

from probe.analyse.prices_kept import keeping_prices
from probe.analysis.report import analyze_run
from probe.common.errors import warn
from probe.common.paths import display
from probe.runs.targets import Target
from probe.write.report_paths import viewer_path


def report_the_run(run: Path, target: Target) -> None:
    """Write the run's report (whatever the agent did: a failed or interrupted run is worth reading too) and print
    where it and its viewer are. Priced as a later `analyze` would price it (probe.analyse.prices_kept): a run
    against the mock with the mock's price file, unless a price file was asked for."""
    kept: list[str] = []
    with keeping_prices(run, kept):
        report, warnings = analyze_run(run, target)
    for warning in kept + warnings:
        warn(warning)
    print(f"report: {display(report)}")
    print(f"viewer: {display(viewer_path(report))}", flush=True)
