"""Captures an agent run and writes its report in one go: `capture`, then `analyze`."""

import os
import sys
from collections.abc import Callable
from pathlib import Path

from probe.analyse.prices import MOCK_PRICES, PRICES_ENV, PRICES_HELP, prices_from
from probe.analysis.report import report_the_run, viewer_reading
from probe.capture.options import add_capture_arguments, parse_capture_arguments, session_of
from probe.capture.processes import StopSignals
from probe.capture.run import Watch, capture_from_arguments
from probe.common import cli
from probe.common.errors import run_main
from probe.runs.targets import Target, load_target
from probe.write import live_feed
from probe.write.live.run_data import LiveData
from probe.write.live.viewer import PipelineViewer, wait_until_stopped


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.pipeline", description=__doc__)
    add_capture_arguments(parser)
    parser.add_argument("--prices", metavar="FILE", help=PRICES_HELP)
    parser.add_argument("--view", action="store_true",
                        help="serve the viewer from 127.0.0.1 while the run is recorded (at an address with a random "
                        "token, printed), and after it until Ctrl-C")  # fmt: skip
    args = parse_capture_arguments(parser, argv)
    # Restored afterwards: main() may run inside a longer process (invoke, the tests) that analyses other runs.
    with prices_from(args.prices or mock_prices(args.upstream)):
        return run_as_asked(args)


def mock_prices(upstream: str | None) -> Path | None:
    """The mock's price file for a run against the mock when no price file was named (--prices, PROBE_PRICES): the
    agents' default models are newer than some installs' price database, and a first run should say what it costs."""
    if upstream != "mock" or os.environ.get(PRICES_ENV):
        return None
    return MOCK_PRICES


def run_as_asked(args) -> int:
    """What main() was asked to do, with the prices in force."""
    target = load_target(args.target)
    live = PipelineViewer(lambda run: live_data(run, target)) if args.view else None
    feed = live_feed.beside(target, args.quiet, args.feed, session_of(args) == "interactive")
    watch = watching(feed, live.watch if live else None)
    # One stop-signal handling for the capture and the report: once Ctrl-C (or SIGTERM, SIGHUP) has stopped
    # the run, writing its report is part of stopping, and pressing Ctrl-C again does not cut it short.
    with StopSignals(f"{StopSignals.SAYING}; the report follows") as signals:
        try:
            result = capture_from_arguments(args, target, watch, signals)
            if live and live.viewer:
                live.viewer.run_ended()  # the manifest now says how the run ended
            if result.status == "recording-failed":
                return result.exit_code  # the disk that refused the capture would refuse the report as well
            report_the_run(result.run, target)
            if live and live.viewer and not signals.asked:  # a run stopped by Ctrl-C takes its viewer along
                print(f"the run ended; the live viewer stays at {live.viewer.server.url} until Ctrl-C", flush=True)
                wait_until_stopped()
        finally:
            if live and live.viewer:
                live.viewer.close()
    return result.exit_code


def live_data(run: Path, target: Target) -> LiveData:
    """The live viewer's data for the run: read as its report.html will be."""
    reading, job = viewer_reading(run, target)
    return LiveData(job.traffic, reading, job.warnings)


def watching(*watches: Watch | None) -> Watch | None:
    """One watch for the capture that starts each of `watches` given, and stops each."""
    given = [watch for watch in watches if watch is not None]
    if len(given) < 2:
        return given[0] if given else None

    def watch(traffic: Path) -> Callable[[], None]:
        stops = [each(traffic) for each in given]

        def stop() -> None:
            for each in stops:
                each()

        return stop

    return watch


def entry() -> None:
    sys.exit(run_main(main))


if __name__ == "__main__":
    entry()
