"""Writes report.md, report.html and turns.jsonl from a traffic.jsonl in one pass (the header is written last,
from the totals gathered while the conversation log streams to a temporary file), each exchange read once for them
all (RunReading, which the live viewer shares), and brings run folders' reports up to date, rebuilding only what is
out of date (probe.runs.ledger), with the prices each was made with (probe.analyse.prices_kept)."""

import gc
import io
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from probe.analyse.account.join import join_account
from probe.analyse.mcp.facts import finished_and_joined
from probe.analyse.prices_kept import keeping_prices
from probe.analyse.run_totals import Totals, count_key_paths
from probe.analysis.compare_view import compare_header, watch
from probe.analysis.other_hosts import took_other_host
from probe.analysis.report_job import Job, Refreshed, plan, run_job
from probe.analysis.resume import Resume, lines_out
from probe.analysis.side_by_side import Ended, side_by_side
from probe.apis.built_in import renderer_for
from probe.apis.turns import Reading
from probe.common import markdown as md
from probe.common.errors import ProbeError, RunError, one_line, warn
from probe.common.paths import display
from probe.common.progress import Progress
from probe.read.conversation import Turn
from probe.read.history_masks import HistoryMasks
from probe.read.masked import masked_exchange
from probe.read.thinning import thin_exchange
from probe.read.traffic import Exchange, iter_exchanges
from probe.read.turn_lines import TurnLines, shallow_record
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs import ledger
from probe.runs.folders import being_recorded, private_replacement
from probe.runs.importer import renderer_module
from probe.runs.login_marks import LoginsSeen
from probe.runs.targets import Target
from probe.write.exchange_markdown import render_exchange, safely
from probe.write.insight_lines import InsightLines, turn_line_fields
from probe.write.report_header import made_with, plain_stamp, report_header, source_name
from probe.write.report_paths import insight_path, turns_path, viewer_path
from probe.write.summary_section import summary_section
from probe.write.unchanged import same_page, same_report
from probe.write.viewer.data import ViewerData
from probe.write.viewer.header import page_header
from probe.write.viewer.page import frame_size, write_page

LOG_IN_MEMORY = 8 * 1024 * 1024  # bytes of conversation log kept in memory before spilling to disk (a 1 GB
# capture makes 33 MB of it: kept whole, peak memory grew with the capture)


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
    resume: Resume | None = None,
    logins: tuple = (),
) -> list[str]:
    """Stream the report into `out`, each exchange's turn into `turns` (turns.jsonl) and the HTML viewer into
    `viewer` (report.html), those given; return the warnings met while reading the capture. `logins` are the
    target's, whose marks name the logins its requests carried.

    The capture is read once, line by line, and the conversation log goes to a temporary file while the
    totals for the header are gathered, so memory stays flat however large the capture is.
    """
    # Even a capture masked as it was recorded is masked again: the report joins what was captured in pieces
    # (a key streamed in three deltas, each too short to be a token), and older rules may have missed shapes.
    mask = md.remembered(mask_tokens_and_urls) if redact else str
    totals, warnings = Totals(logins=LoginsSeen(logins)), []
    # The analysis makes millions of short-lived objects and no reference cycles worth collecting, and
    # the cyclic collector would keep re-scanning the history kept for de-duplication: about 25% of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Captured text is masked where it enters the Markdown, so captures made with --keep-secrets or by
        # older tools are safe to share too.
        with md.masked_by(mask):
            stream_report(out, traffic, renderer, manifest, extra_secrets, progress, totals, warnings, turns, redact,
                          viewer, renderer_name or renderer_module(renderer), insight, resume)  # fmt: skip
    finally:
        if collecting:
            gc.enable()
    return warnings


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
    resume: Resume | None = None,
) -> None:
    # The log is kept as bytes, so it can be copied after the header without decoding it again, and in
    # memory up to a bound (a 1 GB capture makes about 45 MB of report), then on disk: memory stays flat.
    run = RunReading(renderer, renderer_name, redact, extra_secrets, totals, turns, insight_out, viewer is not None)
    watch(run.page, traffic.parent, manifest)  # a fork's page compares it with its origin (probe.analysis.compare_view)
    states: dict[int, tuple[Any, dict]] = {}  # by renderer: the renderer, and what its sections remember
    with tempfile.SpooledTemporaryFile(LOG_IN_MEMORY, "w+b") as log:
        exchanges = iter_exchanges(traffic, warnings, progress)
        if resume is not None:  # from the reading the last analysis saved, saving this one (probe.analysis.resume)
            run, states, exchanges = resume.begin(
                run, states, warnings, log, {"turns": turns, "insight": insight_out}, progress
            )
            totals = run.totals
        for exchange in exchanges:
            read = run.read(exchange, warnings)
            if read is None:  # another host's (probe.analysis.other_hosts): shown in its own section, never a turn
                continue
            exchange, turn, builder, shown_by = read.exchange, read.turn, read.builder, read.shown_by
            _, state = states.setdefault(id(shown_by), (shown_by, {}))
            if turn.input or turn.previous_response_id:
                # What the renderer's closing section rebuilds: the last request's whole context, and its answer.
                state["last_context"] = (turn.number, builder.last_context[1], turn.output, builder.last_context[2])
            text = "\n".join(render_exchange(exchange, turn, shown_by, state, totals, extra_secrets, warnings))
            log.write(text.encode("utf-8", "replace") + b"\n")
            # Before the next exchange is read, so memory holds one at a time: a hostile one takes hundreds of MB.
            del exchange, turn, builder, read, text
        if resume is not None:
            resume.take()  # (unless taken before a last line still being written)
        run.finish(traffic.parent, manifest)
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
            if resume is not None:
                resume.log_written_at(out.buffer.tell())
            shutil.copyfileobj(log, out.buffer, 1 << 20)
        else:
            out.write(log.read().decode("utf-8"))
    if viewer is not None and run.page is not None:
        header, page = run.page_header(traffic, manifest, warnings), run.page
        write_page(viewer, lambda out: page.write_data(out, header, frame_size()), generated)


