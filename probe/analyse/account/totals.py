"""The agent's own totals (its metrics, summed) beside the wire's, by session and model: requests, tokens in their
parts, cost, and the time the agent says it was busy beside the time its model calls took. The wire's exchanges are
grouped by the model the agent asked for (a fork may have rewritten it) and priced at it."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from probe.analyse.account.pairs import COST_SLACK, Compared
from probe.analyse.account.wire import WireCall
from probe.read.account.metrics import (
    ACTIVE,
    CACHE_READ,
    CACHE_WRITE,
    COST,
    INPUT,
    OUTPUT,
    QUANTITIES,
    REQUESTS,
    UNCACHED,
)

ROWS_KEPT = 1_000  # sessions and models compared; the rest are counted
TOKENS = (INPUT, UNCACHED, CACHE_READ, CACHE_WRITE, OUTPUT)
WORDS = {REQUESTS: "requests", INPUT: "input tokens (cached included)", UNCACHED: "uncached input tokens",
         CACHE_READ: "cache read tokens", CACHE_WRITE: "cache write tokens", OUTPUT: "output tokens",
         COST: "cost", ACTIVE: "active time"}  # fmt: skip


@dataclass
class TotalRow:
    """One session's model, the agent's totals beside the wire's (quantity -> value; a quantity a side does not
    count is not there). The wire's ACTIVE is the time its model calls took (their union)."""

    session: str | None
    model: str | None
    agent: dict[str, float] = field(default_factory=dict)
    wire: dict[str, float] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


def completed(counts: dict[str, float]) -> dict[str, float]:
    """The input's parts worked out from those the side gives: all of it from its parts, or the uncached part from
    all of it and the cache's (only where the side counts the cache: none counted is not 0 counted)."""
    found = dict(counts)
    if INPUT not in found and UNCACHED in found:
        found[INPUT] = found[UNCACHED] + found.get(CACHE_READ, 0) + found.get(CACHE_WRITE, 0)
    elif UNCACHED not in found and INPUT in found and CACHE_READ in found:
        found[UNCACHED] = found[INPUT] - found[CACHE_READ] - found.get(CACHE_WRITE, 0)
    return found


def total_rows(agent: dict[tuple[str | None, str | None], dict[str, float]], calls: list[WireCall],
               compared: Iterable[Compared]) -> tuple[list[TotalRow], int]:  # fmt: skip
    """The rows, and how many sessions' models were left out past ROWS_KEPT. By session where both sides name
    sessions; else by model only."""
    if not agent:
        return [], 0
    by_session = any(session is not None for session, _ in agent) and any(call.session for call in calls)
    if not by_session:
        agent = by_model(agent)
    rows_of = {compare.number: compare for compare in compared}
    wire: dict[tuple[str | None, str | None], dict[str, float]] = {}
    spans: dict[tuple[str | None, str | None], list[tuple[float, float]]] = {}
    for call in calls:
        row = rows_of.get(call.number)
        model = row.agent_model if row is not None and row.rewritten else call.model
        key = (call.session if by_session else None, model)
        into = wire.setdefault(key, {})
        add(into, REQUESTS, 1)
        for quantity, value in ((INPUT, call.input_tokens), (CACHE_READ, call.cache_read_tokens),
                                (CACHE_WRITE, call.cache_write_tokens), (OUTPUT, call.output_tokens)):  # fmt: skip
            if value is not None:
                add(into, quantity, value)
        cost = row.our_cost if row is not None else call.cost_usd
        if cost is not None:
            add(into, COST, float(cost))
        if call.start is not None and call.end is not None:
            spans.setdefault(key, []).append((call.start, call.end))
            spans.setdefault((key[0], None), []).append((call.start, call.end))  # the session's, all models
    # The time its model calls took, where the agent says how long it was busy: for the session's model, or for
    # the whole session where the agent names no model (Claude Code's active time).
    for key, counts in agent.items():
        if ACTIVE in counts and key in spans:
            wire.setdefault(key, {})[ACTIVE] = union(spans[key])
    keys = sorted(set(agent) | set(wire), key=lambda key: (str(key[0]), str(key[1])))
    rows = []
    for session, model in keys[:ROWS_KEPT]:
        row = TotalRow(session, model, completed(agent.get((session, model), {})),
                       completed(wire.get((session, model), {})))  # fmt: skip
        row.disagreements = disagreements(row)
        rows.append(row)
    return rows, max(0, len(keys) - ROWS_KEPT)


def by_model(agent: dict[tuple[str | None, str | None], dict[str, float]]) -> dict:
    summed: dict[tuple[str | None, str | None], dict[str, float]] = {}
    for (_, model), counts in agent.items():
        into = summed.setdefault((None, model), {})
        for quantity, value in counts.items():
            add(into, quantity, value)
    return summed


def disagreements(row: TotalRow) -> list[str]:
    """Each count both sides give that differs (cost beyond rounding); the active time is no count of the wire's."""
    found = []
    requests = row.wire.get(REQUESTS, 1)
    for quantity in QUANTITIES:
        if quantity == ACTIVE or quantity not in row.agent or quantity not in row.wire:
            continue
        agent, wire = row.agent[quantity], row.wire[quantity]
        if quantity == COST:
            if abs(Decimal(str(agent)) - Decimal(str(wire))) > COST_SLACK * max(1, int(requests)):
                found.append(f"the agent's cost ${agent:.6f}; the wire's usage prices to ${wire:.6f} "
                             f"({agent - wire:+.6f})")  # fmt: skip
        elif round(agent) != round(wire):
            found.append(f"the agent's {WORDS[quantity]} {round(agent):,}; the wire's {round(wire):,} "
                         f"({round(agent) - round(wire):+,})")  # fmt: skip
    return found


def add(into: dict[str, float], quantity: str, value: float) -> None:
    into[quantity] = into.get(quantity, 0) + value


def union(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by the intervals (calls made at once count once)."""
    covered, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            covered += end - start
            reach = end
        elif end > reach:
            covered += end - reach
            reach = end
    return covered
