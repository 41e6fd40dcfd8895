"""Writes report.md from a traffic.jsonl: totals, endpoint tables, payload structure, conversation log."""

import filecmp
import functools
import gc
import io
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, TextIO

from probe.analyse.keypaths import KeyPaths
from probe.analyse.token_sums import TokenSums
from probe.apis.built_in import renderer_for
from probe.apis.turns import Reading, TurnLines, shallow_record
from probe.common import cli
from probe.common import markdown as md
from probe.common.errors import RunError, TargetError, UsageError, run_main, warn
from probe.common.paths import PROJECT_ROOT, data_dir, display
from probe.common.progress import Progress
from probe.read.conversation import Turn
from probe.read.dedupe import changes
from probe.read.traffic import Body, Exchange, iter_exchanges
from probe.redact.masking import RULES_VERSION
from probe.redact.secrets import mask_tokens_and_urls, redact_header
from probe.runs.code_files import source_files
from probe.runs.folders import being_recorded, list_runs, load_manifest, private_replacement, resolve_run
from probe.runs.importer import import_renderer
from probe.runs.ledger import REPORT, record_made
from probe.runs.stored_target import stored_target
from probe.runs.targets import Target, is_target_path, load_target
from probe.write.viewer.data import ViewerData
from probe.write.viewer.header import page_header
from probe.write.viewer.page import GENERATED, write_page

GENERIC_RENDERER = "probe.apis.generic.report"  # no target: what no API reader recognises is shown raw
PER_API = "each exchange is read and shown by its own API's built-in renderer (the generic one where none fits)"
LOG_IN_MEMORY = 64 * 1024 * 1024  # bytes of conversation log kept in memory before spilling to disk
TURNS_FILE = "turns.jsonl"  # written beside report.md: one line per exchange, in the conversation model
TURNS_SUFFIX = ".turns.jsonl"  # of the turns beside a report named otherwise (Y.md: Y.turns.jsonl)
GENERATED_AT = "- Generated at: "  # the one line that differs between two reports of the same capture
GENERATED_AT_BYTES = GENERATED_AT.encode()


@dataclass
class Totals:
    """Everything the report's header and tables need, gathered while the log streams past."""

    exchanges: int = 0
    http: int = 0
    websocket: int = 0
    frames: int = 0
    client_frames: int = 0
    incomplete: int = 0
    sent: int = 0
    received: int = 0
    first_start: float | None = None
    last_end: float | None = None
    endpoints: dict = field(default_factory=dict)  # (proxy, path) -> Counter of methods
    methods: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    tokens: TokenSums = field(default_factory=TokenSums)
    unrecognised: set[str] = field(default_factory=set)
    apis: Counter = field(default_factory=Counter)  # exchanges by the API they were read as
    renderers: dict = field(default_factory=dict)  # API -> the renderer module that showed its exchanges
    foreign: dict = field(default_factory=dict)  # API -> numbers of exchanges not of the target's API
    request_paths: KeyPaths = field(default_factory=KeyPaths)
    response_paths: KeyPaths = field(default_factory=KeyPaths)

    def absorb(self, rendered: md.Rendered) -> None:
        self.unrecognised |= rendered.unrecognised

    def read_by(self, turn: Turn, renderer, preferred, preferred_name: str) -> None:
        """Which API the exchange was read as, and by which renderer: the report says so once."""
        self.apis[turn.api] += 1
        self.tokens.add(turn)
        self.renderers.setdefault(turn.api, preferred_name if renderer is preferred else renderer_module(renderer))
        preferred_api = getattr(preferred, "API", None)
        if preferred_api not in (None, "generic") and turn.api not in (preferred_api, "generic"):
            self.foreign.setdefault(turn.api, []).append(turn.number)

    def count(self, exchange: Exchange) -> None:
        self.exchanges += 1
        self.incomplete += not exchange.complete
        self.endpoints.setdefault((exchange.proxy, exchange.path.split("?", 1)[0]), Counter())[exchange.method] += 1
        self.methods[exchange.method] += 1
        self.statuses[str(exchange.status) if exchange.status is not None else "none"] += 1
        if exchange.kind == "websocket":
            self.websocket += 1
            self.frames += len(exchange.frames)
            for frame in exchange.frames:
                self.client_frames += frame.from_client
                if frame.from_client:
                    self.sent += frame.body.size
                else:
                    self.received += frame.body.size
        else:
            self.http += 1
            self.sent += exchange.request_body.size
            self.received += exchange.response_body.size
        start, end = exchange.timing.get("start"), exchange.timing.get("end", exchange.timing.get("start"))
        if start is not None:
            self.first_start = start if self.first_start is None else min(self.first_start, start)
        if end is not None:
            self.last_end = end if self.last_end is None else max(self.last_end, end)


