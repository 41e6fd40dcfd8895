"""Compares an origin run with the runs made from it (forks, resends) in one table: turns, tokens, cost, wall time,
tools called, the verify check, the fork point and the first request that differed. Each run's report is brought
up to date first; the figures are read from its turns.jsonl and insight.jsonl."""

import sys
from pathlib import Path

from probe.analyse.run_figures import RunFigures
from probe.analysis.compare_view import differences, figures_of
from probe.analysis.report import refresh
from probe.common import cli
from probe.common.errors import RunError, inert_json, run_main, warn
from probe.common.fastjson import strict_text
from probe.common.paths import display
from probe.redact.json_values import mask_json
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import load_manifest, resolve_run
from probe.runs.origins import origin_run
from probe.write.compare_table import json_value, markdown_table, plain_table
from probe.write.report_paths import insight_path, turns_path


def json_text(runs: list[RunFigures], found: list) -> str:
    """The figures as strict JSON (a manifest's NaN as null), captured text masked; json.dumps escapes line breaks
    and controls within strings, and inert_json what a terminal would still obey (a bidirectional override)."""
    masked, _ = mask_json(json_value(runs, found))
    return "\n".join(map(inert_json, strict_text(masked, indent=2, ensure_ascii=False, default=str).split("\n")))


FORMATS = {
    "text": lambda runs, found: plain_table(runs, found, mask_tokens_and_urls),
    "markdown": lambda runs, found: markdown_table(runs, found, mask_tokens_and_urls),
    "json": json_text,
}


def runs_to_compare(specs: list[str], target: str | None) -> list[Path]:
    """The runs asked for, the origin first: with one run alone, the origin its manifest names."""
    runs = [resolve_run(spec, target) for spec in specs]
    for run in runs:
        if not (run / "traffic.jsonl").is_file():
            raise RunError(f"{display(run / 'traffic.jsonl')}: no such file (is {display(run)} a run folder?)")
    if len(runs) == 1:
        manifest, _ = load_manifest(runs[0])
        runs.insert(0, origin_run(runs[0], manifest))
    return runs


def analysed_figures(run: Path) -> RunFigures:
    """The run's figures, its report brought up to date first (its warnings said)."""
    refreshed = refresh(run)
    for warning in refreshed.warnings:
        warn(f"{run.name}: {warning}")
    return figures_of(run, turns_path(refreshed.report), insight_path(refreshed.report))


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.compare", description=__doc__)
    parser.add_argument("--run", action="append", type=cli.not_empty, metavar="RUN",
                        help="a run, as analyze --run takes it (`latest`, a folder name or path): the origin first, "
                        "then each run made from it; one run alone is compared with the origin its manifest names "
                        "(default: latest)")  # fmt: skip
    parser.add_argument("--target", metavar="NAME", help="with --run latest: the newest run of this target")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="text (default), markdown or json")
    args = parser.parse_args(argv)
    runs = runs_to_compare(args.run or ["latest"], args.target)
    figures = [analysed_figures(run) for run in runs]
    sys.stdout.write(FORMATS[args.format](figures, differences(figures)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
