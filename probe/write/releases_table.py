"""Agents side by side on one scenario: `side-by-side-<scenario>.md` and `.html`, one table with a column per agent
(target@version) and a row per figure, each figure its run's own report's, then what only one agent has."""

import sys
from pathlib import Path

from probe.analyse.prices_kept import keeping_prices
from probe.analyse.run_summary import summarise
from probe.analyse.side_by_side.figures import Figures
from probe.analyse.side_by_side.reading import run_figures
from probe.analyse.side_by_side.unique import unique_to_each
from probe.analyse.volatile import Volatile, run_places
from probe.common import cli
from probe.common import markdown as md
from probe.common.cli import SCENARIO_NAME
from probe.common.errors import UsageError, one_line, run_main
from probe.common.paths import display
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import private_replacement, read_manifest
from probe.runs.release_runs import ReleaseRun, rows_from_json
from probe.write.releases_table_html import page
from probe.write.releases_table_rows import Cell, Column, Link, Quoted, table_rows, unique_lists

ABOUT = (
    "Each figure is the one its run's own report gives: instructions and tools in the request that sent the most of "
    "them (its row of the report's Context, by turn), their share of the context over the run (its Summary), "
    "tokens as its header sums them, cost at the prices its report was made with. Instruction characters are those "
    "of the distinct instruction blocks the run sent, as the diff compares them."
)

# A scenario's name, as the scenarios file allows it: it names the files written, which stay in `out`.


def side_by_side(scenario: str, rows: list[ReleaseRun], out: Path) -> list[Path]:
    """Write the table of `rows` (one scenario's release runs, one per agent) into `out`; return the paths written."""
    if not SCENARIO_NAME.fullmatch(scenario):
        raise UsageError(f"scenario {one_line(scenario)!r}: a name of letters, digits and -, 1 to 40 characters")
    out.mkdir(parents=True, exist_ok=True)
    columns = [Column(f"{row.target}@{row.version}", row, figures_of(row.run) if row.completed else None)
               for row in rows]  # fmt: skip
    read = {column.name: column.figures for column in columns if column.figures is not None}
    for column in columns:
        column.unique = unique_to_each(read).get(column.name) if read else None
    warnings = [
        f"{column.name}: {warning}" for column in columns if column.figures for warning in column.figures.warnings
    ]
    written = []
    with md.masked_by(mask_tokens_and_urls):
        text = markdown(scenario, columns, out, warnings)
        html_text = page(scenario, columns, table_rows(columns, out), ABOUT, warnings)
    for name, content in ((f"side-by-side-{scenario}.md", text), (f"side-by-side-{scenario}.html", html_text)):
        with private_replacement(out / name) as file:
            file.write(content)
        written.append(out / name)
    return written


def figures_of(run: Path) -> Figures:
    """Read `run` as its report was made: with its own prices, by the diff's reading (probe.analyse.run_summary)."""
    warnings: list[str] = []
    manifest = read_manifest(run)
    with keeping_prices(run, warnings):
        summary = summarise(run, Volatile(run_places(run, manifest)))
    figures = run_figures(run, summary, manifest if isinstance(manifest, dict) else {})
    figures.warnings[:0] = warnings
    return figures


def markdown_of(cell: Cell) -> md.Markdown:
    parts = []
    for piece in cell:
        if isinstance(piece, Quoted):
            parts.append(md.inline(piece.text))
        elif isinstance(piece, Link):  # our words, and a percent-encoded relative path: nothing captured
            parts.append(md.Markdown(f"[{piece.text}]({piece.href})"))
        else:
            parts.append(md.text(piece))
    return md.Markdown("").join(parts)


def markdown(scenario: str, columns: list[Column], out: Path, warnings: list[str]) -> str:
    lines = [md.Markdown("# Agents side by side: scenario {}").format(md.inline(scenario)), "", ABOUT, ""]
    if not columns:
        return "\n".join([*lines, "No agent was run on this scenario.", ""])
    headers = [md.Markdown("figure"), *(md.inline(column.name) for column in columns)]
    rows = [[md.text(label), *(markdown_of(cell) for cell in cells)] for label, cells in table_rows(columns, out)]
    lines += [md.table(headers, rows), ""]
    for column in columns:
        lists = unique_lists(column)
        if not lists:
            continue
        lines += [md.Markdown("## Only in {}").format(md.inline(column.name)), ""]
        for kind, names in lists:
            lines.append(
                md.Markdown("- {}: {}").format(kind, md.Markdown(", ").join(md.inline(name) for name in names))
            )
        lines.append("")
    if warnings:
        lines += ["## Warnings", "", *(md.Markdown("- {}").format(md.text(warning)) for warning in warnings), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m probe.write.releases_table",
        description="Write the table of agents side by side on one scenario from release rows, as "
        "`python -m probe.releases --targets` hands them.",
    )
    parser.add_argument("--rows", required=True, metavar="FILE|-", help="the rows, a JSON list (-: standard input)")
    parser.add_argument("--output", required=True, metavar="DIR", help="the pages go to DIR")
    args = parser.parse_args(argv)
    rows = rows_from_json(cli.read_input(args.rows))
    scenarios = {row.scenario for row in rows}
    if len(scenarios) != 1:
        raise UsageError(f"--rows: expected the rows of one scenario, got {len(scenarios)}")
    for path in side_by_side(scenarios.pop(), rows, Path(args.output)):
        print(f"wrote {display(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
