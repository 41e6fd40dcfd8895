"""A fork's or a resend's Compare view in its report.html: its origin's figures beside its own, the rows `invoke
compare` prints. Its own are gathered as its report is written; its origin's are read from the origin's turns.jsonl
and insight.jsonl as last analysed (`invoke compare` brings them up to date first)."""

from pathlib import Path
from typing import Any

from probe.analyse.request_prints import RequestPrints, first_difference
from probe.analyse.run_figures import Difference, FiguresReader, RunFigures, run_label
from probe.analyse.volatile import run_places
from probe.common import fastjson
from probe.common.errors import RunError
from probe.common.paths import display
from probe.runs.folders import load_manifest
from probe.runs.origins import declared_origin, origin_run
from probe.write.compare_table import table_rows


def watch(page: Any, run: Path, manifest: Any) -> None:
    """Have the page's data gather the run's figures while its turns are read, when its manifest names an origin."""
    if page is not None and declared_origin(manifest) is not None:
        page.compare = reader_of(run, manifest)


def compare_header(page: Any, run: Path, manifest: Any, kept: dict) -> dict:
    """The page header's `compare`: the table's rows and a note (why the origin is missing, or not analysed); an
    empty dict for a run with no origin."""
    reader = getattr(page, "compare", None)
    if reader is None:
        return {}
    for record in [kept.get("run"), *kept.get("times", [])]:
        if isinstance(record, dict):
            reader.record(record)
    this = reader.finish()
    try:
        origin = origin_run(run, manifest)
    except RunError as error:
        return {
            "compare": {
                "rows": table_rows([this], [None], page.masked, with_origin=False),
                "note": page.masked(str(error)),
            }
        }
    figures = figures_of(origin, origin / "turns.jsonl", origin / "insight.jsonl")  # (a run folder's report.md's)
    note = None if figures.analysed else f"the origin has not been analysed: invoke analyze --run {origin.name}"
    return {"compare": {"rows": table_rows([figures, this], differences([figures, this]), page.masked), "note": note}}


def reader_of(run: Path, manifest: Any) -> FiguresReader:
    """What gathers the figures of `run`, its requests normalised with the places its manifest names."""
    return FiguresReader(run_label(run, manifest), manifest, RequestPrints(run_places(run, manifest)))


def differences(runs: list[RunFigures]) -> list[Difference | None]:
    """Each run's first request that the first run (the origin) never sent; None for the origin itself."""
    found: list[Difference | None] = [None]
    for run in runs[1:]:
        difference = first_difference(runs[0].prints, run.prints)
        if runs[0].prints_cut or run.prints_cut:  # (its requests were told apart by their scalar fields alone)
            difference.note = (difference.note + "; " if difference.note else "") + (
                "requests past the first 50,000,000 values their runs name are compared without their contents"
            )
        found.append(difference)
    return found


def figures_of(run: Path, turns: Path, insight: Path) -> RunFigures:
    """The figures of a run folder from its turns.jsonl and insight.jsonl (as analysed: bring them up to date
    first)."""
    manifest, _ = load_manifest(run)
    reader = reader_of(run, manifest)
    reader.figures.analysed = turns.is_file() and insight.is_file()
    for path, feed in ((turns, reader.line), (insight, reader.record)):
        if not path.is_file():
            continue
        with path.open("rb") as file:
            for number, text in enumerate(file, start=1):
                try:
                    parsed = fastjson.loads(text) if text.strip() else None
                except ValueError as error:
                    raise RunError(f"{display(path)} line {number}: not JSON ({error})") from None
                if isinstance(parsed, dict):
                    feed(parsed)
    return reader.finish()
