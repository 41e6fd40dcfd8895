"""The recording commands, each with the live feed beside the capture unless --quiet:
`python -m probe.record capture [options]` records one agent run (and writes an interactive session's report when it
ends); `python -m probe.record proxies [options]`
records through the proxies alone until stopped. `invoke capture` and `invoke proxies` call the same."""

import sys
from pathlib import Path

from probe.capture.options import (
    add_capture_arguments,
    mock_transport_of,
    parse_capture_arguments,
    proxies_arguments,
    session_of,
)
from probe.capture.processes import StopSignals
from probe.capture.run import capture, capture_from_arguments, report_outcome
from probe.common import cli
from probe.common.errors import UsageError, run_main
from probe.runs.targets import load_target
from probe.write import live_feed


def capture_main(argv: list[str] | None = None) -> int:
    """Records one run: new run folder, proxies up, agent run to its end, proxies down, manifest; an interactive
    session's report too."""
    parser = cli.ArgumentParser(prog="python -m probe.record capture", description=capture_main.__doc__)
    add_capture_arguments(parser)
    args = parse_capture_arguments(parser, argv)
    target = load_target(args.target)
    interactive = session_of(args) == "interactive"
    feed = live_feed.beside(target, args.quiet, args.feed, interactive)
    if not interactive:
        return capture_from_arguments(args, target, feed).exit_code
    # Loaded here, before the session, and only for one: the analysis takes a while to load, which a recording
    # alone (`proxies`, a non-interactive capture) does not wait for.
    from probe.analysis.report import report_the_run

    # Someone who worked with the agent for an hour wants to read the session when it ends, as `pipeline` gives it:
    # one stop-signal handling for both, so that the report of a stopped session is part of stopping.
    with StopSignals(f"{StopSignals.SAYING}; the report follows") as signals:
        result = capture_from_arguments(args, target, feed, signals)
        if result.status != "recording-failed":  # the disk that refused the capture would refuse the report too
            report_the_run(result.run, target)
    return result.exit_code


def proxies_main(argv: list[str] | None = None) -> int:
    """Starts the target's proxies and records through them until stopped: the same recording as a run,
    without an agent."""
    args = proxies_arguments(argv, proxies_main.__doc__)
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
        watch=live_feed.beside(target, args.quiet),
        listen_from_target=True,  # a client pointed at the proxies by hand finds them where the target says
        all_hosts=args.all_hosts,
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
