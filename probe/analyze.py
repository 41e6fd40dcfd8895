"""Writes report.md from a traffic.jsonl: totals, endpoint tables, payload structure, conversation log."""

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from probe import markdown as md
from probe.errors import RunError, run_main
from probe.importer import import_renderer
from probe.keypaths import KeyPaths
from probe.paths import PROJECT_ROOT, display
from probe.runs import read_manifest, resolve_run, write_private
from probe.secrets import mask_tokens_and_urls, redact_header
from probe.targets import load_target
from probe.traffic import Body, Exchange, read_exchanges

GENERIC_RENDERER = "probe.renderers.generic"
GENERATED_AT = "- Generated at: "  # the one line that differs between two reports of the same capture
TOKEN_KEYS = ("input", "cached", "output", "reasoning", "total")


@dataclass
class Totals:
    tokens: Counter = field(default_factory=Counter)
    unrecognised: set[str] = field(default_factory=set)
    request_paths: KeyPaths = field(default_factory=KeyPaths)
    response_paths: KeyPaths = field(default_factory=KeyPaths)

    def absorb(self, rendered: md.Rendered) -> None:
        self.tokens.update(rendered.tokens)
        self.unrecognised |= rendered.unrecognised


def source_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return display(path)


def render_body_generically(body: Body, what: str) -> list[str]:
    if body.format == "empty":
        return [f"({what}: no body)"]
    if body.format == "json":
        return [md.details(f"{what} JSON ({body.size:,} bytes)", md.json_block(body.value))]
    if body.format == "base64":
        return [f"({what}: {body.size:,} bytes of binary data, stored base64 in the capture)"]
    return [md.details(f"{what} text ({body.size:,} bytes)", md.code(str(body.value), "text"))]


def headers_block(title: str, pairs: list[tuple[str, str]], extra_secrets: frozenset[str]) -> str:
    rows = [[name, redact_header(name, value, extra_secrets)] for name, value in pairs]
    return md.details(f"{title} ({len(rows)})", md.table(["name", "value"], rows)) if rows else f"({title}: none)"


def exchange_heading(exchange: Exchange) -> str:
    if exchange.kind == "websocket":
        return f"### #{exchange.number} WebSocket {exchange.method} {exchange.path} ({exchange.proxy})"
    status = exchange.status if exchange.status is not None else "no response"
    return f"### #{exchange.number} {exchange.method} {exchange.path} → {status} ({exchange.proxy})"


def exchange_facts(exchange: Exchange) -> str:
    facts = [f"URL {md.inline(exchange.url)}"]
    if exchange.complete and exchange.error:
        # The final event had arrived; the connection then ended early (codex hangs up at once).
        facts.append(f"complete (the connection then ended: {md.inline(exchange.error)})")
    elif exchange.complete:
        facts.append("complete")
    else:
        facts.append(f"**cut off**: {md.inline(exchange.error or 'ended before its final event')}")
    if exchange.ttfb_ms is not None:
        facts.append(f"time to first byte {exchange.ttfb_ms:.1f} ms")
    if exchange.duration_ms is not None:
        facts.append(f"duration {exchange.duration_ms:.1f} ms")
    if exchange.kind == "websocket":
        facts.append(f"{len(exchange.frames)} frames")
    else:
        facts.append(f"request {exchange.request_body.size:,} bytes, response {exchange.response_body.size:,} bytes")
    return "- " + "; ".join(facts)


def safely(render, fallback: list[str], label: str, warnings: list[str]) -> md.Rendered:
    """Call a renderer; if it fails on some unforeseen shape, show the raw body and carry on."""
    try:
        return render()
    except Exception as error:  # a renderer bug must not cost the rest of the report
        warnings.append(f"exchange {label}: the renderer failed ({type(error).__name__}: {error}); shown raw")
        return md.Rendered(list(fallback))


