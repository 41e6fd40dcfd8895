"""The command-line face of a recording: the run `capture` and `pipeline` record from their shared options, and
the lines that say how it ended."""

import argparse
import sys

from probe.capture import processes
from probe.capture.options import mock_transport_of
from probe.capture.run import CaptureResult, Watch, capture
from probe.common.errors import one_line
from probe.common.paths import display
from probe.runs.targets import Target


def capture_from_arguments(
    args: argparse.Namespace,
    target: Target,
    watch: Watch | None,
    signals: processes.StopSignals | None = None,
    stand_in: bool = False,
) -> CaptureResult:
    """The run `capture` and `pipeline` both record, from the options they share (add_capture_arguments)."""
    result = capture(
        target,
        args.prompt,
        args.command,
        args.upstream,
        args.label,
        args.port,
        args.timeout,
        args.keep_secrets,
        mock_transport_of(args),
        args.upstream_proxy,
        args.full_traffic,
        agent_version=args.agent_version,
        watch=watch,
        signals=signals,
        stand_in=stand_in,
        workdir=args.workdir,
    )
    report_outcome(result)
    return result


def report_outcome(result: CaptureResult, agent: bool = True) -> None:
    """The run folder and how the run ended; a failure of the recording itself as one `error:` line."""
    if result.status in ("proxy-failed", "recording-failed") and result.note:
        # The note may quote mitmdump's log, which quotes what it was sent.
        print(f"error: {one_line(result.note)} ({display(result.run)})", file=sys.stderr)
    if agent:
        print(f"run folder: {display(result.run)} ({result.status}, agent exit code {result.agent_exit_code})")
    else:
        print(f"run folder: {display(result.run)} ({result.status})")
