"""Differences between two JSON values, as the paths that changed with their old and new values."""

import json
from typing import Any

from probe.common import markdown as md

MISSING = object()  # a JSON path one side does not have


def value_changes(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """The paths where two JSON values differ, with each side's value there (MISSING where it has none). A string
    holding JSON (as agents send some metadata) is compared as that JSON. Objects are compared key by key and
    lists of objects or lists item by item; where the two sides are of different kinds (a string and a list, a
    number and an object), or are lists of plain values, one row holds each side whole."""
    found: list[tuple[str, Any, Any]] = []
    compare(unwrapped(old), unwrapped(new), "", found, 0)
    return found


def compare(old: Any, new: Any, path: str, found: list, depth: int) -> None:
    if depth < 20 and isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            compare(
                old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}" if path else str(key), found, depth + 1
            )
    elif depth < 20 and isinstance(old, list) and isinstance(new, list) and not (plain(old) and plain(new)):
        for index in range(max(len(old), len(new))):
            before = old[index] if index < len(old) else MISSING
            after = new[index] if index < len(new) else MISSING
            compare(before, after, f"{path}.{index}" if path else str(index), found, depth + 1)
    elif not same(old, new):
        found.append((path, old, new))


def plain(items: list) -> bool:
    return not any(isinstance(item, (dict, list)) for item in items)


def same(old: Any, new: Any) -> bool:
    """Equal as JSON: `true` is not `1`, as Python's == would have it."""
    if old is MISSING or new is MISSING:
        return old is new
    return (old == new and type(old) is type(new)) or (md.is_number(old) and md.is_number(new) and old == new)


def unwrapped(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "[") and depth < 4:
        try:
            return unwrapped(json.loads(value), depth + 1)
        except ValueError:
            return value
    if isinstance(value, dict) and depth < 4:
        return {key: unwrapped(item, depth + 1) for key, item in value.items()}
    return value


def shown_changes(old: Any, new: Any) -> list[list]:
    return [[path, leaf(before), leaf(after)] for path, before, after in value_changes(old, new)]


def leaf(value: Any) -> md.Markdown:
    if value is MISSING:
        return md.Markdown("(none)")
    return md.inline(json.dumps(value, ensure_ascii=False, default=str))