def render_exchange(exchange: Exchange, renderer, state: dict, totals: Totals, extra_secrets,
                    warnings: list[str]) -> list[str]:
    label = f"#{exchange.number}"
    lines = [exchange_heading(exchange), "", exchange_facts(exchange), "",
             headers_block("Request headers", exchange.request_headers, extra_secrets), "",
             headers_block("Response headers", exchange.response_headers, extra_secrets), ""]
    client_frames = [frame for frame in exchange.frames if frame.from_client]
    requests = [frame.body for frame in client_frames] if exchange.kind == "websocket" else [exchange.request_body]
    lines += ["#### Request", ""]
    if not requests:
        lines += ["(no client frame: the server spoke first, or the socket closed without a request)", ""]
    for body in requests:
        if body.is_json:
            totals.request_paths.add(body.value)
            rendered = safely(lambda: renderer.render_request(body.value, label, state),
                              render_body_generically(body, "request"), label, warnings)
            totals.absorb(rendered)
            lines += rendered.lines + [""]
        else:
            lines += render_body_generically(body, "request") + [""]
    lines += ["#### Response", ""]
    events = exchange.stream_events()
    if events is not None:
        for event in events:
            if isinstance(event.data, (dict, list)):
                totals.response_paths.add(event.data)
        rendered = safely(lambda: renderer.render_response(events, None, label, state),
                          render_body_generically(exchange.response_body, "response"), label, warnings)
    elif exchange.response_body.is_json:
        totals.response_paths.add(exchange.response_body.value)
        rendered = safely(lambda: renderer.render_response(None, exchange.response_body.value, label, state),
                          render_body_generically(exchange.response_body, "response"), label, warnings)
    else:
        return lines + render_body_generically(exchange.response_body, "response") + [""]
    totals.absorb(rendered)
    return lines + rendered.lines + [""]


def run_header(manifest: dict | None) -> list[str]:
    if not manifest:
        return ["- Run: no manifest.json beside this capture"]
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    lines = [f"- Run: target {md.inline(str(manifest.get('target')))}, status **{manifest.get('status')}**, "
             f"agent exit code {manifest.get('agent_exit_code')}, agent version {md.inline(str(agent.get('version')))}"]
    if manifest.get("status") in ("running", "interrupted"):
        lines.append(f"- Note: this run is marked {manifest.get('status')}, so the report covers only what was "
                     "captured before it stopped")
    if manifest.get("prompt"):
        lines.append(f"- Prompt: {md.inline(str(manifest['prompt']))}")
    return lines


def build_report(traffic: Path, renderer, manifest: dict | None, extra_secrets=frozenset(),
                 redact: bool = True) -> tuple[str, list[str]]:
    """The whole report as Markdown, and the warnings met while reading the capture."""
    result = read_exchanges(traffic)
    exchanges, warnings = result.exchanges, result.warnings
    totals = Totals()
    state: dict = {}
    log: list[str] = []
    for exchange in exchanges:
        log += render_exchange(exchange, renderer, state, totals, extra_secrets, warnings)

    starts = [exchange.timing["start"] for exchange in exchanges if "start" in exchange.timing]
    ends = [exchange.timing.get("end", exchange.timing.get("start")) for exchange in exchanges
            if "end" in exchange.timing or "start" in exchange.timing]
    duration = f"{max(ends) - min(starts):.2f} s" if starts and ends else "unknown"
    http = [exchange for exchange in exchanges if exchange.kind == "http"]
    sockets = [exchange for exchange in exchanges if exchange.kind == "websocket"]
    frames = [frame for exchange in sockets for frame in exchange.frames]
    sent = sum(exchange.request_body.size for exchange in http) + sum(f.body.size for f in frames if f.from_client)
    received = sum(exchange.response_body.size for exchange in http) + sum(
        f.body.size for f in frames if not f.from_client)
    tokens = ", ".join(f"{key} {totals.tokens.get(key, 0):,}" for key in TOKEN_KEYS)

    lines = ["# agent-probe report", "",
             f"- Source: {md.inline(source_name(traffic))}",
             f"{GENERATED_AT}{time.strftime('%Y-%m-%d %H:%M:%S %z')}",
             *run_header(manifest),
             f"- Totals: {len(exchanges)} exchanges ({len(http)} HTTP, {len(sockets)} WebSocket), "
             f"{len(frames)} WebSocket messages ({sum(f.from_client for f in frames)} from the client), "
             f"duration {duration}, {sent:,} bytes sent, {received:,} bytes received",
             f"- Tokens: {tokens}",
             f"- Incomplete exchanges: {sum(not exchange.complete for exchange in exchanges)}"]
    if totals.unrecognised:
        lines.append(f"- Unrecognised: {len(totals.unrecognised)} kinds ({', '.join(sorted(totals.unrecognised))}); "
                     "shown as raw JSON below")
    else:
        lines.append("- Unrecognised: 0 kinds")
    for warning in warnings:
        lines.append(f"- Warning: {warning}")
    lines += ["", *summary_tables(exchanges), "", "## Payload structure", "",
              "### Request key paths (top 30)", "", md.table(["path", "types", "count"], totals.request_paths.top()),
              "", "### Response key paths (top 30)", "", md.table(["path", "types", "count"], totals.response_paths.top()),
              "", "## Conversation log", "", *log]
    report = "\n".join(lines).rstrip() + "\n"
    # Redacted again here, so captures made with --keep-secrets or by older tools are safe to share.
    return (mask_tokens_and_urls(report) if redact else report), warnings


