"""Writes report.md from a traffic.jsonl: totals, endpoint tables, payload structure, conversation log.

The `analyze` command: one run, every run (rebuilding only what is out of date, several side by side), or a
traffic.jsonl given with --input."""

import argparse
import sys
from pathlib import Path

from probe.analyse.prices import PRICES_HELP, prices_from
from probe.analysis.report import refresh, refresh_all, write
from probe.analysis.report_job import plan
from probe.analysis.side_by_side import default_jobs
from probe.common import cli
from probe.common.errors import RunError, UsageError, run_main, warn
from probe.common.paths import data_dir, display
from probe.runs.folders import being_recorded, list_runs, resolve_run
from probe.runs.targets import load_target
from probe.write.report_paths import check_output, insight_path, turns_path, viewer_path

SIDE_BY_SIDE_FROM = 8  # runs, for the default --jobs to be more than 1


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.analyze", description=__doc__)
    parser.add_argument(
        "--run",
        type=cli.not_empty,
        metavar="RUN",
        help="`latest` (default), `all` (every run under the data folder), a run folder name, or a run folder path; "
        "a report is rebuilt only if it is older than what it is made from",
    )
    parser.add_argument("--force", action="store_true", help="rebuild the reports even if they are up to date")
    parser.add_argument(
        "--target",
        metavar="NAME|FILE",
        help="target whose renderer to use; with --run latest, all or a run name, only this target's runs",
    )
    parser.add_argument("--input", metavar="TRAFFIC", help="a traffic.jsonl file to analyse instead of a run")
    parser.add_argument(
        "--output", metavar="REPORT", help="with --input: where to write the report (default: beside the input)"
    )
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="show token-shaped strings and URL secrets as captured (headers stay redacted)",
    )
    parser.add_argument("--prices", metavar="FILE", help=PRICES_HELP)
    parser.add_argument(
        "--jobs",
        type=job_count,
        metavar="N",
        help="with --run all: runs analysed side by side, each in a process of its own (default: the CPUs this "
        f"process may use, here {default_jobs()}, with {SIDE_BY_SIDE_FROM} runs or more); 1 analyses them one after "
        "another in this process",
    )
    args = parser.parse_args(argv)
    # Restored afterwards: main() may run inside a longer process (invoke, the tests) that analyses other runs.
    with prices_from(args.prices):
        return analyze_as_asked(args)


def job_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes, 1 or more, got {text!r}")
    return int(text)


def analyze_as_asked(args) -> int:
    """What main() was asked to do, with the prices in force."""
    target = load_target(args.target) if args.target else None
    redact = not args.no_redact
    if args.input and args.run:
        raise UsageError("--input and --run are alternatives: analyse a traffic.jsonl file, or a run")
    if args.input:
        traffic = Path(args.input)
        if not traffic.is_file():
            raise RunError(f"{args.input}: {'not a file' if traffic.exists() else 'no such file'}")
        output = Path(args.output) if args.output else traffic.with_name("report.md")
        check_output(output, traffic)
        job = plan(traffic, output, target, traffic.parent, redact)
        if not args.output:
            what = "rewriting" if output.exists() else "writing"
            beside = (
                f"(and {turns_path(output).name}, {insight_path(output).name}, {viewer_path(output).name}) beside "
                "the input"
            )
            print(f"no --output: {what} {display(output)} {beside}", file=sys.stderr)
        report, warnings = write(job)
        for warning in warnings:
            warn(warning)
        print(f"report: {display(report)}")
        print(f"viewer: {display(viewer_path(report))}")
        print(f"turns: {display(turns_path(report))}")  # named after the report: say where
        print(f"insight: {display(insight_path(report))}")
        return 0
    if args.output:
        raise RunError("--output goes with --input; a run's report is always written into its folder")
    if args.jobs and args.run != "all":
        raise UsageError("--jobs goes with --run all: one run is analysed in one process")
    if args.run == "all":
        if not data_dir().is_dir():  # a mistyped PROBE_DATA_DIR must not pass for "nothing to do"
            raise RunError(f"no data folder at {display(data_dir())} (see PROBE_DATA_DIR and invoke.yaml)")
        runs = list_runs(target.name if target else None)
        # Starting the workers costs about what analysing a few small runs does: by default, only for many runs.
        jobs = args.jobs or (default_jobs() if len(runs) >= SIDE_BY_SIDE_FROM else 1)
        counts = refresh_all(runs, target, redact, args.force, jobs=jobs)
        return 1 if counts["failed"] else 0
    run = resolve_run(args.run or "latest", target.name if target else None)
    if being_recorded(run):
        warn(f"{display(run)} is still being captured: the report covers what was recorded so far")
    refreshed = refresh(run, target, redact, args.force)
    for warning in refreshed.warnings:
        warn(warning)
    if refreshed.why is None:
        print(
            f"report: {display(refreshed.report)} (up to date: nothing it is made from has changed; "
            "--force rebuilds it)"
        )
    else:
        print(f"report: {display(refreshed.report)}")
    print(f"viewer: {display(viewer_path(refreshed.report))}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
