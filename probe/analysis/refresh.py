"""Brings run folders' reports up to date, rebuilding only what is out of date (probe.runs.ledger), with the prices
each was made with (probe.analysis.prices_kept)."""

import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from probe.analysis.prices_kept import keeping_prices
from probe.analysis.report import write
from probe.analysis.report_job import Refreshed, run_job
from probe.common.errors import ProbeError, one_line
from probe.common.paths import display
from probe.runs import ledger
from probe.runs.folders import being_recorded
from probe.runs.targets import Target


def refresh(run: Path, target: Target | None = None, redact: bool = True, force: bool = False) -> Refreshed:
    """Rebuild the run's report and turns.jsonl if they are out of date (or `force`); errors are raised."""
    kept: list[str] = []
    with keeping_prices(run, kept):
        job = run_job(run, target, redact)
        job.warnings[:0] = kept
        why = "--force" if force else ledger.out_of_date(run, ledger.REPORT, job.choice.sources(), job.stamp)
        if why is None:
            return Refreshed(job.output, None, job.warnings)  # how the renderer was chosen still matters
        written, warnings = write(job, afresh=force)
    return Refreshed(written, why, warnings)


def refresh_all(
    runs: list[Path], target: Target | None = None, redact: bool = True, force: bool = False, out: TextIO | None = None
) -> Counter:
    """Refresh every run, printing one line per run rebuilt, failed or skipped, then the counts; a failed run does
    not stop the others. Returns the counts by outcome."""
    out = out or sys.stdout  # looked up now: tests and callers may have replaced it
    counts: Counter = Counter()
    for run in runs:
        shown = display(run)  # with any control characters of a name from elsewhere escaped
        if being_recorded(run):
            counts["skipped"] += 1
            print(
                f"skipped {shown}: still being captured (its manifest says running, and its proxies are up)",
                file=out,
                flush=True,
            )
            continue
        try:
            refreshed = refresh(run, target, redact, force)
        except ProbeError as error:
            counts["failed"] += 1
            print(f"failed {shown}: {one_line(str(error))}", file=out, flush=True)
            continue
        except Exception as error:  # a bug met in one capture must not cost the other runs their reports
            counts["failed"] += 1
            print(f"failed {shown}: {type(error).__name__}: {one_line(str(error))}", file=out, flush=True)
            continue
        if refreshed.why is None:
            counts["up to date"] += 1
            continue
        counts["rebuilt"] += 1
        print(f"rebuilt {shown}: {one_line(refreshed.why)}", file=out, flush=True)
        for warning in refreshed.warnings:
            print(f"  warning: {one_line(warning)}", file=out)
    summary = f"{counts['up to date']} up to date, {counts['rebuilt']} rebuilt, {counts['failed']} failed"
    summary += f", {counts['skipped']} skipped" if counts["skipped"] else ""
    print(summary, file=out, flush=True)
    return counts
