"""The account's records, each counted once (as the manifest counts them) under what became of it, and the agent's
own totals (its metrics, summed) beside the wire's, by session and model: for the report, the viewer and
insight.jsonl alike. It reads a probe.analyse.account.join.AccountJoin, not imported, to stay shallow."""

from typing import Any

from probe.common import markdown as md
from probe.read.account.metrics import (
    ACTIVE,
    CACHE_READ,
    CACHE_WRITE,
    COST,
    INPUT,
    OUTPUT,
    REQUESTS,
    UNCACHED,
)

NAMES_SHOWN = 12  # names listed in a row of the records' table; the rest are counted
ROWS_SHOWN = 40
# The totals' columns: each quantity, as the table heads it.
COLUMNS = ((REQUESTS, "requests"), (INPUT, "input (all)"), (UNCACHED, "uncached input"), (CACHE_READ, "cache read"),
           (CACHE_WRITE, "cache write"), (OUTPUT, "output"), (COST, "cost"))  # fmt: skip


def record_counts(joined: Any) -> list[tuple[str, int, dict[str, int]]]:
    """(what became of them, how many, by name) for each kind of record in telemetry.jsonl: their sum is every
    record the file holds."""
    reading = joined.reading
    totals = reading.totals
    rows = [
        ("read as events (log records and spans)", reading.events, {}),
        ("spans that tell of no event", sum(reading.not_events.values()), dict(reading.not_events)),
        ("metrics summed into the agent's totals", sum(totals.read.values()), dict(totals.read)),
        ("metrics of measures the wire has no count of", sum(totals.not_compared.values()), dict(totals.not_compared)),
        ("of services no reader knows", sum(reading.unknown_services.values()), dict(reading.unknown_services)),
        ("of a shape their reader does not know", reading.misshapen, {}),
    ]
    return [row for row in rows if row[1]]


def names(counted: dict[str, int]) -> str:
    shown = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    said = ", ".join(f"{name} ×{count}" for name, count in shown[:NAMES_SHOWN])
    return said + (f" and {len(shown) - NAMES_SHOWN:,} more names" if len(shown) > NAMES_SHOWN else "")


def records_lines(joined: Any, manifest_records: Any) -> list:
    rows = [[what, f"{count:,}", md.inline(names(counted)) if counted else ""]
            for what, count, counted in record_counts(joined)]  # fmt: skip
    if not rows:
        return []
    lines = ["", "### The agent's records", "",
             md.text(f"telemetry.jsonl holds {joined.records:,} records, each counted once below."),
             "", md.table(["records", "how many", "names"], rows)]  # fmt: skip
    if isinstance(manifest_records, int) and manifest_records != joined.records:
        lines += ["", md.text(f"The manifest counts {manifest_records:,} records received: the file holds "
                              f"{joined.records:,}.")]  # fmt: skip
    return lines


def totals_lines(joined: Any) -> list:
    if not joined.totals:
        return []
    active = any(ACTIVE in row.agent for row in joined.totals)
    heads = ["session", "model"] + [head for _, head in COLUMNS] + (["active time"] if active else []) + ["check"]
    rows = []
    for row in joined.totals[:ROWS_SHOWN]:
        cells = [md.inline(row.session) if row.session else "(any)", md.inline(row.model) if row.model else "(any)"]
        cells += [pair(row.agent.get(quantity), row.wire.get(quantity), quantity) for quantity, _ in COLUMNS]
        if active:
            cells.append(pair(row.agent.get(ACTIVE), row.wire.get(ACTIVE), ACTIVE))
        cells.append(check(row))
        rows.append(cells)
    lines = ["", "### The agent's totals beside the wire's", "",
             md.text("Each cell is the agent's, from its metrics summed (a delta point added to the others, a "
                     "cumulative series' last point taken), then the wire's, from the API's usage of the exchanges of "
                     "that session and model (the model the agent asked for, priced at it). Input (all) includes "
                     "the tokens read from and written to the cache; uncached input is the rest."
                     + (" Active time: the agent's own measure of the time it was busy, beside the time its model "
                        "calls took on the wire." if active else "")),
             "", md.table(heads, rows)]  # fmt: skip
    if len(joined.totals) > ROWS_SHOWN or joined.totals_left_out:
        lines += ["", f"… and {len(joined.totals) - ROWS_SHOWN + joined.totals_left_out:,} more not shown."]
    return lines


def check(row: Any) -> str:
    if row.disagreements:
        return "; ".join(row.disagreements)
    if any(quantity in row.agent and quantity in row.wire for quantity, _ in COLUMNS):
        return "agree"
    if ACTIVE in row.agent:
        return "beside each other: the agent's busy time is no count of the wire's"
    return "nothing both sides counted"


def pair(agent: float | None, wire: float | None, quantity: str) -> str:
    return f"{amount(agent, quantity)} / {amount(wire, quantity)}"


def amount(value: float | None, quantity: str) -> str:
    if value is None:
        return "—"
    if quantity == COST:
        return f"${value:.6f}"
    if quantity == ACTIVE:
        return f"{value:,.3f} s"
    return f"{round(value):,}"


def records_record(joined: Any) -> list[dict]:
    """The records' counts as insight.jsonl's account record carries them."""
    return [{"what": what, "count": count, "names": counted} for what, count, counted in record_counts(joined)]