def source_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return display(path)


def render_body_generically(body: Body, what: str) -> list[md.Markdown]:
    if body.format == "empty":
        return [md.Markdown("({}: no body)").format(what)]
    if body.format == "json":
        try:
            block = md.json_block(body.value)
        except RecursionError:
            block = md.Markdown("(nested too deeply to show here; see the capture file)")
        return [md.details(f"{what} JSON ({body.size:,} bytes)", block)]
    if body.format == "base64":
        return [md.Markdown("({}: {:,} bytes of binary data, stored base64 in the capture)").format(what, body.size)]
    return [md.details(f"{what} text ({body.size:,} bytes)", md.code(str(body.value), "text"))]


def headers_block(
    title: str,
    pairs: list[tuple[str, str]],
    extra_secrets: frozenset[str],
    earlier: dict | None = None,
    label: str = "",
) -> md.Markdown:
    """The headers in a table; those unchanged since the previous exchange to the same endpoint are only counted.

    `earlier` maps an endpoint to (label, headers) and is updated, so each exchange shows what changed.
    """
    if not pairs:
        return md.Markdown("({}: none)").format(title)
    current = {name: redact_header(name, value, extra_secrets) for name, value in pairs}
    previous = earlier.get(title) if earlier is not None else None
    if earlier is not None:
        earlier[title] = (label, current)
    if previous is None or len(current) != len(pairs):  # repeated names are shown in full
        rows = [[name, md.inline(redact_header(name, value, extra_secrets))] for name, value in pairs]
        return md.details(f"{title} ({len(rows)})", md.table(["name", "value"], rows))
    since, before = previous
    changed, gone = changes(before, current)
    rows = [[name, md.inline(value)] for name, value in changed.items()]
    if not rows and not gone:
        return md.Markdown("({}: all {} as in {})").format(title, len(current), since)
    summary = f"{title} ({len(current)}: {len(rows)} new or changed since {since}"
    summary += f"; gone: {', '.join(gone)})" if gone else ")"
    return md.details(summary, md.table(["name", "value"], rows))


def exchange_heading(exchange: Exchange) -> md.Markdown:
    if exchange.kind == "websocket":
        return md.Markdown("### #{} WebSocket {} {} ({})").format(
            exchange.number, exchange.method, md.inline(exchange.path), exchange.proxy
        )
    status = exchange.status if exchange.status is not None else "no response"
    return md.Markdown("### #{} {} {} → {} ({})").format(
        exchange.number, exchange.method, md.inline(exchange.path), status, exchange.proxy
    )


def exchange_facts(exchange: Exchange) -> md.Markdown:
    facts = [md.Markdown("URL {}").format(md.inline(exchange.url))]
    if exchange.complete and exchange.error:
        # The final event had arrived; the connection then ended early (codex hangs up at once).
        facts.append(md.Markdown("complete (the connection then ended: {})").format(md.inline(exchange.error)))
    elif exchange.complete:
        facts.append(md.Markdown("complete"))
    else:
        facts.append(md.Markdown("**cut off**: {}").format(md.inline(exchange.error or "ended before its final event")))
    if exchange.ttfb_ms is not None:
        facts.append(md.Markdown("time to first byte {:.1f} ms").format(exchange.ttfb_ms))
    if exchange.duration_ms is not None:
        facts.append(md.Markdown("duration {:.1f} ms").format(exchange.duration_ms))
    if exchange.kind == "websocket":
        facts.append(md.Markdown("{} frames").format(len(exchange.frames)))
    else:
        facts.append(
            md.Markdown("request {:,} bytes, response {:,} bytes").format(
                exchange.request_body.size, exchange.response_body.size
            )
        )
    return md.Markdown("- {}").format(md.Markdown("; ").join(facts))


