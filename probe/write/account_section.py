"""The report's section "The agent's own account": its records matched to the exchanges (how many, by which key),
the agent's counts beside the API's usage and our cost, the typed prompts and the requests they caused, the tool
decisions and how long each call waited, compactions, and every record or exchange left unmatched. It reads a
probe.analyse.account.join.AccountJoin, not imported, so that the report's header stays shallow."""

import time as clock
from collections import Counter
from typing import Any

from probe.common import markdown as md
from probe.write.account_compactions import compaction_lines
from probe.write.account_totals import records_lines, totals_lines

TITLE = "The agent's own account"
ROWS_SHOWN = 40  # rows of each table; the rest are counted
FACTS_SHOWN = 5  # disagreements and findings the viewer's Run panel lists
NO_ACCOUNT = {
    "none": "The agent keeps no account of its own that this run could record.",
    "off": "The agent's own account was switched off for this run.",
    "absent": "No account of the agent's own was recorded: the run predates it, or ran without it.",
    "missing": "The agent's own account was switched on, but no telemetry.jsonl is in the run folder.",
}


def account_summary(joined: Any) -> str:
    """One line: how many exchanges the account's records matched, or why there is no account."""
    if joined is None:
        return NO_ACCOUNT["absent"]
    if joined.state != "on":
        return NO_ACCOUNT.get(joined.state, NO_ACCOUNT["absent"]) + (f" ({joined.why})" if joined.why else "")
    disagreeing = sum(1 for row in joined.compared if row.disagreements)
    metrics = sum(joined.reading.metrics.values())
    said = (
        f"{joined.matched_exchanges} of {joined.exchanges} model exchanges matched to the agent's {joined.records:,} "
        f"records ({joined.reading.events:,} read as events, {metrics:,} metric records); {len(joined.findings)} "
        f"unmatched; {disagreeing} with counts that disagree"
    )
    if joined.totals:
        said += f"; its totals beside the wire's: {sum(1 for row in joined.totals if row.disagreements)} disagree"
    rewritten = sum(1 for row in joined.compared if row.rewritten)
    if rewritten:
        said += f"; {rewritten} asked for another model than the fork sent ({joined.fork_model}): compared at theirs"
    return said


def account_facts(joined: Any, mask) -> list[tuple[str, str]]:
    """The viewer's Run panel: the one line, the keys each record matched by, each disagreement and finding (the
    first few), captured text masked with `mask`."""
    facts = [(TITLE, mask(account_summary(joined)))]  # (its reason quotes the manifest)
    if joined is None or joined.state != "on":
        return facts
    facts += [
        ("Account records", mask(f"{name}: {key_tally(counts)}")) for name, counts in sorted(joined.matched.items())
    ]
    disagreements = [f"#{row.number}: {text}" for row in joined.compared for text in row.disagreements]
    facts += [("Account disagrees", mask(text)) for text in disagreements[:FACTS_SHOWN]]
    facts += [("Account unmatched", mask(text)) for text in joined.findings[:FACTS_SHOWN]]
    hidden = max(0, len(disagreements) - FACTS_SHOWN) + max(0, len(joined.findings) - FACTS_SHOWN)
    return facts + ([("Account", f"{hidden:,} more in report.md")] if hidden else [])


def key_tally(counts: Counter) -> str:
    matched = sum(count for key, count in counts.items() if key is not None)
    keys = ", ".join(f"{key} ×{count}" for key, count in sorted(counts.items(), key=str) if key is not None)
    return f"{matched} of {sum(counts.values())} matched" + (f" by {keys}" if keys else "")


def account_section(joined: Any, manifest: Any = None) -> list[str]:
    """`manifest`: the run's manifest.json, whose count of the records received the section's is checked against."""
    lines = ["", f"## {TITLE}", ""]
    if joined is None or joined.state != "on":
        return lines + [md.text(account_summary(joined))] + compaction_lines(joined)
    lines.append(md.text(account_summary(joined) + "."))
    reading = joined.reading
    left_out = reading.unreadable_exports or reading.bad_lines or reading.unknown_services or joined.events_left_out
    if left_out or reading.dropped_records:
        said = md.Markdown("Not read: {} export(s) the receiver could not read, {} line(s) of telemetry.jsonl that "
                           "were no record, {} record(s) of services no reader knows, {} record(s) beyond the join's "
                           "bound.").format(
            reading.unreadable_exports, reading.bad_lines, sum(reading.unknown_services.values()),
            joined.events_left_out)  # fmt: skip
        if reading.dropped_records:
            kept = md.Markdown(" Not kept: {:,} record(s) the receiver left out past its bounds.")
            said = md.Markdown(said + kept.format(reading.dropped_records))
        lines += ["", said]
        lines += [md.Markdown("- {}").format(note) for note in reading.notes]
    lines += records_lines(joined, manifest_records(manifest))
    rows = [[md.inline(name), key_tally(counts)] for name, counts in sorted(joined.matched.items())]
    if rows:
        lines += ["", "### Records matched to exchanges", "", md.table(["record", "matched"], rows[:ROWS_SHOWN])]
    lines += compared_lines(joined) + totals_lines(joined) + beside_lines(joined) + findings_lines(joined)
    return lines


