"""Writes report.md, report.html and turns.jsonl from a traffic.jsonl in one pass (the header is written last,
from the totals gathered while the conversation log streams to a temporary file), and brings run folders' reports
up to date, rebuilding only what is out of date (probe.runs.ledger)."""

import functools
import gc
import io
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from probe.analyse.prices import price_book
from probe.apis.choice import Choice, choose
from probe.common import markdown as md
from probe.common.errors import ProbeError, RunError, one_line
from probe.common.paths import display
from probe.common.progress import Progress
from probe.read.traffic import iter_exchanges
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs import ledger
from probe.runs.folders import CAPTURE_FILES, being_recorded, load_manifest, private_replacement
from probe.runs.importer import renderer_module
from probe.runs.ledger import REPORT, record_made
from probe.runs.targets import Target
from probe.write.exchange_markdown import render_exchange, safely
from probe.write.insight_lines import INSIGHT_FILE, INSIGHT_SUFFIX
from probe.write.report_header import (
    GENERATED_AT,
    Totals,
    made_with,
    report_header,
)
from probe.write.run_reading import RunReading
from probe.write.summary_section import summary_section
from probe.write.unchanged import same_apart_from, same_bytes
from probe.write.viewer.page import GENERATED, write_page

LOG_IN_MEMORY = 64 * 1024 * 1024  # bytes of conversation log kept in memory before spilling to disk
TURNS_FILE = "turns.jsonl"  # written beside report.md: one line per exchange, in the conversation model
TURNS_SUFFIX = ".turns.jsonl"  # of the turns beside a report named otherwise (Y.md: Y.turns.jsonl)


def write_report_to(
    out: TextIO,
    traffic: Path,
    renderer,
    manifest: dict | None,
    extra_secrets=frozenset(),
    redact: bool = True,
    progress=None,
    turns: BinaryIO | None = None,
    viewer: BinaryIO | None = None,
    renderer_name: str = "",
    insight: BinaryIO | None = None,
) -> list[str]:
    """Stream the report into `out`, each exchange's turn into `turns` (turns.jsonl) and the HTML viewer into
    `viewer` (report.html), those given; return the warnings met while reading the capture.

    The capture is read once, line by line, and the conversation log goes to a temporary file while the
    totals for the header are gathered, so memory stays flat however large the capture is.
    """
    # Even a capture masked as it was recorded is masked again: the report joins what was captured in pieces
    # (a key streamed in three deltas, each too short to be a token), and older rules may have missed shapes.
    mask = remembered(mask_tokens_and_urls) if redact else str
    totals, warnings = Totals(), []
    # The analysis makes millions of short-lived objects and no reference cycles worth collecting, and
    # the cyclic collector would keep re-scanning the history kept for de-duplication: about 25% of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Captured text is masked where it enters the Markdown, so captures made with --keep-secrets or by
        # older tools are safe to share too.
        with md.masked_by(mask):
            stream_report(
                out,
                traffic,
                renderer,
                manifest,
                extra_secrets,
                progress,
                totals,
                warnings,
                turns,
                redact,
                viewer,
                renderer_name or renderer_module(renderer),
                insight,
            )
    finally:
        if collecting:
            gc.enable()
    return warnings


def remembered(mask):
    """`mask`, keeping its answers for short texts: a report passes the same names, types and values thousands of
    times, and each pass would run every masking rule again."""
    cached = functools.lru_cache(maxsize=1 << 16)(mask)
    return lambda text: cached(text) if len(text) <= 256 else mask(text)


