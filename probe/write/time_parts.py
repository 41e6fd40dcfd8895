"""The parts a run's wall time is split into (insight.jsonl's `time` records), their names, and their seconds rounded
so that the parts shown add up to the total shown."""

import math
from typing import Any

from probe.common import markdown as md

# In the order the time model gives a moment where intervals overlap (docs/formats.md).
PARTS = ("model_streaming", "model_waiting", "tools", "sub_agents", "user", "agent")
LABELS = {
    "model_waiting": "model waiting",
    "model_streaming": "model streaming",
    "tools": "tools",
    "sub_agents": "sub-agents",
    "user": "user",
    "agent": "agent itself",
}
OVERLAPS = (
    "Where intervals overlap, each moment is counted once, for the first of model streaming, model waiting, tools, "
    "sub-agents, user and the agent itself, so that each row's parts add up to its wall time"
)


def seconds(value: Any) -> float:
    """A figure of a record as seconds: anything but a finite number is none."""
    return float(value) if md.is_number(value) and math.isfinite(value) and value > 0 else 0.0


def parts_of(record: dict) -> dict[str, float]:
    parts = record.get("parts") if isinstance(record.get("parts"), dict) else {}
    return {part: seconds(parts.get(part)) for part in PARTS}


def apportion(values: list[float], total: float, unit: float) -> list[int]:
    """`values` in whole `unit`s, each rounded up or down so that they add up to `total` rounded (largest remainders
    first): 3 × 3.33 s of 10.0 s shows as 3.4 + 3.3 + 3.3, never 9.9. Values that do not add up to `total` (more
    than half a unit apart) are rounded one by one."""
    exact = [value / unit for value in values]
    if abs(sum(values) - total) > unit / 2:
        return [round(value) for value in exact]
    shown = [math.floor(value) for value in exact]
    short = round(total / unit) - sum(shown)
    by_remainder = sorted(range(len(values)), key=lambda index: exact[index] - shown[index], reverse=short > 0)
    for index in by_remainder[: abs(short)]:
        shown[index] += 1 if short > 0 else -1 if shown[index] > 0 else 0
    return shown


def decimals(wall: float) -> int:
    """The decimals a run's seconds are shown with: tenths from 10 s up, hundredths from 1 s, thousandths below, so
    that the parts of a short run (a mock's model waits of a few milliseconds) do not all round to nothing."""
    return 1 if wall >= 10 else 2 if wall >= 1 else 3


def in_units(values: list[float], total: float, digits: int) -> tuple[list[int], int]:
    """Each value and the total in units of `digits` decimals of a second, the values adding up to the total where
    they do."""
    unit = 10.0**-digits
    return apportion(values, total, unit), round(total / unit)


def percents(shown: list[int]) -> list[int]:
    """Each of the values (as shown) as a whole percentage of their sum, the percentages adding up to 100."""
    total = sum(shown)
    return apportion([value * 100 / total for value in shown], 100, 1) if total else [0 for _ in shown]


def said(value_units: int, digits: int = 1) -> str:
    """A figure given in units of `digits` decimals of a second, as the report shows it."""
    return f"{value_units / 10**digits:,.{digits}f} s"


def said_part(shown: int, exact: float, digits: int, share: int | None = None) -> md.Markdown:
    """A part as a cell or a list shows it: its seconds and share; a part that took time too short to show in the
    unit shows as under one unit, not as nothing."""
    if shown:
        return md.Markdown(said(shown, digits) + ("" if share is None else f" ({share}%)"))
    return md.Markdown(f"< {said(1, digits)}" if exact > 0 else "")


def signed(value: float) -> str:
    """A change in seconds, with its sign (a minus sign, not a hyphen)."""
    return f"+{value:,.1f} s" if value >= 0 else f"\u2212{-value:,.1f} s"