def safely(render, fallback, label: str, warnings: list[str]) -> md.Rendered:
    """Call a renderer; if it fails on some unforeseen shape, show the raw body (from `fallback()`) and carry on."""
    try:
        return render()
    except Exception as error:  # a renderer bug must not cost the rest of the report
        warnings.append(f"exchange {label}: the renderer failed ({type(error).__name__}: {error}); shown raw")
        return md.Rendered(list(fallback()))


def render_exchange(
    exchange: Exchange, turn: Turn, renderer, state: dict, totals: Totals, extra_secrets, warnings: list[str]
) -> list[str]:
    """One exchange in the log: where and when, its headers, then its turn as the renderer writes it."""
    label = f"#{exchange.number}"
    # Headers repeat from one exchange to the next: after the first, show only what changed.
    endpoint = (exchange.proxy, exchange.kind, exchange.method, exchange.path)
    endpoint_headers = state.setdefault("headers", {}).setdefault(endpoint, {})
    lines = [
        exchange_heading(exchange),
        "",
        exchange_facts(exchange),
        "",
        headers_block("Request headers", exchange.request_headers, extra_secrets, endpoint_headers, label),
        "",
        headers_block("Response headers", exchange.response_headers, extra_secrets, endpoint_headers, label),
        "",
    ]
    requests = (
        [frame.body for frame in exchange.frames if frame.from_client]
        if exchange.kind == "websocket"
        else [exchange.request_body]
    )
    lines += [md.Markdown("#### Request"), ""]
    if not requests:
        lines += [md.Markdown("(no client frame: the server spoke first, or the socket closed without a request)"), ""]
    read = next((body for body in requests if body.is_json), None)  # the one the turn was read from
    for body in requests:
        if body is read:
            rendered = safely(
                lambda: renderer.render_request(turn, label, state),
                lambda body=body: render_body_generically(body, "request"),
                label,
                warnings,
            )
            totals.request_paths.add(without_carried(body.value, turn, renderer))
            totals.absorb(rendered)
            lines += rendered.lines + [""]
        else:
            lines += render_body_generically(body, "request") + [""]
    lines += [md.Markdown("#### Response"), ""]
    events = exchange.stream_events()
    if events is not None:
        totals.response_paths.add_events(events)
    elif exchange.response_body.is_json:
        totals.response_paths.add(exchange.response_body.value)
    else:
        return lines + render_body_generically(exchange.response_body, "response") + [""]
    rendered = safely(
        lambda: renderer.render_response(turn, label, state),
        lambda: render_body_generically(exchange.response_body, "response"),
        label,
        warnings,
    )
    totals.absorb(rendered)
    return lines + rendered.lines + [""]


def without_carried(body: Any, turn: Turn, renderer) -> Any:
    """A request body without the history an earlier request already held, so repeated history counts once in
    the key-path tables. The renderer names the field that holds the history."""
    field = getattr(renderer, "HISTORY_FIELD", None)
    if not (
        isinstance(body, dict)
        and field
        and turn.carried
        and turn.carried.by == "prefix"
        and isinstance(body.get(field), list)
    ):
        return body
    return {**body, field: body[field][turn.carried.items :]}


def manifest_value(value: Any) -> md.Markdown:
    """A manifest field in a code span: text as written, any other JSON value (null, a number, a list) as JSON."""
    return md.inline(value if isinstance(value, str) else md.compact(value))


