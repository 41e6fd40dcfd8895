"""Exports a run for the tools teams already use: HAR 1.2 (`--format har`), which browsers' developer tools,
mitmproxy and HAR viewers read, mitmproxy's own flow file (`--format mitm`, for `mitmweb -r`), a VCR.py cassette
(`--format vcr`) that tests replay, the run in time as a Chrome Trace Event JSON file (`--format perfetto`) for
Perfetto, chrome://tracing and speedscope, the SQL views of one run or all as Hive-partitioned Parquet (`--format
parquet`) for Polars, Spark, Athena or DuckDB, or OpenTelemetry GenAI spans sent over OTLP/HTTP (`--otlp URL`) to a
tracing backend (Phoenix, Langfuse, Jaeger, any collector)."""

import functools
import io
import os
import sys
from pathlib import Path

from probe.analysis.report import refresh, refresh_all
from probe.common import cli
from probe.common.errors import RunError, UsageError, run_main, warn
from probe.common.paths import data_dir, display
from probe.runs import ledger as derived
from probe.runs.folders import CAPTURE_FILES, being_recorded, list_runs, private_replacement, resolve_run
from probe.runs.targets import load_target
from probe.write import otlp

FORMATS = ("har", "mitm", "vcr", "perfetto", "parquet", "otlp")


def export_har(run: Path, output: Path | None, force: bool = False, keep_secrets: bool = False) -> tuple[Path, bool]:
    """Write the run's HAR to `output` (default: traffic.har in the run), unless that file is up to date; return
    its path and whether it was written. Masked, whatever the capture holds, unless `keep_secrets`."""
    # mitmproxy's addons take a third of a second to import: only a HAR export pays for them (not `invoke --list`).
    from probe.write.har import write_har

    return export_masked(run, output, force, keep_secrets, derived.HAR, write_har, "exchange{s} as HAR entries")


def export_mitm(run: Path, output: Path | None, force: bool = False, keep_secrets: bool = False) -> tuple[Path, bool]:
    """Write the run's flows in mitmproxy's own format to `output` (default: flows.mitm in the run), unless that
    file is up to date; return its path and whether it was written. Masked unless `keep_secrets`."""
    from probe.write.flow_file import write_flows  # imports mitmproxy, like the HAR writer: only when it is asked for

    if keep_secrets:
        return export_unmasked(run, output, derived.FLOWS, write_flows, "flow{s} in mitmproxy's format")
    if output is None and not force and derived.not_made_here(run, derived.FLOWS) and (run / "flows.mitm").exists():
        # Older captures wrote flows.mitm as they recorded: replacing it by one made from traffic.jsonl is a choice.
        raise RunError(
            f"{display(run / 'flows.mitm')} was not made here (an older capture wrote it, or it came with the run "
            "folder): --force replaces it with one made from traffic.jsonl, or --output writes elsewhere"
        )
    return export_file(run, output, force, derived.FLOWS, write_flows, "flow{s} in mitmproxy's format")


def export_vcr(run: Path, output: Path | None, force: bool = False, keep_secrets: bool = False) -> tuple[Path, bool]:
    """Write the run's HTTP exchanges as a VCR.py cassette to `output` (default: traffic.vcr.yaml in the run),
    unless that file is up to date; return its path and whether it was written. Masked unless `keep_secrets`."""
    from probe.write.vcr import write_cassette

    counted = "interaction{s} in a VCR.py cassette"
    return export_masked(run, output, force, keep_secrets, derived.VCR, write_cassette, counted)


def export_perfetto(run: Path, output: Path | None, force: bool, target) -> tuple[Path, bool]:
    """Write the run's time model as a Chrome Trace Event JSON file to `output` (default: trace.perfetto.json in
    the run), from its insight.jsonl brought up to date first, unless that file is up to date; return its path and
    whether it was written. Made from insight.jsonl, which holds only masked text."""
    from probe.write.perfetto import write_trace

    for warning in refresh(run, target).warnings:
        warn(warning)
    return export_file(run, output, force, derived.PERFETTO, write_trace, "interval{s} as trace slices")