def stream_report(
    out: TextIO,
    traffic: Path,
    renderer,
    manifest,
    extra_secrets,
    progress,
    totals: Totals,
    warnings: list[str],
    turns: BinaryIO | None = None,
    redact: bool = True,
    viewer: BinaryIO | None = None,
    renderer_name: str = "",
    insight_out: BinaryIO | None = None,
) -> None:
    # The log is kept as bytes, so it can be copied after the header without decoding it again, and in
    # memory up to a bound (a 1 GB capture makes about 45 MB of report), then on disk: memory stays flat.
    run = RunReading(renderer, renderer_name, redact, extra_secrets, totals, turns, insight_out, viewer is not None)
    states: dict[int, tuple[Any, dict]] = {}  # by renderer: the renderer, and what its sections remember
    with tempfile.SpooledTemporaryFile(LOG_IN_MEMORY, "w+b") as log:
        for exchange in iter_exchanges(traffic, warnings, progress):
            read = run.read(exchange, warnings)
            exchange, turn, builder, shown_by = read.exchange, read.turn, read.builder, read.shown_by
            _, state = states.setdefault(id(shown_by), (shown_by, {}))
            if turn.input or turn.previous_response_id:
                # What the renderer's closing section rebuilds: the last request's whole context, and its answer.
                state["last_context"] = (turn.number, builder.last_context[1], turn.output)
            text = "\n".join(render_exchange(exchange, turn, shown_by, state, totals, extra_secrets, warnings))
            log.write(text.encode("utf-8", "replace") + b"\n")
            # Before the next exchange is read, so memory holds one at a time: a hostile one takes hundreds of MB.
            del exchange, turn, builder, read, text
        run.finish()
        for shown_by, state in states.values():  # each API's closing section, in the order the APIs came
            epilogue = getattr(shown_by, "render_epilogue", None)
            if epilogue is not None:
                ending = safely(lambda epilogue=epilogue, state=state: epilogue(state), list, "epilogue", warnings)
                log.write("\n".join(ending.lines).encode("utf-8", "replace"))
        generated = time.strftime("%Y-%m-%d %H:%M:%S %z")
        out.write(
            "\n".join(
                report_header(
                    traffic,
                    manifest,
                    totals,
                    warnings,
                    made_with(renderer_name, redact, totals.insight.costs.book.provenance()),
                    generated,
                    summary_section(totals.insight),
                )
            )
        )
        out.write("\n\n## Conversation log\n\n")
        log.seek(0)
        if hasattr(out, "buffer"):
            out.flush()
            shutil.copyfileobj(log, out.buffer, 1 << 20)
        else:
            out.write(log.read().decode("utf-8"))
    if viewer is not None and run.page is not None:
        header, page = run.page_header(traffic, manifest, warnings), run.page
        write_page(viewer, lambda out: page.write_data(out, header), generated)


def build_report(
    traffic: Path,
    renderer,
    manifest: dict | None,
    extra_secrets=frozenset(),
    redact: bool = True,
    turns: BinaryIO | None = None,
    insight: BinaryIO | None = None,
) -> tuple[str, list[str]]:
    """The whole report as one string (for tests and small captures), and the warnings; the turns go to
    `turns`, and the insight records to `insight`, if given."""
    out = io.StringIO()
    warnings = write_report_to(out, traffic, renderer, manifest, extra_secrets, redact, turns=turns, insight=insight)
    return out.getvalue(), warnings


@dataclass
class Job:
    """One report to write: the capture, where the report goes, the run's manifest and the renderer chosen."""

    traffic: Path
    output: Path
    manifest: dict | None
    choice: Choice
    redact: bool
    warnings: list[str]  # met while choosing; the report's own are added when it is written

    @property
    def stamp(self) -> str:
        return made_with(self.choice.name, self.redact, price_book().provenance())


def plan(traffic: Path, output: Path, target: Target | None, run: Path, redact: bool = True) -> Job:
    """What writing the report of `traffic` (with the manifest in `run`, if any) to `output` would take."""
    manifest, problem = load_manifest(run)
    warnings = [problem] if problem else []
    return Job(traffic, output, manifest, choose(target, manifest, warnings), redact, warnings)


def run_job(run: Path, target: Target | None = None, redact: bool = True) -> Job:
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(traffic)}: no such file (is {display(run)} a run folder?)")
    return plan(traffic, run / REPORT.outputs[0], target, run, redact)


def analyze_run(run: Path, target: Target | None = None, redact: bool = True) -> tuple[Path, list[str]]:
    """Write the run's report whatever its state; return the report's path and its warnings."""
    return write(run_job(run, target, redact))


def write_report(
    traffic: Path, output: Path, target: Target | None, run: Path, redact: bool = True
) -> tuple[Path, list[str]]:
    """Write the report of `traffic` (with the manifest in `run`, if any) to `output`; return its warnings."""
    return write(plan(traffic, output, target, run, redact))


def write(job: Job) -> tuple[Path, list[str]]:
    """Write the job's report and turns.jsonl; return the report's path and all the warnings."""
    traffic, output, warnings = job.traffic, job.output, list(job.warnings)
    renderer, extra_secrets = job.choice.renderer, job.choice.extra_secrets
    progress = Progress(traffic) if sys.stderr.isatty() else None
    try:
        # The turns go beside the report: into the run folder, or wherever --output puts the report.
        with (
            private_replacement(output, same_report) as out,
            private_replacement(turns_path(output), same_bytes) as turns,
            private_replacement(viewer_path(output), same_page) as page,
            private_replacement(insight_path(output), same_bytes) as insight,
        ):
            warnings += write_report_to(
                out,
                traffic,
                renderer,
                job.manifest,
                extra_secrets,
                job.redact,
                progress,
                turns.buffer,
                page.buffer,
                job.choice.name,
                insight.buffer,
            )
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    finally:
        if progress is not None:
            progress.finish()
    if output.name == REPORT.outputs[0]:
        record_made(output.parent, REPORT)  # a run folder's report: the next check knows it was made here
    return output, warnings


