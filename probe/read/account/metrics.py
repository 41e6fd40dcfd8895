"""The agent's metrics (telemetry.jsonl's metric records) summed into totals by session and model: what each of an
agent's metrics measures is said by its reader's table (a Measure per metric name); a data point counts since the
last export (delta: each one adds) or since its series began (cumulative: the last of each series is its total), as
OpenTelemetry's metrics data model has it."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from probe.read.account.event import number, text

# What a metric's points add to, in words no agent owns. Tokens: INPUT is all of the input, cached included, as the
# wire's usage counts it; UNCACHED the input neither read from the cache nor written to it. OUTPUT includes reasoning.
COST, INPUT, UNCACHED, CACHE_READ, CACHE_WRITE, OUTPUT, REQUESTS, ACTIVE = (
    "cost_usd", "input", "uncached_input", "cache_read", "cache_write", "output", "requests", "active_s",
)  # fmt: skip
QUANTITIES = (REQUESTS, INPUT, UNCACHED, CACHE_READ, CACHE_WRITE, OUTPUT, COST, ACTIVE)
SERIES_KEPT = 10_000  # time series summed; the points of any more are counted, not summed
NAMES_KEPT = 256  # metric names counted one by one; past them, as one
OTHER_NAMES = "(other names)"


@dataclass(frozen=True)
class Measure:
    """What one of an agent's metrics measures: the quantity each point adds to, or, where an attribute of the
    point says which (`by`: Claude Code's `type`), the quantity of each of its values (`kinds`; a value not listed is
    counted apart, not summed). `scale` turns its unit into the quantity's (milliseconds into seconds)."""

    adds: str | None = None
    by: str | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    scale: float = 1.0

    def quantity(self, attributes: dict) -> str | None:
        if self.by is None:
            return self.adds
        return self.kinds.get(str(attributes.get(self.by)))


@dataclass(frozen=True)
class MetricTable:
    """An agent's metrics that the account compares with the wire, and the attributes that name a point's model and
    session (on the point, else on the resource)."""

    measures: dict[str, Measure]
    model: tuple[str, ...] = ("model",)
    session: tuple[str, ...] = ("session.id",)


@dataclass
class Series:
    """One time series' points: their sum (delta), and the last of each start time (cumulative)."""

    key: tuple[str | None, str | None, str]  # session, model, quantity
    temporality: str | None
    total: float = 0.0
    points: int = 0
    last: dict[float | None, tuple[float, float]] = field(default_factory=dict)  # start -> (time, value)

    def add(self, start: float | None, time: float | None, value: float) -> None:
        self.total += value
        self.points += 1
        moment = time if time is not None else float(self.points)
        if start not in self.last or moment >= self.last[start][0]:
            self.last[start] = (moment, value)

    def value(self) -> float:
        """Delta points add up; a cumulative series' total is its last point, and one that began again (a new start
        time: the process restarted) adds its last to the one before. A series that does not say is cumulative where
        two of its points share a start, as only cumulative points do."""
        cumulative = self.temporality == "cumulative" or (self.temporality is None and len(self.last) < self.points)
        return sum(value for _, value in self.last.values()) if cumulative else self.total


@dataclass
class MetricTotals:
    """The metric records read: those summed (by name), those of measures the account does not compare (by name),
    and the totals by session, model and quantity."""

    read: Counter = field(default_factory=Counter)
    not_compared: Counter = field(default_factory=Counter)
    series: dict[str, Series] = field(default_factory=dict)
    points_left_out: int = 0
    kinds_not_summed: Counter = field(default_factory=Counter)  # `by` values no quantity is named for

    def add(self, record: dict, table: MetricTable | None) -> None:
        name = str(record.get("name") or "")[:200]
        measure = table.measures.get(name) if table is not None else None
        if measure is None:
            count(self.not_compared, name)
            return
        count(self.read, name)
        resource = record.get("resource") if isinstance(record.get("resource"), dict) else {}
        temporality = record.get("temporality") if record.get("temporality") in ("delta", "cumulative") else None
        points = record.get("points") if isinstance(record.get("points"), list) else []
        for point in points:
            if not isinstance(point, dict):
                continue
            fields = point.get("attributes") if isinstance(point.get("attributes"), dict) else {}
            value = number(point.get("value"))
            quantity = measure.quantity(fields)
            if quantity is None:
                count(self.kinds_not_summed, f"{name} {measure.by}={str(fields.get(measure.by))[:80]}")
                continue
            if value is None:
                continue
            key = (named(table.session, fields, resource), named(table.model, fields, resource), quantity)
            series_id = series_key(record, name, fields, resource)
            series = self.series.get(series_id)
            if series is None:
                if len(self.series) >= SERIES_KEPT:
                    self.points_left_out += 1
                    continue
                series = self.series[series_id] = Series(key, temporality)
            series.add(number(point.get("start")), number(point.get("time")), value * measure.scale)

    def totals(self) -> dict[tuple[str | None, str | None], dict[str, float]]:
        """(session, model) -> quantity -> total."""
        found: dict[tuple[str | None, str | None], dict[str, float]] = {}
        for series in self.series.values():
            session, model, quantity = series.key
            into = found.setdefault((session, model), {})
            into[quantity] = into.get(quantity, 0.0) + series.value()
        return found


def named(keys: tuple[str, ...], fields: dict, resource: dict) -> str | None:
    for key in keys:
        found = text(fields.get(key)) or text(resource.get(key))
        if found:
            return found
    return None


def series_key(record: dict, name: str, fields: dict, resource: dict) -> str:
    """A time series: its metric, the service's resource and the point's attributes (a digest: they are the
    agent's, of any size)."""
    said = json.dumps([record.get("service"), name, resource, fields], sort_keys=True, default=str)
    return hashlib.sha256(said.encode("utf-8", "replace")).hexdigest()


def count(counter: Counter, name: str) -> None:
    counter[name if name in counter or len(counter) < NAMES_KEPT else OTHER_NAMES] += 1
