"""The recording commands, each with the live feed beside the capture unless --quiet:
`python -m probe.record capture [options]` records one agent run; `python -m probe.record proxies [options]`
records through the proxies alone until stopped. `invoke capture` and `invoke proxies` call the same."""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from probe.capture.proxies import mock_transport_of, parse_args
from probe.capture.run import CaptureResult, add_capture_arguments, capture, report_outcome
from probe.common import cli
from probe.common.errors import UsageError, run_main
from probe.runs.targets import Target, load_target
from probe.write import live_feed


def live_feed_beside(target: Target, quiet: bool):
    """What the capture starts once the run folder exists: one terminal line per recorded exchange."""
    if quiet:
        return None

    def watch(traffic: Path) -> Callable[[], None]:
        follower = live_feed.start(traffic, target)
        return lambda: live_feed.stop(follower)

    return watch


def record_agent_run(args: argparse.Namespace, target: Target) -> CaptureResult:
    """The run `capture` and `pipeline` both record, from the options they share (run.add_capture_arguments)."""
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
        watch=live_feed_beside(target, args.quiet),
    )
    report_outcome(result)
    return result


def capture_main(argv: list[str] | None = None) -> int:
    """Records one run: new run folder, proxies up, agent run to its end, proxies down, manifest."""
    parser = cli.ArgumentParser(prog="python -m probe.record capture", description=capture_main.__doc__)
    add_capture_arguments(parser)
    args = parser.parse_args(argv)
    return record_agent_run(args, load_target(args.target)).exit_code


def proxies_main(argv: list[str] | None = None) -> int:
    """Starts the target's proxies and records through them until stopped: the same recording as a run,
    without an agent."""
    args = parse_args(argv)
    target = load_target(args.target)
    result = capture(
        target,
        None,
        None,
        args.upstream,
        ports=args.port,
        keep_secrets=args.keep_secrets,
        mock_transport=mock_transport_of(args),
        upstream_proxy=args.upstream_proxy,
        run=Path(args.run) if args.run else None,
        agent=False,
        watch=live_feed_beside(target, args.quiet),
    )
    report_outcome(result, agent=False)
    return 0 if result.status == "complete" else 1


COMMANDS = {"capture": capture_main, "proxies": proxies_main}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        raise UsageError(f"expected a command, {' or '.join(COMMANDS)} (see python -m probe.record capture --help)")
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(run_main(main))
