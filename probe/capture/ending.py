"""How a recording ends: what the proxies add to the agent's outcome, and the manifest closed with it."""

import sys

from probe.capture.supervision import Outcome
from probe.common.errors import RunError, one_line
from probe.common.paths import display


def proxy_outcome(proxies, outcome: Outcome) -> Outcome:
    """What the proxies (probe.capture.proxies.RunningProxies) add to the outcome: recording that stopped, or
    mitmdump dying, outranks the agent's end."""
    if proxies.fatal and outcome.status != "recording-failed":
        return Outcome("recording-failed", 1, proxies.fatal, outcome.agent_code)
    if proxies.died and outcome.status not in ("proxy-failed", "recording-failed", "run-deleted"):
        return Outcome("proxy-failed", 1, proxies.died, outcome.agent_code)
    return outcome


def finish_manifest(recording, outcome: Outcome, proxies) -> Outcome:
    """Close the run's manifest (a probe.capture.session.Recording) with the outcome and the proxies' count of
    recording errors (probe.capture.proxies.RunningProxies, or None if they never started)."""
    errors = proxies.recording_errors if proxies is not None else 0
    try:
        recording.finish(outcome.status, outcome.agent_code, outcome.note, errors)
    except RunError as error:
        # A full disk may refuse even the manifest: say so with the outcome, in the same one line.
        note = f"{outcome.note}; {error}" if outcome.note else str(error)
        return Outcome(outcome.status, outcome.exit_code or 1, note, outcome.agent_exit_code)
    return outcome


def report_outcome(result, agent: bool = True) -> None:
    """The run folder and how the run ended (a probe.capture.run.CaptureResult); a failure of the recording itself
    as one `error:` line."""
    if result.status in ("proxy-failed", "recording-failed") and result.note:
        # The note may quote mitmdump's log, which quotes what it was sent.
        print(f"error: {one_line(result.note)} ({display(result.run)})", file=sys.stderr)
    if agent:
        print(f"run folder: {display(result.run)} ({result.status}, agent exit code {result.agent_exit_code})")
        if result.last_word:
            print(result.last_word, file=sys.stderr)
    else:
        print(f"run folder: {display(result.run)} ({result.status})")