@dataclass
class Read:
    """One exchange as read: masked (unless --no-redact), its turn, the builder that made it, and the renderer
    that shows it."""

    exchange: Exchange
    turn: Turn
    builder: Any
    shown_by: Any


class RunReading:
    """Reads a run's exchanges one at a time for every output made from them: the report's totals, each exchange's
    turn, key paths and insight, its line of turns.jsonl and its entry in the viewer's data. report.md and
    report.html are written with it, and the live viewer (probe.write.live) grows with it, so that both show the
    same.

    Fed each exchange of a run in order; writes its line of turns.jsonl to `turns` and its insight records to
    `insight`, those given, and adds it to the viewer's data (`page`) when `viewer`, which can hand out what was
    added since a count (the live viewer)."""

    def __init__(
        self,
        renderer,
        renderer_name: str,
        redact: bool,
        extra_secrets: frozenset[str],
        totals: Totals,
        turns: BinaryIO | None = None,
        insight: BinaryIO | None = None,
        viewer: bool = False,
    ) -> None:
        self.renderer, self.renderer_name, self.totals, self.turns = renderer, renderer_name, totals, turns
        self.redact, self.extra_secrets = redact, extra_secrets
        self.reading = Reading(renderer)  # each exchange is read by its own API's reader; the target's for its API
        # Every exchange is masked as it is read, whatever the capture or its manifest says (a --keep-secrets, older
        # or hand-made capture): turns.jsonl and the viewer then need only their joined answers masked again.
        self.histories = HistoryMasks()  # request bodies' long lists, masked item by item across requests
        self.lines = TurnLines(redact, only_output=True)
        self.insight = InsightLines(insight, redact, keep=viewer)
        self.page = ViewerData(redact, extra_secrets, masked_at_capture=True) if viewer else None

    def read(self, exchange: Exchange, warnings: list[str]) -> Read | None:
        """Read one exchange into every output; the caller lets go of what it returns before the next one. None for
        an exchange with another host than a model's, which is only counted (probe.analysis.other_hosts)."""
        if took_other_host(self, exchange):
            return None
        thin_exchange(exchange)  # before masking: what lists too long to read leave out costs nothing (read.thinning)
        if self.redact:
            exchange = masked_exchange(exchange, self.extra_secrets, self.histories)
        turn, builder = self.reading.build(exchange, warnings)  # (probe.apis)
        shown_by = renderer_for(builder.reader, self.renderer)
        # What the run's totals and the insight layer make of it (probe.analyse), then what is written of it.
        self.totals.count(exchange)
        self.totals.read_by(turn, shown_by, self.renderer, self.renderer_name)
        count_key_paths(exchange, turn, shown_by, self.totals)
        facts, answered = self.totals.insight.add(turn, exchange.request_headers)  # (probe.analyse.insight)
        facts_record = self.insight.add(facts, answered)
        self.totals.insight.wire.add(exchange, turn, facts.cost)
        page = self.page
        record = self.lines.record(turn) if self.turns is not None or page is not None else None
        if self.turns is not None:  # with the window and cache facts of its insight record
            self.turns.write(self.lines.encode(turn, record and record | turn_line_fields(facts_record)))
        if page is not None:
            history_field = getattr(shown_by, "HISTORY_FIELD", None)
            page.add(exchange, turn, record if record is not None else shallow_record(turn), history_field,
                     facts_record, builder.history_reads.digests)  # fmt: skip
        return Read(exchange, turn, builder, shown_by)

    def finish(self, folder: Path | None = None, manifest: dict | None = None) -> None:
        """The run's last insight records (unanswered tool calls, agents, totals; the agent's own account, joined)."""
        insight = self.totals.insight
        if folder is not None:
            insight.account = join_account(folder, manifest, insight.wire, insight.costs.book)
        self.insight.finish(insight, *finished_and_joined(insight, manifest, folder))  # agents, unanswered calls

    def page_header(self, traffic: Path, manifest: dict | None, warnings: list[str]) -> dict:
        """The viewer's header (probe.write.viewer.header) for what was read so far."""
        page = self.page
        assert page is not None, "a header for a viewer that was not asked for"
        prices = self.totals.insight.costs.book.provenance()
        stamp = plain_stamp(self.renderer_name, self.redact, prices)
        return page_header(
            traffic.parent.name, source_name(traffic), stamp, manifest, self.totals, warnings, page.unrecognised,
            page.masked, self.insight.kept,
        ) | compare_header(page, traffic.parent, manifest, self.insight.kept)  # fmt: skip


