"""Where a report's files go: report.html, turns.jsonl and insight.jsonl beside report.md (Y.html beside Y.md),
and never over a capture."""

import os
from pathlib import Path

from probe.common.errors import RunError
from probe.runs.folders import CAPTURE_FILES
from probe.runs.ledger import REPORT
from probe.write.insight_lines import INSIGHT_FILE, INSIGHT_SUFFIX

TURNS_FILE = "turns.jsonl"  # written beside report.md: one line per exchange, in the conversation model
TURNS_SUFFIX = ".turns.jsonl"  # of the turns beside a report named otherwise (Y.md: Y.turns.jsonl)


def viewer_path(report: Path) -> Path:
    """report.html beside report.md; Y.html beside Y.md."""
    return report.with_suffix(".html")


def turns_path(report: Path) -> Path:
    """turns.jsonl beside report.md (a run folder's documented name); Y.turns.jsonl beside Y.md, so that two
    reports in one folder never share, or overwrite, each other's turns."""
    return report.with_name(TURNS_FILE if report.name == REPORT.outputs[0] else report.stem + TURNS_SUFFIX)


def insight_path(report: Path) -> Path:
    """insight.jsonl beside report.md; Y.insight.jsonl beside Y.md."""
    return report.with_name(INSIGHT_FILE if report.name == REPORT.outputs[0] else report.stem + INSIGHT_SUFFIX)


def check_output(output: Path, traffic: Path) -> None:
    """Refuse to write the report over the capture it is made from, or over any run's capture files."""
    if output.name in CAPTURE_FILES or output.resolve().name in CAPTURE_FILES:
        raise RunError(f"--output {output}: that name is a run's capture file; write the report elsewhere")
    if output.exists() and os.path.samefile(output, traffic):
        raise RunError(f"--output {output}: that is the capture itself (--input); write the report elsewhere")
    if output.suffix != ".md":
        raise RunError(
            f"--output {output}: name the report .md (its viewer and turns are named after it: "
            f"{output.stem}.html, {output.stem}{TURNS_SUFFIX})"
        )
    derived_files = (
        (viewer_path(output), "the viewer"), (turns_path(output), "the turns"), (insight_path(output), "the insight")
    )  # fmt: skip
    for derived, what in derived_files:
        if derived.exists() and os.path.samefile(derived, traffic):
            raise RunError(
                f"--output {output}: {what} would be written beside the report as {derived.name}, and that is "
                "the capture itself (--input); write the report elsewhere"
            )