def export_masked(run: Path, output: Path | None, force: bool, keep_secrets: bool, rule: derived.Rule, write, counted):
    """`export_file`, masked, or with `keep_secrets` as the capture holds it (`export_unmasked`)."""
    if keep_secrets:
        return export_unmasked(run, output, rule, write, counted)
    return export_file(run, output, force, rule, write, counted)


def export_file(run: Path, output: Path | None, force: bool, rule: derived.Rule, write, counted: str):
    """Write `rule`'s output of the run with `write(source, file, warnings)` (to `output` if given), unless it is
    up to date; `source` is the run file it is made from (its first input); `counted` says what the count it
    returns is (with {s} for the plural)."""
    source = run / rule.inputs[0]
    if not source.is_file():
        raise RunError(f"{display(source)}: no such file (is {display(run)} a run folder?)")
    default = output is None
    output = output if output is not None else run / rule.outputs[0]
    if default and not force and derived.out_of_date(run, rule) is None:
        return output, False
    warnings: list[str] = []
    try:
        with private_replacement(output) as file:
            count = write(source, file.buffer, warnings)
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    if default:
        derived.record_made(run, rule)
    for warning in warnings:
        warn(warning)
    print(f"{count} {counted.format(s='s' if count != 1 else '')}", file=sys.stderr)
    return output, True


def export_unmasked(run: Path, output: Path | None, rule: derived.Rule, write, counted: str) -> tuple[Path, bool]:
    """The export as the capture holds it, with nothing masked again: to `output`, or beside the masked file under
    a name that says so (traffic.unmasked.har), never in the masked file's place. Always written."""
    if output is None:
        name = rule.outputs[0]
        stem, dot, extension = name.rpartition(".")
        output = run / f"{stem}.unmasked{dot}{extension}"
    return export_file(run, output, True, rule, functools.partial(write, masked=False), counted)


def send_spans(run: Path, target, endpoint: str | None, with_content: bool) -> int:
    """The run as one trace, from its turns.jsonl (brought up to date first)."""
    if endpoint is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        raise UsageError("no OTLP endpoint: give --otlp URL, or set OTEL_EXPORTER_OTLP_ENDPOINT")
    for warning in refresh(run, target).warnings:
        warn(warning)
    spans = otlp.export_run(run, endpoint, with_content)
    where = endpoint or os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    mcp = f", {spans['mcp']} MCP spans" if spans.get("mcp") else ""
    print(
        f"otlp: 1 trace, {spans['model']} model spans, {spans['tool']} tool spans, {spans['agent']} sub-agent spans"
        f"{mcp} and {spans['other']} other spans sent to {where}"
    )
    return 0


def parquet_main(args, target) -> int:
    """--format parquet: the run asked for, or with `--run all` every run (of the target, if given), brought up to
    date first, into the --output folder."""
    from probe.analysis.parquet_export import export_parquet  # (DuckDB: only a Parquet export pays for it)

    for given, option in ((args.keep_secrets, "--keep-secrets"), (args.force, "--force"), (args.otlp, "--otlp"),
                          (args.with_content, "--with-content")):  # fmt: skip
        if given:
            raise UsageError(f"{option} does not go with --format parquet, which writes masked runs, always afresh")
    if not args.output:
        raise UsageError("--format parquet needs --output DIR: the folder the tables are written into")
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise RunError(f"--output {display(output)}: not a folder (the Parquet export writes a folder of tables)")
    if args.run != "all":
        run = resolve_run(args.run, target.name if target else None)
        if being_recorded(run):
            warn(f"{display(run)} is still being captured: the export covers what was recorded so far")
        for warning in refresh(run, target).warnings:
            warn(warning)
        return export_parquet([run], output, every=False)
    if not data_dir().is_dir():  # a mistyped PROBE_DATA_DIR must not pass for "no runs"
        raise RunError(f"no data folder at {display(data_dir())} (see PROBE_DATA_DIR and invoke.yaml)")
    runs = list_runs(target.name if target else None)
    if not runs:
        raise RunError(f"no runs in {display(data_dir())} to export")
    counts = refresh_all(runs, target, out=io.StringIO())  # (a line per run rebuilt: the export's say what matters)
    if counts["failed"]:
        print(f"reports: {counts['failed']} failed (see analyze --run all)", file=sys.stderr)
    return export_parquet(runs, output, every=True)