def build_report(traffic: Path, renderer, manifest: dict | None, extra_secrets=frozenset(), redact: bool = True,
                 turns: BinaryIO | None = None, insight: BinaryIO | None = None) -> tuple[str, list[str]]:  # fmt: skip
    """The whole report as one string (for tests and small captures), and the warnings; the turns go to
    `turns`, and the insight records to `insight`, if given."""
    out = io.StringIO()
    warnings = write_report_to(out, traffic, renderer, manifest, extra_secrets, redact, turns=turns, insight=insight)
    return out.getvalue(), warnings


def analyze_run(run: Path, target: Target | None = None, redact: bool = True) -> tuple[Path, list[str]]:
    """Write the run's report whatever its state; return the report's path and its warnings."""
    return write(run_job(run, target, redact))


def report_the_run(run: Path, target: Target) -> None:
    """Write the report a recording command gives when its run ends, priced as `analyze` prices it; say where."""
    kept: list[str] = []
    with keeping_prices(run, kept):
        report, warnings = analyze_run(run, target)
    for warning in kept + warnings:
        warn(warning)
    print(f"report: {display(report)}\nviewer: {display(viewer_path(report))}", flush=True)


def viewer_reading(run: Path, target: Target | None = None) -> tuple[RunReading, Job]:
    """The reading report.html's data would be made with, for the viewer's data alone, able to hand out what was
    added since a count (the live viewer, probe.write.live), and the run's job (its capture, its warnings)."""
    warnings: list[str] = []
    with keeping_prices(run, warnings):  # priced as its report.html is (probe.analyse.prices_kept)
        job = run_job(run, target)
        choice = job.choice
        totals = Totals(logins=LoginsSeen(choice.logins))
        reading = RunReading(choice.renderer, choice.name, job.redact, choice.extra_secrets, totals, viewer=True)
    job.warnings += warnings
    return reading, job


def write_report(
    traffic: Path, output: Path, target: Target | None, run: Path, redact: bool = True
) -> tuple[Path, list[str]]:
    """Write the report of `traffic` (with the manifest in `run`, if any) to `output`; return its warnings."""
    return write(plan(traffic, output, target, run, redact))


