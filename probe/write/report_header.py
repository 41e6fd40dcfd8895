"""The top of report.md: what the run was, its totals, tables of endpoints and tokens, and how it was read."""

from pathlib import Path
from typing import Any

from probe.analyse.insight import SCHEMA
from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.paths import PROJECT_ROOT, display
from probe.runs.ledger import REPORT
from probe.write.account_section import account_section
from probe.write.agents_section import agents_section, tools_section
from probe.write.cache_section import cache_section
from probe.write.context_section import context_section
from probe.write.cost_section import cost_section
from probe.write.hooks_section import hooks_section
from probe.write.hosts_section import hosts_section
from probe.write.manifest_facts import manifest_facts, session_words
from probe.write.mcp_section import context_lines, mcp_section
from probe.write.setup_section import setup_section
from probe.write.time_section import time_section
from probe.write.window_section import window_lines

GENERATED_AT = "- Generated at: "  # the one line that differs between two reports of the same capture


def source_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return display(path)


def manifest_value(value: Any) -> md.Markdown:
    """A manifest field in a code span: text as written, any other JSON value (null, a number, a list) as JSON."""
    return md.inline(value if isinstance(value, str) else md.compact(value))


def run_line(facts, status, exit_code) -> md.Markdown:
    """The line that says which target ran, how it ended, and which agent version it was."""
    return md.Markdown("- Run: target {}, status {}, agent exit code {}, agent version {}").format(
        manifest_value(facts.target),
        md.strong(status if isinstance(status, str) else md.compact(status)),
        exit_code if type(exit_code) is int else manifest_value(exit_code),
        manifest_value(facts.agent_version),
    )


def run_header(manifest: dict | None, seen=None) -> list[md.Markdown]:
    """The run's facts from its manifest (probe.write.manifest_facts), with the logins `seen` in its requests, as
    the report's header lines."""
    facts = manifest_facts(manifest, seen)
    if facts is None:
        return [md.Markdown("- Run: no manifest.json beside this capture")]
    status, exit_code, failures = facts.status, facts.exit_code, facts.recording_errors
    if status == "imported":  # made elsewhere: no agent ran here, and a target is only what the import was told
        named = manifest_value(facts.target) if facts.target is not None else "none named"
        lines = [md.Markdown("- Run: imported from a recording made elsewhere, status **imported**, target {}").format(
            named
        )]  # fmt: skip
    else:
        lines = [run_line(facts, status, exit_code)]
    if facts.status_note:
        lines.append(md.Markdown("- Note: {}").format(md.Markdown(facts.status_note)))
    if facts.note is not None:
        note = facts.note
        lines.append(md.Markdown("- Note: {}").format(note if isinstance(note, str) else manifest_value(note)))
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
    lines += imported_lines(facts.imported)
    if facts.prompt is not None:
        lines.append(md.Markdown("- Prompt: {}").format(manifest_value(facts.prompt)))
    lines += origin_lines(manifest.get("origin") if isinstance(manifest, dict) else None)
    said = session_words(facts)
    if said:
        parts = [md.Markdown("{} {}").format(what, manifest_value(value)) for what, value in said]
        lines.append(md.Markdown("- Agent run: ") + md.Markdown(", ").join(parts))
    return lines


def origin_lines(origin: Any) -> list[md.Markdown]:
    """The run a fork or a resend was made from (the manifest's `origin`), and a fork's check (`verify`)."""
    if not isinstance(origin, dict):
        return []
    line = md.Markdown("- Origin: a {} of run {} at request {}").format(
        manifest_value(origin.get("kind")), manifest_value(origin.get("run")), manifest_value(origin.get("at"))
    )
    if "model" in origin:
        line = md.Markdown(line + md.Markdown(", from there with model {}").format(manifest_value(origin.get("model"))))
    lines = [line]
    checked = origin.get("verify")
    if isinstance(checked, dict):
        lines.append(md.Markdown("- Verify: {} exited {} after {} s").format(
            manifest_value(checked.get("command")), manifest_value(checked.get("exit_code")),
            manifest_value(checked.get("seconds")),
        ))  # fmt: skip
    return lines


def entries_said(entries: Any) -> md.Markdown:
    """The manifest's count of imported entries, as written, with its noun in the number it needs."""
    return md.Markdown("{} {}").format(manifest_value(entries), "entry" if entries == 1 else "entries")