# What a run's status means for what its report covers: report.md and report.html say the same.
STATUS_NOTES = {
    "running": "this run is marked running, so the report covers only what was captured before it stopped",
    "interrupted": "this run is marked interrupted, so the report covers only what was captured before it stopped",
    "proxy-failed": "the proxies stopped during the run, so exchanges after that were not recorded (see proxies.log)",
}


def run_header(manifest: dict | None) -> list[md.Markdown]:
    """The run's facts from its manifest, which is as untrusted as the capture: any field may be missing or of
    any JSON type."""
    if not isinstance(manifest, dict) or not manifest:
        return [md.Markdown("- Run: no manifest.json beside this capture")]
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    status, exit_code = manifest.get("status"), manifest.get("agent_exit_code")
    lines = [
        md.Markdown("- Run: target {}, status {}, agent exit code {}, agent version {}").format(
            manifest_value(manifest.get("target")),
            md.strong(status if isinstance(status, str) else md.compact(status)),
            exit_code if type(exit_code) is int else manifest_value(exit_code),
            manifest_value(agent.get("version")),
        )
    ]
    if isinstance(status, str) and status in STATUS_NOTES:
        lines.append(md.Markdown("- Note: {}").format(md.Markdown(STATUS_NOTES[status])))
    note = manifest.get("note")
    if note:
        lines.append(md.Markdown("- Note: {}").format(note if isinstance(note, str) else manifest_value(note)))
    failures = manifest.get("recording_errors")
    if type(failures) is int and failures > 0:
        lines.append(
            md.Markdown("- Recording errors: {:,} exchange{} could not be recorded (see proxies.log)").format(
                failures, "s" if failures != 1 else ""
            )
        )
    elif failures is not None and type(failures) is not int:
        lines.append(
            md.Markdown("- Recording errors: {} (not a count; see proxies.log)").format(manifest_value(failures))
        )
    if manifest.get("prompt"):
        lines.append(md.Markdown("- Prompt: {}").format(manifest_value(manifest["prompt"])))
    return lines


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
) -> None:
    # The log is kept as bytes, so it can be copied after the header without decoding it again, and in
    # memory up to a bound (a 1 GB capture makes about 45 MB of report), then on disk: memory stays flat.
    reading = Reading(renderer)  # each exchange is read by its own API's reader; the target's for its API
    states: dict[int, tuple[Any, dict]] = {}  # by renderer: the renderer, and what its sections remember
    # A capture masked as it was recorded, with the rules in force now, needs only its joined answers masked
    # again in turns.jsonl. (The report masks everything it shows, whatever the manifest says.)
    masked_at_capture = isinstance(manifest, dict) and manifest.get("redaction") == RULES_VERSION
    lines = TurnLines(redact, only_output=masked_at_capture)
    page = ViewerData(redact, extra_secrets, masked_at_capture) if viewer else None
    with tempfile.SpooledTemporaryFile(LOG_IN_MEMORY, "w+b") as log:
        for exchange in iter_exchanges(traffic, warnings, progress):
            totals.count(exchange)
            turn, builder = reading.build(exchange, warnings)
            shown_by = renderer_for(builder.reader, renderer)
            totals.read_by(turn, shown_by, renderer, renderer_name)
            _, state = states.setdefault(id(shown_by), (shown_by, {}))
            record = lines.record(turn) if turns is not None or page is not None else None
            if turns is not None:
                turns.write(lines.encode(turn, record))
            if page is not None:
                history_field = getattr(shown_by, "HISTORY_FIELD", None)
                page.add(exchange, turn, record if record is not None else shallow_record(turn), history_field)
            if turn.input or turn.previous_response_id:
                # What the renderer's closing section rebuilds: the last request's whole context, and its answer.
                state["last_context"] = (turn.number, builder.last_context[1], turn.output)
            text = "\n".join(render_exchange(exchange, turn, shown_by, state, totals, extra_secrets, warnings))
            log.write(text.encode("utf-8", "replace") + b"\n")
        for shown_by, state in states.values():  # each API's closing section, in the order the APIs came
            epilogue = getattr(shown_by, "render_epilogue", None)
            if epilogue is not None:
                ending = safely(lambda epilogue=epilogue, state=state: epilogue(state), list, "epilogue", warnings)
                log.write("\n".join(ending.lines).encode("utf-8", "replace"))
        generated = time.strftime("%Y-%m-%d %H:%M:%S %z")
        out.write(
            "\n".join(report_header(traffic, manifest, totals, warnings, made_with(renderer_name, redact), generated))
        )
        out.write("\n\n## Conversation log\n\n")
        log.seek(0)
        if hasattr(out, "buffer"):
            out.flush()
            shutil.copyfileobj(log, out.buffer, 1 << 20)
        else:
            out.write(log.read().decode("utf-8"))
    if page is not None:
        header = page_header(
            traffic.parent.name, source_name(traffic), plain_stamp(renderer_name, redact), manifest, totals,
            warnings, STATUS_NOTES, page.unrecognised, page.masked,
        )  # fmt: skip
        write_page(viewer, lambda out: page.write_data(out, header), generated)


