"""One agent version's outcome in one release scenario: the run that shows it, or why there is none."""

from dataclasses import dataclass
from pathlib import Path

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