def imported_lines(imported: Any) -> list[md.Markdown]:
    """Where an imported run came from, and what its format does not keep (the manifest's `imported`)."""
    if not isinstance(imported, dict):
        return []
    lines = [
        md.Markdown("- Imported: from {}, format {}, sha256 {}, {}, {} skipped").format(
            *(manifest_value(imported.get(name)) for name in ("source", "format", "sha256")),
            entries_said(imported.get("entries")),
            manifest_value(imported.get("skipped")),
        )
    ]
    lost = imported.get("lost")
    if isinstance(lost, list) and lost:
        said = md.Markdown("; ").join(manifest_value(item) for item in lost)
        lines.append(md.Markdown("- Lost in this format: {}").format(said))
    notes = imported.get("notes")
    if isinstance(notes, list):
        lines += [md.Markdown("- Import note: {}").format(manifest_value(note)) for note in notes]
    return lines


def made_with(renderer_name: str, redact: bool, prices: str) -> str:
    """The report's stamp line: what rendered it (as its target names it), whether captured text was masked, and
    the prices' sources with their versions, which the rebuild check compares (probe.runs.ledger) because file
    times cannot tell."""
    return md.Markdown(REPORT.stamp + "renderer {}, {}, prices {}").format(
        md.inline(renderer_name), masking(redact), md.inline(prices)
    )


def plain_stamp(renderer_name: str, redact: bool, prices: str) -> str:
    return f"renderer {renderer_name}, {masking(redact)}, prices {prices}"


def masking(redact: bool) -> str:
    return "captured text masked" if redact else "captured text as captured (--no-redact)"


def report_header(
    traffic: Path,
    manifest: dict | None,
    totals,  # what the analysis counted (probe.analyse.run_totals.Totals)
    warnings: list[str],
    stamp: str,
    generated: str,
    summary: list[str],
) -> list[str]:
    """The report's top, with `summary` (probe.write.summary_section) after the run's totals."""
    mcp_facts = totals.insight.mcp_facts  # the run's MCP servers, joined to its tool calls (probe.analyse.mcp)
    recording = mcp_facts.recording if mcp_facts is not None else None
    mcp_calls = mcp_facts.calls if mcp_facts is not None else []
    duration = "unknown"
    if totals.first_start is not None and totals.last_end is not None:
        duration = f"{totals.last_end - totals.first_start:.2f} s"
    lines = [
        "# agent-probe report",
        "",
        md.Markdown("- Source: {}").format(md.inline(source_name(traffic))),
        f"{GENERATED_AT}{generated}",
        stamp,
        *run_header(manifest, totals.logins),
        f"- Totals: {counted(totals.exchanges, 'exchange')} ({totals.http} HTTP, {totals.websocket} WebSocket), "
        f"{counted(totals.frames, 'WebSocket message')} ({totals.client_frames} from the client), "
        f"duration {duration}, {totals.sent:,} bytes sent, {totals.received:,} bytes received",
        f"- Tokens: {totals.tokens.described()}",
        *readers_lines(totals),
        f"- Incomplete exchanges: {totals.incomplete}",
    ]
    if totals.unrecognised:
        lines.append(
            md.Markdown("- Unrecognised: {} ({}); shown as raw JSON below").format(
                counted(len(totals.unrecognised), "kind"), md.Markdown(", ").join(sorted(totals.unrecognised))
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
    return (
        lines
        + summary
        + context_section(totals.insight.context, totals.insight.compactions.shares())
        + context_lines(mcp_facts)
        + window_lines(totals.insight)
        + cost_section(totals.insight.costs)
        + agents_section(totals.insight.finished or [], totals.insight.costs)
        + cache_section(totals.insight.cache)
        + tools_section(totals.insight.tools, totals.insight.finished or [], mcp_calls)
        + time_section(totals.insight.time.records(SCHEMA))
        + setup_section(totals.insight.setup)
        + mcp_section(recording, mcp_facts)
        + hosts_section(totals.insight.hosts)
        + account_section(totals.insight.account, manifest)
        + hooks_section(totals.insight.hooks)
        + [
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
    )


NUMBERS_SHOWN = 12  # exchange numbers listed in a note before the rest are counted


def readers_lines(totals) -> list[md.Markdown]:
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
