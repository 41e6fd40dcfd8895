"""Captures an agent run and writes its report in one go: `capture`, then `analyze`."""

import sys

from probe.analyse.prices import PRICES_HELP, prices_from
from probe.capture.options import add_capture_arguments
from probe.capture.processes import StopSignals
from probe.capture.run import capture_from_arguments
from probe.common import cli
from probe.common.errors import run_main, warn
from probe.common.paths import display
from probe.runs.targets import load_target
from probe.write import live_feed
from probe.write.report import analyze_run, viewer_path


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.pipeline", description=__doc__)
    add_capture_arguments(parser)
    parser.add_argument("--prices", metavar="FILE", help=PRICES_HELP)
    args = parser.parse_args(argv)
    # Restored afterwards: main() may run inside a longer process (invoke, the tests) that analyses other runs.
    with prices_from(args.prices):
        return run_as_asked(args)


def run_as_asked(args) -> int:
    """What main() was asked to do, with the prices in force."""
    target = load_target(args.target)
    # One stop-signal handling for the capture and the report: once Ctrl-C (or SIGTERM, SIGHUP) has stopped
    # the run, writing its report is part of stopping, and pressing Ctrl-C again does not cut it short.
    with StopSignals(f"{StopSignals.SAYING}; the report follows") as signals:
        result = capture_from_arguments(args, target, live_feed.beside(target, args.quiet), signals)
        if result.status == "recording-failed":
            return result.exit_code  # the disk that refused the capture would refuse the report as well
        # A report is written whatever the agent did: a failed or interrupted run is worth reading too.
        report, warnings = analyze_run(result.run, target)
    for warning in warnings:
        warn(warning)
    print(f"report: {display(report)}")
    print(f"viewer: {display(viewer_path(report))}")
    return result.exit_code


def entry() -> None:
    sys.exit(run_main(main))


if __name__ == "__main__":
    entry()