def write(job: Job, afresh: bool = False) -> tuple[Path, list[str]]:
    """Write the job's report and turns.jsonl, from the last analysis's saved reading unless `afresh`; return the
    report's path and all the warnings."""
    traffic, output, warnings = job.traffic, job.output, list(job.warnings)
    renderer, extra_secrets = job.choice.renderer, job.choice.extra_secrets
    progress = Progress(traffic) if sys.stderr.isatty() else None
    try:
        # The turns go beside the report: into the run folder, or wherever --output puts the report.
        lines = {"turns": turns_path(output), "insight": insight_path(output)}
        resume = Resume.loaded(job, lines, afresh)  # a run folder's analysis goes on from the last one's reading
        with (
            private_replacement(output, same_report) as out,
            lines_out(lines["turns"], resume, "turns") as turns,
            private_replacement(viewer_path(output), same_page) as page,
            lines_out(lines["insight"], resume, "insight") as insight,
        ):
            warnings += write_report_to(
                out,
                traffic,
                renderer,
                job.manifest,
                extra_secrets,
                job.redact,
                progress,
                turns,
                page.buffer,
                job.choice.name,
                insight,
                resume,
                job.choice.logins,
            )
        if resume is not None:
            resume.save()
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    finally:
        if progress is not None:
            progress.finish()
    if output.name == ledger.REPORT.outputs[0]:  # a run folder's report: the next check knows it was made here, and how
        ledger.record_made(output.parent, ledger.REPORT, job.prices)
    return output, warnings


def refresh(run: Path, target: Target | None = None, redact: bool = True, force: bool = False) -> Refreshed:
    """Rebuild the run's report and turns.jsonl if they are out of date (or `force`); errors are raised."""
    kept: list[str] = []
    with keeping_prices(run, kept):
        job = run_job(run, target, redact)
        job.warnings[:0] = kept
        why = "--force" if force else ledger.out_of_date(run, ledger.REPORT, job.choice.sources(), job.stamp)
        if why is None:
            return Refreshed(job.output, None, job.warnings)  # how the renderer was chosen still matters
        written, warnings = write(job, afresh=force)
    return Refreshed(written, why, warnings)


def refresh_all(runs: list[Path], target: Target | None = None, redact: bool = True, force: bool = False,
                out: TextIO | None = None, jobs: int = 1) -> Counter:  # fmt: skip
    """Refresh every run, printing a line per run rebuilt, failed or skipped in their order, then the counts; a failed
    run does not stop the others. `jobs` processes refresh them side by side. Returns the counts by outcome."""
    out = out or sys.stdout  # looked up now: tests and callers may have replaced it
    counts: Counter = Counter()
    # Runs up to date are checked here until one has to be rebuilt; warm_up is imported once for all the workers.
    ahead = {"preload": ("probe.analysis.warm_up",), "stay": lambda done: done[0] in ("up to date", "skipped")}
    with closing(side_by_side(refresh_one, runs, jobs, target, redact, force, **ahead)) as outcomes:
        for run, (outcome, lines) in zip(runs, outcomes):
            if isinstance(outcome, Ended):  # its process died: this run alone fails
                outcome, lines = "failed", [f"failed {display(run)}: {outcome.why}"]
            counts[outcome] += 1
            for line in lines:
                print(line, file=out, flush=True)
    summary = f"{counts['up to date']} up to date, {counts['rebuilt']} rebuilt, {counts['failed']} failed"
    summary += f", {counts['skipped']} skipped" if counts["skipped"] else ""
    print(summary, file=out, flush=True)
    return counts


def refresh_one(run: Path, target: Target | None, redact: bool, force: bool) -> tuple[str, list[str]]:
    """Refresh one of many runs: the outcome (rebuilt, up to date, failed or skipped) and the lines saying so."""
    shown = display(run)  # with any control characters of a name from elsewhere escaped
    if being_recorded(run):
        return "skipped", [f"skipped {shown}: still being captured (its manifest says running, and its proxies are up)"]
    try:
        refreshed = refresh(run, target, redact, force)
    except Exception as error:  # a bug met in one capture must not cost the other runs their reports either
        why = str(error) if isinstance(error, ProbeError) else f"{type(error).__name__}: {error}"
        return "failed", [f"failed {shown}: {one_line(why)}"]
    if refreshed.why is None:
        return "up to date", []
    warned = [f"  warning: {one_line(warning)}" for warning in refreshed.warnings]
    return "rebuilt", [f"rebuilt {shown}: {one_line(refreshed.why)}", *warned]