def made_with(renderer_name: str, redact: bool) -> str:
    """The report's stamp line: what rendered it (as its target names it) and whether captured text was masked,
    which the rebuild check compares (probe.runs.ledger) because file times cannot tell."""
    return md.Markdown(REPORT.stamp + "renderer {}, {}").format(md.inline(renderer_name), masking(redact))


def plain_stamp(renderer_name: str, redact: bool) -> str:
    return f"renderer {renderer_name}, {masking(redact)}"


def masking(redact: bool) -> str:
    return "captured text masked" if redact else "captured text as captured (--no-redact)"


def renderer_module(renderer) -> str:
    """The module a renderer comes from: the renderer itself, or the module defining the attribute named."""
    if isinstance(renderer, ModuleType):
        return renderer.__name__
    return getattr(renderer, "__module__", None) or type(renderer).__module__


def report_header(
    traffic: Path, manifest: dict | None, totals: Totals, warnings: list[str], stamp: str, generated: str
) -> list[str]:
    duration = "unknown"
    if totals.first_start is not None and totals.last_end is not None:
        duration = f"{totals.last_end - totals.first_start:.2f} s"
    lines = [
        "# agent-probe report",
        "",
        md.Markdown("- Source: {}").format(md.inline(source_name(traffic))),
        f"{GENERATED_AT}{generated}",
        stamp,
        *run_header(manifest),
        f"- Totals: {totals.exchanges} exchanges ({totals.http} HTTP, {totals.websocket} WebSocket), "
        f"{totals.frames} WebSocket messages ({totals.client_frames} from the client), "
        f"duration {duration}, {totals.sent:,} bytes sent, {totals.received:,} bytes received",
        f"- Tokens: {totals.tokens.described()}",
        *readers_lines(totals),
        f"- Incomplete exchanges: {totals.incomplete}",
    ]
    if totals.unrecognised:
        lines.append(
            md.Markdown("- Unrecognised: {} kinds ({}); shown as raw JSON below").format(
                len(totals.unrecognised), md.Markdown(", ").join(sorted(totals.unrecognised))
            )
        )
    else:
        lines.append("- Unrecognised: 0 kinds")
    lines += [md.Markdown("- Warning: {}").format(warning) for warning in warnings]
    endpoint_rows = [
        [proxy, md.inline(path), ", ".join(sorted(counter)), sum(counter.values())]
        for (proxy, path), counter in sorted(totals.endpoints.items())
    ]
    key_paths = [
        [[md.inline(path), types, count] for path, types, count in paths.top()]
        for paths in (totals.request_paths, totals.response_paths)
    ]
    return lines + [
        "",
        "## Endpoints",
        "",
        md.table(["proxy", "path", "methods", "count"], endpoint_rows),
        "",
        "## HTTP methods",
        "",
        md.table(["method", "count"], sorted(totals.methods.items())),
        "",
        "## Status codes",
        "",
        md.table(["status", "count"], sorted(totals.statuses.items())),
        "",
        "## Payload structure",
        "",
        "Repeated history is counted once: a request's items already shown by an earlier request are left out.",
        "",
        "### Request key paths (top 30)",
        "",
        md.table(["path", "types", "count"], key_paths[0]),
        "",
        "### Response key paths (top 30)",
        "",
        md.table(["path", "types", "count"], key_paths[1]),
    ]