def compared_lines(joined: Any) -> list[str]:
    if not joined.compared:
        return []
    rows = [
        [f"#{row.number}", md.Markdown("{} (line {})").format(md.inline(row.name), row.line), row.key,
         both(row.agent_input, row.api_input), both(row.agent_uncached, row.api_uncached),
         both(row.agent_cache_read, row.api_cache_read), both(row.agent_cache_write, row.api_cache_write),
         both(row.agent_output, row.api_output), both(dollar(row.agent_cost), dollar(row.our_cost)),
         both(ms(row.agent_ttft_ms), ms(row.wire_first_byte_ms)), both(ms(row.agent_ms), ms(row.wire_ms)),
         check(row)]
        for row in joined.compared[:ROWS_SHOWN]
    ]  # fmt: skip
    counted = {row.name: row.counted for row in joined.compared if row.counted}
    lines = ["", "### The agent's counts beside the API's", "",
             md.text("Each cell is the agent's, then the wire's. Input (all) includes the tokens read from and "
                     "written to the cache; uncached input is the rest. The wire's side: the API's usage, our cost "
                     "from it, the time from the request to the answer's first byte, the exchange's duration. The "
                     "agent's side, in its own fields:"), ""]  # fmt: skip
    lines += [
        md.Markdown("- {}: {}").format(md.inline(name), md.text(fields)) for name, fields in sorted(counted.items())
    ]
    lines += ["", md.table(["exchange", "record", "key", "input (all)", "uncached input", "cache read", "cache write",
                            "output", "cost", "first token / byte", "duration", "check"], rows)]  # fmt: skip
    rewritten = [row for row in joined.compared if row.rewritten]
    if rewritten:
        lines += ["", md.text(f"The fork rewrote the model of {len(rewritten)} of these requests to "
                              f"{joined.fork_model}: the agent priced each at the model it asked for, so our cost "
                              "beside it is the wire's usage at that model's price too; at the model sent, ours came "
                              "to " + ", ".join(f"#{row.number} {dollar(row.wire_cost) or 'unknown'}"
                                                for row in rewritten[:ROWS_SHOWN]) + ".")]  # fmt: skip
    return lines + more(len(joined.compared), "exchange")


def beside_lines(joined: Any) -> list[str]:
    lines = []
    if joined.prompts:
        rows = [[md.inline(each.event.prompt or "(no id)"), when(each.event.time), each.event.text or "",
                 numbers(each.numbers)] for each in joined.prompts[:ROWS_SHOWN]]  # fmt: skip
        lines += ["", "### Typed prompts and the requests they caused", "",
                  md.table(["prompt id", "time", "prompt", "requests"], rows)]  # fmt: skip
        lines += more(len(joined.prompts), "prompt")
    if joined.tools:
        rows = [[each.event.kind, md.inline(each.event.tool or "?"), each.event.decision or "", numbers(each.numbers),
                 each.key or "", ms(each.waited_ms) or "", ms(each.event.duration_ms) or ""]
                for each in joined.tools[:ROWS_SHOWN]]  # fmt: skip
        lines += [
            "",
            "### Tool decisions and results",
            "",
            "Waited: from the end of the answer that asked for the call to the agent's decision.",
            "",
            md.table(["record", "tool", "decision", "asked by", "matched by", "waited", "took"], rows),
        ]
        lines += more(len(joined.tools), "tool record")
    return lines + compaction_lines(joined)


def findings_lines(joined: Any) -> list[str]:
    if not joined.findings:
        return ["", "Every record of a request matched an exchange, and every exchange a record."]
    lines = ["", "### Unmatched", ""]
    lines += [md.Markdown("- {}").format(finding) for finding in joined.findings[:ROWS_SHOWN]]
    return lines + more(len(joined.findings), "finding")


def check(row) -> str:
    """The row's disagreements, or that it agrees, or that the record counted nothing to compare."""
    if row.disagreements:
        return "; ".join(row.disagreements + row.notes)
    if row.notes:
        return "; ".join(["agree", *row.notes])
    pairs = ((row.agent_input, row.api_input), (row.agent_output, row.api_output), (row.agent_cost, row.our_cost))
    if any(agent is not None and wire is not None for agent, wire in pairs):
        return "agree"
    return "nothing both sides counted"


def manifest_records(manifest: Any) -> Any:
    account = manifest.get("account") if isinstance(manifest, dict) else None
    telemetry = account.get("telemetry") if isinstance(account, dict) else None
    return telemetry.get("records") if isinstance(telemetry, dict) else None


def more(count: int, what: str) -> list[str]:
    return ["", f"… and {count - ROWS_SHOWN:,} more {what}s not shown."] if count > ROWS_SHOWN else []


def both(agent, wire) -> str:
    return f"{'—' if agent is None else fmt(agent)} / {'—' if wire is None else fmt(wire)}"


def fmt(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def dollar(value) -> str | None:
    return None if value is None else f"${float(value):.6f}"


def ms(value) -> str | None:
    return None if value is None else f"{float(value):,.0f} ms"


def when(time) -> str:
    """A record's time of day (UTC), to the millisecond; blank for none, or one no calendar holds."""
    try:
        return "" if time is None else clock.strftime("%H:%M:%S", clock.gmtime(time)) + f".{int(time % 1 * 1000):03d}"
    except (OverflowError, OSError, ValueError):
        return ""


def numbers(found: list[int]) -> str:
    if not found:
        return "none"
    return ", ".join(f"#{number}" for number in found[:12]) + (
        f" and {len(found) - 12:,} more" if len(found) > 12 else ""
    )
