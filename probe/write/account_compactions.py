"""The report's table of the compactions the agent logged, each beside the summarisation request that carried it,
and their insight.jsonl records. It reads probe.analyse.account.join.AccountJoin's compactions, not imported."""

from collections.abc import Iterator
from typing import Any

from probe.common import markdown as md

ROWS_SHOWN = 40
HEADER = ["record", "trigger", "tokens before → after", "took", "the summarisation request", "found by"]


def compaction_lines(joined: Any) -> list[str]:
    if joined is None or not joined.compactions:
        return []
    rows = [
        [md.Markdown("{} ({} line {})").format(md.inline(each.event.name), each.event.source, each.event.line),
         each.event.trigger or "", before_after(each.event), took(each.event.duration_ms),
         ", ".join(f"#{number}" for number in each.numbers) or "none", each.key or ""]
        for each in joined.compactions[:ROWS_SHOWN]
    ]  # fmt: skip
    lines = ["", "### Compactions", "",
             "Each compaction as the agent logged it (its telemetry, its session file), beside the request that "
             "asked the model for the summary.", "", md.table(HEADER, rows)]  # fmt: skip
    if len(joined.compactions) > ROWS_SHOWN:
        lines += ["", f"… and {len(joined.compactions) - ROWS_SHOWN:,} more compactions not shown."]
    return lines


def before_after(event: Any) -> str:
    if event.tokens_before is None and event.tokens_after is None:
        return "not logged"
    return " → ".join("—" if count is None else f"{count:,}" for count in (event.tokens_before, event.tokens_after))


def took(duration_ms: Any) -> str:
    return "" if duration_ms is None else f"{float(duration_ms):,.0f} ms"


def compaction_records(joined: Any, schema: int) -> Iterator[dict]:
    """One `account_compaction` record per compaction: what the agent logged, and the summarisation request."""
    for each in joined.compactions:
        event = each.event
        yield {
            "record": "account_compaction", "schema": schema, "number": each.numbers[0] if each.numbers else None,
            "name": event.name, "source": event.source, "line": event.line, "key": each.key, "time": event.time,
            "trigger": event.trigger, "tokens_before": event.tokens_before, "tokens_after": event.tokens_after,
            "duration_ms": event.duration_ms,
        }  # fmt: skip