NUMBERS_SHOWN = 12  # exchange numbers listed in a note before the rest are counted


def readers_lines(totals: Totals) -> list[md.Markdown]:
    """Which API each exchange was read as, and by which renderer; and, once per API, the exchanges that speak
    another API than the target's renderer reads."""
    apis = md.Markdown(", ").join(
        md.Markdown("{} ×{} ({})").format(md.inline(api), count, md.inline(totals.renderers[api]))
        for api, count in totals.apis.items()
    )
    lines = [md.Markdown("- Read as: {}").format(apis or md.Markdown("no exchange"))]
    for api, numbers in totals.foreign.items():
        listed = ", ".join(f"#{number}" for number in numbers[:NUMBERS_SHOWN])
        more = f" and {len(numbers) - NUMBERS_SHOWN:,} more" if len(numbers) > NUMBERS_SHOWN else ""
        lines.append(
            md.Markdown("- Note: {} exchange{} ({}{}) speak {}, not the API of the target's renderer: read and "
                        "shown by {}").format(
                len(numbers), "s" if len(numbers) != 1 else "", listed, more, md.inline(api),
                md.inline(totals.renderers[api]),
            )
        )  # fmt: skip
    return lines


def build_report(
    traffic: Path,
    renderer,
    manifest: dict | None,
    extra_secrets=frozenset(),
    redact: bool = True,
    turns: BinaryIO | None = None,
) -> tuple[str, list[str]]:
    """The whole report as one string (for tests and small captures), and the warnings; the turns go to
    `turns`, if given."""
    out = io.StringIO()
    warnings = write_report_to(out, traffic, renderer, manifest, extra_secrets, redact, turns=turns)
    return out.getvalue(), warnings


@dataclass(frozen=True)
class Choice:
    """The renderer a report uses, the headers its target masks as well, and the target file they came from."""

    renderer: Any
    extra_secrets: frozenset[str]
    target_file: Path | None = None
    name: str = ""  # the renderer as the target names it (perhaps a former module path, probe.runs.importer)

    def sources(self) -> tuple[Path, ...]:
        """The files this choice adds to what a report is made from: the renderer's code and the target file."""
        target_file = (self.target_file,) if self.target_file is not None else ()
        return source_files(renderer_module(self.renderer)) + target_file


def choose_renderer(target: Target | None, manifest: dict | None, warnings: list[str]):
    """The renderer and the extra secret headers, as `choose` picks them."""
    choice = choose(target, manifest, warnings)
    return choice.renderer, choice.extra_secrets


def choose(target: Target | None, manifest: dict | None, warnings: list[str]) -> Choice:
    """The renderer of the target the user named; else of the target the run's manifest names, looked up by
    name in targets/ only (a manifest comes with the run, from whoever made it: it never names a file, and a
    module only from a fixed list); else the renderer of the target file stored in the manifest if it is one of
    ours (probe.runs.stored_target); else none: each exchange is then read and shown by its own API's built-in renderer.
    Both fallbacks say so in a warning. Whatever is chosen, an exchange of another API than the chosen renderer's
    is read by that API's renderer (probe.apis.turns.Reading)."""
    if target is None and manifest and manifest.get("target") is not None:
        named = manifest["target"]
        try:
            target = load_target(named) if isinstance(named, str) and not is_target_path(named) else None
        except TargetError:
            target = None
        if target is None:
            why = f"the manifest names target {repr(named)[:80]}, which is not a target in targets/"
            stored = stored_target(manifest)
            if stored is not None and stored.known:
                warnings.append(
                    f"{why}: the report uses {stored.renderer}, the renderer of the target file "
                    f"{stored.file_name} stored in the manifest (pass --target to choose another)"
                )
                return Choice(import_renderer(stored.renderer), stored.redact_headers, name=stored.renderer)
            unknown = ""
            if stored is not None and stored.renderer is not None:
                unknown = (
                    f" (the target file stored in the manifest names renderer {repr(stored.renderer)[:80]}, "
                    "which is not one of probe.apis or of targets/)"
                )
            warnings.append(f"{why}: {PER_API}{unknown} (pass --target to choose one)")
    if target is None:
        return Choice(import_renderer(GENERIC_RENDERER), frozenset(), name=GENERIC_RENDERER)
    return Choice(import_renderer(target.renderer), frozenset(target.redact_headers), target.path, target.renderer)


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
        return made_with(self.choice.name, self.redact)


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


