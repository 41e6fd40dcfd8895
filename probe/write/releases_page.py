"""Writes one target's changelog, newest version first: releases.md and releases.html, and beside them the full
diff of each version with the one before (probe.write.diff), each entry linking to its runs and its diff."""

import re
import sys
from pathlib import Path

from probe.analyse.prices import prices_from
from probe.analyse.releases.changes import changes
from probe.analyse.releases.facts import NotUnderstood, VersionRuns, comparing_scenario
from probe.analyse.releases.version import read_version
from probe.common import cli
from probe.common.errors import UsageError, run_main
from probe.common.paths import display
from probe.runs.folders import private_replacement
from probe.runs.release_runs import ReleaseRun, rows_from_json
from probe.write.diff import diff_runs, prices_of_both
from probe.write.releases_doc import Block, Heading, Item, Link, Para, Quoted
from probe.write.releases_entry import change_blocks, figures_table, not_understood_lines, quoted
from probe.write.releases_html import page
from probe.write.releases_markdown import markdown


def version_key(version: str) -> tuple:
    """Versions in release order: their numbers compared as numbers (0.10.0 after 0.9.0), words as words."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.+-]", version))


def by_version(rows: list[ReleaseRun]) -> dict[str, list[ReleaseRun]]:
    """The rows of each version, oldest version first, each version's rows in the order given."""
    grouped: dict[str, list[ReleaseRun]] = {}
    for row in rows:
        grouped.setdefault(row.version, []).append(row)
    return dict(sorted(grouped.items(), key=lambda item: version_key(item[0])))


def changelog(target: str, rows: list[ReleaseRun], out: Path, compares: str | None = None) -> list[Path]:
    """Write `out/<target>/releases.md`, `releases.html` and a `diff-<older>-<newer>.md` for each version and the
    completed one before it; `compares` names the scenario whose runs compare structure (else the first both
    versions completed). Returns the paths written."""
    here = out / target
    here.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries: list[list[Block]] = []
    learn: list[tuple[str, NotUnderstood]] = []
    failed: list[ReleaseRun] = []
    before: VersionRuns | None = None
    for version, version_rows in by_version(rows).items():
        read = read_version(version, version_rows)
        failed += [row for row in version_rows if row.outcome not in ("complete", "not offered")]
        blocks: list[Block] = [Heading(2, [f"{version}"], anchor=f"v{version}")]
        if not read.runs:
            blocks.append(Para(["No scenario completed: nothing to compare."]))
        elif before is None:
            blocks.append(Para(["The oldest version here: nothing before it to compare with."]))
        else:
            scenario = comparing_scenario(before, read, compares)
            found = changes(before, read, scenario)
            intro: list = [f"Since {before.version}"]
            if scenario is not None:
                diff = here / f"diff-{safe(before.version)}-{safe(version)}.md"
                write_diff(before.runs[scenario].run, read.runs[scenario].run, diff)
                written.append(diff)
                intro += [", compared on the runs of scenario ", quoted(scenario), " (",
                          Link("full diff", diff.name), ")"]  # fmt: skip
            blocks += [Para([*intro, "."]), *change_blocks(found)]
        blocks += [Heading(3, ["Scenarios"]), figures_table(version_rows, read, here)]
        not_understood = read.not_understood()
        if not_understood:
            blocks += [Heading(3, ["Not understood"]), *not_understood_lines(not_understood)]
            learn.append((version, not_understood))
        entries.append(blocks)
        if read.runs:
            before = read
    document = [Heading(1, [f"Releases of {target}"]), Para([
        "Each version, newest first: what changed since the version before, from its runs against the mock. "
        "Figures are each run's own report's."])]  # fmt: skip
    document += needs_to_learn(learn, failed)
    for blocks in reversed(entries):
        document += blocks
    for path, text in (
        (here / "releases.md", markdown(document)),
        (here / "releases.html", page(f"Releases of {target}", document)),
    ):
        with private_replacement(path) as file:
            file.write(text)
        written.append(path)
    return written


def needs_to_learn(learn: list[tuple[str, NotUnderstood]], failed: list[ReleaseRun]) -> list[Block]:
    """What agent-probe needs to learn to read the newest versions fully, newest first, and what did not complete."""
    blocks: list[Block] = [Heading(2, ["What agent-probe needs to learn"], anchor="learn")]
    lines: list[Block] = []
    for version, found in reversed(learn):
        for line in not_understood_lines(found):
            lines.append(Item([f"{version}: ", *line.pieces]))
    for row in reversed(failed):
        why = [": ", Quoted(row.why)] if row.why else []
        lines.append(Item([f"{row.version}: scenario ", quoted(row.scenario), f" {row.outcome}", *why]))
    return blocks + (lines or [Para(["Nothing: every model was priced, every window and telemetry service known, "
                                     "every exchange read, and every scenario completed."])])  # fmt: skip


def safe(version: str) -> str:
    """A version as a file name's part: a registry's versions are plain, but a row's text is not trusted."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", version)[:60]


def write_diff(older: Path, newer: Path, path: Path) -> None:
    """The full `invoke diff` of the two runs, priced as their reports were."""
    with prices_from(prices_of_both([older, newer])):
        text, _ = diff_runs(older, newer)
    with private_replacement(path) as file:
        file.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m probe.write.releases_page",
        description="Write one target's changelog (releases.md, releases.html and the diffs between its versions) "
        "from release rows, as `python -m probe.releases` hands them.",
    )
    parser.add_argument("--rows", required=True, metavar="FILE|-", help="the rows, a JSON list (-: standard input)")
    parser.add_argument("--output", required=True, metavar="DIR", help="the pages go to DIR/<target>/")
    parser.add_argument(
        "--compares",
        type=cli.scenario_name,
        metavar="NAME",
        help="the scenario whose runs compare structure (default: the first both versions completed)",
    )
    args = parser.parse_args(argv)
    rows = rows_from_json(cli.read_input(args.rows))
    targets = {row.target for row in rows}
    if len(targets) != 1:
        raise UsageError(f"--rows: expected the rows of one target, got {len(targets)}")
    for path in changelog(targets.pop(), rows, Path(args.output), args.compares):
        print(f"wrote {display(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
