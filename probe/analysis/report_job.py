"""What writing a report takes: the capture, where the report goes, the run's manifest and the renderer chosen."""

from dataclasses import dataclass, field
from pathlib import Path

from probe.analyse.prices import price_book
from probe.apis.choice import Choice, choose
from probe.common.errors import RunError
from probe.common.paths import display
from probe.runs.folders import load_manifest
from probe.runs.ledger import REPORT
from probe.runs.targets import Target
from probe.write.report_header import made_with


@dataclass
class Job:
    """One report to write: the capture, where the report goes, the run's manifest and the renderer chosen."""

    traffic: Path
    output: Path
    manifest: dict | None
    choice: Choice
    redact: bool
    warnings: list[str]  # met while choosing; the report's own are added when it is written

    @property
    def stamp(self) -> str:
        return made_with(self.choice.name, self.redact, price_book().provenance())

    @property
    def prices(self) -> Path | None:
        """The price file the report is made with (None: the price database alone), which the ledger keeps."""
        return price_book().file


def plan(traffic: Path, output: Path, target: Target | None, run: Path, redact: bool = True) -> Job:
    """What writing the report of `traffic` (with the manifest in `run`, if any) to `output` would take."""
    manifest, problem = load_manifest(run)
    warnings = [problem] if problem else []
    return Job(traffic, output, manifest, choose(target, manifest, warnings), redact, warnings)


def run_job(run: Path, target: Target | None = None, redact: bool = True) -> Job:
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(traffic)}: no such file (is {display(run)} a run folder?)")
    return plan(traffic, run / REPORT.outputs[0], target, run, redact)


@dataclass
class Refreshed:
    """A run's report after a refresh: its path, why it was rebuilt (None: it was up to date), its warnings."""

    report: Path
    why: str | None
    warnings: list[str] = field(default_factory=list)