def viewer_path(report: Path) -> Path:
    """report.html beside report.md; Y.html beside Y.md."""
    return report.with_suffix(".html")


def turns_path(report: Path) -> Path:
    """turns.jsonl beside report.md (a run folder's documented name); Y.turns.jsonl beside Y.md, so that two
    reports in one folder never share, or overwrite, each other's turns."""
    return report.with_name(TURNS_FILE if report.name == REPORT.outputs[0] else report.stem + TURNS_SUFFIX)


def insight_path(report: Path) -> Path:
    """insight.jsonl beside report.md; Y.insight.jsonl beside Y.md."""
    return report.with_name(INSIGHT_FILE if report.name == REPORT.outputs[0] else report.stem + INSIGHT_SUFFIX)


def check_output(output: Path, traffic: Path) -> None:
    """Refuse to write the report over the capture it is made from, or over any run's capture files."""
    if output.name in CAPTURE_FILES or output.resolve().name in CAPTURE_FILES:
        raise RunError(f"--output {output}: that name is a run's capture file; write the report elsewhere")
    if output.exists() and os.path.samefile(output, traffic):
        raise RunError(f"--output {output}: that is the capture itself (--input); write the report elsewhere")
    if output.suffix != ".md":
        raise RunError(
            f"--output {output}: name the report .md (its viewer and turns are named after it: "
            f"{output.stem}.html, {output.stem}{TURNS_SUFFIX})"
        )
    derived_files = (
        (viewer_path(output), "the viewer"), (turns_path(output), "the turns"), (insight_path(output), "the insight")
    )  # fmt: skip
    for derived, what in derived_files:
        if derived.exists() and os.path.samefile(derived, traffic):
            raise RunError(
                f"--output {output}: {what} would be written beside the report as {derived.name}, and that is "
                "the capture itself (--input); write the report elsewhere"
            )


@dataclass
class Refreshed:
    """A run's report after a refresh: its path, why it was rebuilt (None: it was up to date), its warnings."""

    report: Path
    why: str | None
    warnings: list[str] = field(default_factory=list)


def refresh(run: Path, target: Target | None = None, redact: bool = True, force: bool = False) -> Refreshed:
    """Rebuild the run's report and turns.jsonl if they are out of date (or `force`); errors are raised."""
    job = run_job(run, target, redact)
    why = "--force" if force else ledger.out_of_date(run, ledger.REPORT, job.choice.sources(), job.stamp)
    if why is None:
        return Refreshed(job.output, None, job.warnings)  # how the renderer was chosen still matters
    written, warnings = write(job)
    return Refreshed(written, why, warnings)


def refresh_all(
    runs: list[Path], target: Target | None = None, redact: bool = True, force: bool = False, out: TextIO | None = None
) -> Counter:
    """Refresh every run, printing one line per run rebuilt, failed or skipped, then the counts; a failed run does
    not stop the others. Returns the counts by outcome."""
    out = out or sys.stdout  # looked up now: tests and callers may have replaced it
    counts: Counter = Counter()
    for run in runs:
        shown = display(run)  # with any control characters of a name from elsewhere escaped
        if being_recorded(run):
            counts["skipped"] += 1
            print(
                f"skipped {shown}: still being captured (its manifest says running, and its proxies are up)",
                file=out,
                flush=True,
            )
            continue
        try:
            refreshed = refresh(run, target, redact, force)
        except ProbeError as error:
            counts["failed"] += 1
            print(f"failed {shown}: {one_line(str(error))}", file=out, flush=True)
            continue
        except Exception as error:  # a bug met in one capture must not cost the other runs their reports
            counts["failed"] += 1
            print(f"failed {shown}: {type(error).__name__}: {one_line(str(error))}", file=out, flush=True)
            continue
        if refreshed.why is None:
            counts["up to date"] += 1
            continue
        counts["rebuilt"] += 1
        print(f"rebuilt {shown}: {one_line(refreshed.why)}", file=out, flush=True)
        for warning in refreshed.warnings:
            print(f"  warning: {one_line(warning)}", file=out)
    summary = f"{counts['up to date']} up to date, {counts['rebuilt']} rebuilt, {counts['failed']} failed"
    summary += f", {counts['skipped']} skipped" if counts["skipped"] else ""
    print(summary, file=out, flush=True)
    return counts


GENERATED_AT_BYTES = GENERATED_AT.encode()


def same_report(old: Path, new: Path) -> bool:
    """Whether two reports say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED_AT_BYTES)


def same_page(old: Path, new: Path) -> bool:
    """Whether two viewer pages say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED)