EXPORTS = {"har": export_har, "mitm": export_mitm, "vcr": export_vcr}  # the formats written to a file


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.export", description=__doc__)
    parser.add_argument("--run", type=cli.not_empty, metavar="RUN", default="latest",
                        help="`latest` (default), a run folder name, or a run folder path; with --format parquet, "
                        "`all` too")  # fmt: skip
    parser.add_argument("--target", metavar="NAME|FILE",
                        help="with --run latest, the newest run of this target; with --run all, its runs")  # fmt: skip
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="har (the default): HAR 1.2; mitm: mitmproxy's flow file; vcr: a VCR.py cassette of the HTTP "
        "exchanges; perfetto: the run in time, a Chrome Trace Event JSON file (Perfetto, chrome://tracing, "
        "speedscope); parquet: the SQL views as Hive-partitioned Parquet files in the --output folder; otlp: spans to "
        "OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp)",
    )
    parser.add_argument(
        "--otlp",
        metavar="URL",
        help="send OpenTelemetry spans to this OTLP/HTTP base endpoint (/v1/traces is added); "
        "OTEL_EXPORTER_OTLP_HEADERS is sent with them",
    )
    parser.add_argument(
        "--with-content",
        action="store_true",
        help="with --otlp: put the messages, instructions and tool definitions into the spans "
        "(off by default: they are sensitive)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="where to write it (default: traffic.har, flows.mitm, traffic.vcr.yaml or trace.perfetto.json, in the "
        "run); with --format parquet, the folder to write the tables into (needed)",
    )
    parser.add_argument("--force", action="store_true", help="write it even if it is up to date")
    parser.add_argument(
        "--keep-secrets",
        action="store_true",
        help="har, mitm and vcr: leave what the capture holds unmasked (a --keep-secrets capture's secrets stay); "
        "written to traffic.unmasked.har, flows.unmasked.mitm or traffic.vcr.unmasked.yaml unless --output says "
        "where",
    )
    args = parser.parse_args(argv)
    target = load_target(args.target) if args.target else None
    if args.format == "parquet":
        return parquet_main(args, target)
    if args.run == "all":
        raise UsageError("--run all goes with --format parquet: the other formats export one run")
    run = resolve_run(args.run, target.name if target else None)
    if being_recorded(run):
        warn(f"{display(run)} is still being captured: the export covers what was recorded so far")
    if args.keep_secrets and (args.otlp is not None or args.format in ("otlp", "perfetto")):
        raise UsageError("--keep-secrets goes with --format har, mitm or vcr: spans and traces are always masked")
    if args.otlp is not None or args.format == "otlp":
        if args.output:
            raise UsageError("--output goes with --format har, mitm, vcr or perfetto; spans are sent to --otlp URL")
        return send_spans(run, target, args.otlp, args.with_content)
    if args.with_content:
        raise UsageError(
            "--with-content goes with --otlp: a HAR, a flow file or a cassette holds the bodies whole anyway, and a "
            "trace holds no content"
        )
    output = Path(args.output) if args.output else None
    if output is not None and output.name in CAPTURE_FILES:
        raise RunError(f"--output {output}: that name is a run's capture file; write the export elsewhere")
    file_format = args.format or "har"
    if file_format == "perfetto":
        path, written = export_perfetto(run, output, args.force, target)
    else:
        path, written = EXPORTS[file_format](run, output, args.force, args.keep_secrets)
    print(
        f"{file_format}: {display(path)}"
        + ("" if written else " (up to date: the capture has not changed; --force writes it)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
