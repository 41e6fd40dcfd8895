"""Numbers as a diff shows them: each run's value, and the change from A to B."""

from typing import Any

from probe.common import markdown as md

ABSENT = "—"  # a count the API did not send: never shown as 0, never compared


def number(value: Any) -> str:
    if value is None:
        return ABSENT
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def delta(old: Any, new: Any) -> str:
    """The change from one number to another; nothing when either is absent (a count not sent is not zero)."""
    if not md.is_number(old) or not md.is_number(new) or old == new:
        return ""
    change = new - old
    sign = "+" if change > 0 else ""
    return f"{sign}{number(change)}" + (f" ({sign}{change / old:.0%})" if old else "")


def numbers_table(first: str, rows: list[tuple[str, Any, Any]]) -> md.Markdown:
    return md.table(
        [first, "A", "B", "change"], [[name, number(old), number(new), delta(old, new)] for name, old, new in rows]
    )
