"""One agent version's outcome in one release scenario: the run that shows it, or why there is none."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from probe.common import npm_names, pypi_names
from probe.common.cli import SCENARIO_NAME
from probe.common.errors import UsageError, one_line
from probe.common.paths import TARGET_NAME
from probe.runs.folders import MANIFEST, RUN_NAME

# How a version fared in a scenario. Only COMPLETE has a run whose figures mean anything; FAILED has a run folder
# that says how it ended; the others have none.
COMPLETE = "complete"  # the run ended as a complete one
FAILED = "failed"  # the run was made but did not complete (the agent failed, stalled, or the capture did)
INSTALL_FAILED = "install failed"  # the version could not be installed: no run was made
NOT_OFFERED = "not offered"  # the target cannot play this scenario (no telemetry of its own, say): no run
OUTCOMES = (COMPLETE, FAILED, INSTALL_FAILED, NOT_OFFERED)


@dataclass(frozen=True)
class ReleaseRun:
    """One version of one target in one scenario."""

    target: str
    version: str  # a plain version, as the target's package registry spells it
    scenario: str  # the scenario's name in the scenarios file
    outcome: str  # one of OUTCOMES
    run: Path | None = None  # the run folder, when one was made or found
    why: str | None = None  # one line: why it failed or is not offered
    made: bool = False  # made by this invocation (False: an earlier run was reused, or none was made)

    @property
    def completed(self) -> bool:
        return self.outcome == COMPLETE and self.run is not None


def rows_json(rows: list[ReleaseRun]) -> str:
    """The rows as the writers' scripts read them (`--rows`): a JSON list, one object per row."""
    return json.dumps([{**asdict(row), "run": str(row.run) if row.run else None} for row in rows])


def rows_from_json(text: str) -> list[ReleaseRun]:
    """The rows a `--rows` file gives. Untrusted: every field is checked, and a run must be a run folder (its name
    `<timestamp>[-label]`, with a manifest), so nothing else is opened; a fault is a UsageError in one line."""
    try:
        given = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--rows: not JSON ({one_line(str(error))})") from None
    if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
        raise UsageError("--rows: expected a JSON list of rows, each an object")
    return [checked_row(number, item) for number, item in enumerate(given, 1)]


def checked_row(number: int, item: dict) -> ReleaseRun:
    """One row of a `--rows` file, each field checked."""
    fields = {name: item.get(name) for name in ("target", "version", "scenario", "outcome", "run", "why", "made")}
    faults = [
        fault
        for fault, bad in (
            ("target", not isinstance(fields["target"], str) or not TARGET_NAME.match(fields["target"])),
            ("version", not isinstance(fields["version"], str) or not plain_version(fields["version"])),
            ("scenario", not isinstance(fields["scenario"], str) or not SCENARIO_NAME.fullmatch(fields["scenario"])),
            ("outcome", fields["outcome"] not in OUTCOMES),
            ("why", fields["why"] is not None and not isinstance(fields["why"], str)),
            ("made", not isinstance(fields["made"], bool)),
            ("run", fields["run"] is not None and not is_run_folder(fields["run"])),
        )
        if bad
    ]
    if faults:
        raise UsageError(f"--rows: row {number}: {', '.join(faults)} not as a release row has it")
    return ReleaseRun(**{**fields, "run": Path(fields["run"]) if fields["run"] else None})


def plain_version(text: str) -> bool:
    return npm_names.is_plain_version(text) or pypi_names.is_plain_version(text)


def is_run_folder(path: object) -> bool:
    """A path naming a run folder: `<timestamp>[-label]`, a directory with a manifest."""
    if not isinstance(path, str) or "\x00" in path:
        return False
    folder = Path(path)
    return bool(RUN_NAME.match(folder.name)) and (folder / MANIFEST).is_file()