def summary_tables(exchanges: list[Exchange]) -> list[str]:
    endpoints: dict[tuple[str, str], Counter] = {}
    for exchange in exchanges:
        endpoints.setdefault((exchange.proxy, exchange.path.split("?", 1)[0]), Counter())[exchange.method] += 1
    methods = Counter(exchange.method for exchange in exchanges)
    statuses = Counter(str(exchange.status) if exchange.status is not None else "none" for exchange in exchanges)
    endpoint_rows = [[proxy, path, ", ".join(sorted(counter)), sum(counter.values())]
                     for (proxy, path), counter in sorted(endpoints.items())]
    return ["## Endpoints", "", md.table(["proxy", "path", "methods", "count"], endpoint_rows), "",
            "## HTTP methods", "", md.table(["method", "count"], sorted(methods.items())), "",
            "## Status codes", "", md.table(["status", "count"], sorted(statuses.items()))]


def choose_renderer(target_name: str | None, manifest: dict | None):
    """The target's renderer: from --target, else from the run's manifest, else the generic one."""
    name = target_name or (manifest or {}).get("target")
    if not name:
        return import_renderer(GENERIC_RENDERER), frozenset()
    target = load_target(str(name))
    return import_renderer(target.renderer), frozenset(target.redact_headers)


def analyze_run(run: Path, target_name: str | None = None, redact: bool = True) -> tuple[Path, list[str]]:
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(traffic)}: no such file (is {display(run)} a run folder?)")
    manifest = read_manifest(run)
    return write_report(traffic, run / "report.md", target_name, manifest, redact)


def write_report(traffic: Path, output: Path, target_name: str | None, manifest: dict | None,
                 redact: bool = True) -> tuple[Path, list[str]]:
    renderer, extra_secrets = choose_renderer(target_name, manifest)
    report, warnings = build_report(traffic, renderer, manifest, extra_secrets, redact)
    try:
        write_private(output, report)
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    return output, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probe.analyze", description=__doc__)
    parser.add_argument("--run", help="`latest` (default), a run folder name, or a run folder path")
    parser.add_argument("--target", help="target whose renderer to use; with --run latest, the newest run of it")
    parser.add_argument("--input", help="a traffic.jsonl file to analyse instead of a run")
    parser.add_argument("--output", help="where to write the report (with --input)")
    parser.add_argument("--no-redact", action="store_true",
                        help="show token-shaped strings and URL secrets as captured (headers stay redacted)")
    args = parser.parse_args(argv)
    if args.input:
        traffic = Path(args.input)
        if not traffic.is_file():
            raise RunError(f"{args.input}: no such file")
        output = Path(args.output) if args.output else traffic.with_name("report.md")
        report, warnings = write_report(traffic, output, args.target, read_manifest(traffic.parent),
                                        not args.no_redact)
    else:
        if args.output:
            raise RunError("--output goes with --input; a run's report is always written into its folder")
        run = resolve_run(args.run or "latest", args.target)
        report, warnings = analyze_run(run, args.target, not args.no_redact)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"report: {display(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
