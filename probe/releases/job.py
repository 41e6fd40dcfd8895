"""Plays the release scenarios with every version of an agent asked for (or with several agents on one scenario),
against the mock, Make-style, and hands the rows to the changelog (or the side-by-side table)."""

import argparse
import sys
import time
from pathlib import Path

from probe.capture.agents import target_and_version
from probe.common import cli
from probe.common.errors import UsageError, one_line, run_main
from probe.common.paths import data_dir, display
from probe.runs.release_runs import COMPLETE, FAILED, INSTALL_FAILED, ReleaseRun
from probe.runs.targets import Target, load_target

from . import outputs, scenarios, versions
from .runs import Player

DEFAULT_TIMEOUT = 300.0  # seconds a run's agent may take: a version that hangs against the mock is a failed row


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m probe.releases", description=__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--target", metavar="NAME|FILE", help="the agent whose versions are played")
    which.add_argument(
        "--targets",
        type=listed,
        metavar="A,B,...",
        help="agents side by side on one --scenario, each at its pin, or NAME@X.Y.Z at that version",
    )
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--versions", type=listed, metavar="A,B,...", help="these versions, each listed")
    chosen.add_argument("--last", type=count, metavar="N", help="the newest N releases")
    chosen.add_argument("--since", metavar="VERSION|pinned",
                        help="every release after VERSION (`pinned`: the target's pin), VERSION itself first "
                        "(the default: --since pinned)")  # fmt: skip
    parser.add_argument("--scenario", action="append", type=listed, default=[], metavar="NAME,...",
                        help="only these scenarios (repeatable; default: every one of the file)")  # fmt: skip
    parser.add_argument("--scenarios", metavar="FILE", help="the scenarios file (default: the bundled one)")
    parser.add_argument("--remake", action="store_true", help="make every run again, even those that exist")
    parser.add_argument("--output", metavar="DIR", help="where the pages go (default: releases/ in the data folder)")
    parser.add_argument("--timeout", type=cli.seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"stop each run's agent after this long (default: {DEFAULT_TIMEOUT:g})")  # fmt: skip
    args = parser.parse_args(argv)
    args.scenario = [name for names in args.scenario for name in names]
    if args.targets is not None and (args.versions or args.last or args.since):
        parser.error("--targets plays each agent at its pin (or NAME@X.Y.Z): --versions, --last and --since go with "
                     "--target")  # fmt: skip
    if args.targets is not None and len(args.scenario) != 1:
        parser.error("--targets puts agents side by side on one scenario: give one --scenario")
    return args


def listed(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number, 1 or more, got {text!r}")
    return int(text)


def installable(spec: str) -> Target:
    """The target, which must name a package its versions come from."""
    target = load_target(spec)
    if target.install is None:
        raise UsageError(f"{target.name} names no npm or PyPI package (agent.install) to install versions from")
    return target


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    played = scenarios.select(scenarios.load(Path(args.scenarios) if args.scenarios else None), args.scenario)
    out = Path(args.output) if args.output else data_dir() / "releases"
    if args.targets is not None:
        return side_by_side(args, played[0], out)
    target = installable(args.target)
    listing = versions.listed_versions(target.install)
    chosen = versions.choose(listing, target.install, args.versions, args.last, args.since)
    print(f"{target.name}: {len(chosen)} version(s) ({', '.join(chosen)}) × {len(played)} scenario(s)", flush=True)
    player = Player(target, args.target, args.timeout, args.remake)
    rows = [step(player, version, scenario) for version in chosen for scenario in played]
    compares = next((scenario.name for scenario in played if scenario.compares), None)
    outputs.changelog(rows, out, compares)
    return finish(rows)


def side_by_side(args: argparse.Namespace, scenario: scenarios.Scenario, out: Path) -> int:
    """Each agent of --targets at its pin (or the version after its @) on the one scenario."""
    specs = [target_and_version(spec) for spec in args.targets]
    chosen = [(spec, installable(spec), version) for spec, version in specs]  # every one checked before any runs
    for spec, target, version in chosen:
        if version is not None and not target.install.is_plain_version(version):
            raise UsageError(f"{spec}@{version}: not a plain {target.install.registry} version")
    rows = [
        step(Player(target, spec, args.timeout, args.remake), version or target.install.version, scenario)
        for spec, target, version in chosen
    ]
    outputs.side_by_side(rows, out)
    return finish(rows)


def step(player: Player, version: str, scenario: scenarios.Scenario) -> ReleaseRun:
    """One version in one scenario, and its progress line."""
    started = time.monotonic()
    row = player.play(version, scenario)
    print(progress(row, time.monotonic() - started), flush=True)
    return row


def progress(row: ReleaseRun, seconds: float) -> str:
    """`codex 0.169.0 answer: made (complete, 4.1 s) data/codex/…-v0.169.0-answer`: how long a run took to make (the
    install of its version included)."""
    if row.outcome == COMPLETE:
        said = f"made (complete, {seconds:.1f} s)" if row.made else "reused (complete)"
    elif row.outcome == FAILED:
        said = f"failed, {'made' if row.made else 'reused'} ({row.why})"
    else:
        said = f"{row.outcome}: {row.why}"
    where = f" {display(row.run)}" if row.run else ""
    return f"{row.target} {row.version} {row.scenario}: {one_line(said)}{where}"


def finish(rows: list[ReleaseRun]) -> int:
    """The exit code, once the pages are written: 1 when a version failed to install or to complete a scenario."""
    broken = [row for row in rows if row.outcome in (FAILED, INSTALL_FAILED)]
    if broken:
        named = ", ".join(f"{row.target} {row.version} {row.scenario}" for row in broken)
        print(f"{len(broken)} of {len(rows)} failed: {named}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