def same_report(old: Path, new: Path) -> bool:
    """Whether two reports say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED_AT_BYTES)


def same_page(old: Path, new: Path) -> bool:
    """Whether two viewer pages say the same, apart from when they were generated."""
    return same_apart_from(old, new, GENERATED)


COMPARED_AT_ONCE = 1 << 20  # bytes of a line compared at a time: a page's data is one line of many megabytes


def same_apart_from(old: Path, new: Path, generated: bytes) -> bool:
    with old.open("rb") as first, new.open("rb") as second:
        # Both are read in the same pieces while they agree; the generated line, far shorter, is read whole.
        pieces_of_old = iter(lambda: first.readline(COMPARED_AT_ONCE), b"")
        pieces_of_new = iter(lambda: second.readline(COMPARED_AT_ONCE), b"")
        for line_of_old, line_of_new in itertools.zip_longest(pieces_of_old, pieces_of_new):
            if line_of_old != line_of_new and not (
                line_of_old and line_of_new and line_of_old.startswith(generated) and line_of_new.startswith(generated)
            ):
                return False
    return True


def same_bytes(old: Path, new: Path) -> bool:
    return filecmp.cmp(old, new, shallow=False)


CAPTURE_FILES = ("traffic.jsonl", "manifest.json")  # never overwritten by a report or an export


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
    for derived, what in ((viewer_path(output), "the viewer"), (turns_path(output), "the turns")):
        if derived.exists() and os.path.samefile(derived, traffic):
            raise RunError(
                f"--output {output}: {what} would be written beside the report as {derived.name}, and that is "
                "the capture itself (--input); write the report elsewhere"
            )


def main(argv: list[str] | None = None) -> int:
    from probe.write import rebuild  # it builds on this module

    parser = cli.ArgumentParser(prog="python -m probe.write.report", description=__doc__)
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
    args = parser.parse_args(argv)
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
            beside = f"(and {turns_path(output).name}, {viewer_path(output).name}) beside the input"
            print(f"no --output: {what} {display(output)} {beside}", file=sys.stderr)
        report, warnings = write(job)
        for warning in warnings:
            warn(warning)
        print(f"report: {display(report)}")
        print(f"viewer: {display(viewer_path(report))}")
        print(f"turns: {display(turns_path(report))}")  # named after the report: say where
        return 0
    if args.output:
        raise RunError("--output goes with --input; a run's report is always written into its folder")
    if args.run == "all":
        if not data_dir().is_dir():  # a mistyped PROBE_DATA_DIR must not pass for "nothing to do"
            raise RunError(f"no data folder at {display(data_dir())} (see PROBE_DATA_DIR and invoke.yaml)")
        counts = rebuild.refresh_all(list_runs(target.name if target else None), target, redact, args.force)
        return 1 if counts["failed"] else 0
    run = resolve_run(args.run or "latest", target.name if target else None)
    if being_recorded(run):
        warn(f"{display(run)} is still being captured: the report covers what was recorded so far")
    refreshed = rebuild.refresh(run, target, redact, args.force)
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
