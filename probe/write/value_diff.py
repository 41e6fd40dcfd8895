"""Differences between two JSON values, as the paths that changed with their old and new values."""

import json
import re
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


DEPTH = 20  # levels of objects, lists and strings holding JSON read into; deeper, a value is compared whole
JSON_IN_STRING = 1 << 20  # characters: a longer string is compared as it is, not parsed
LEAVES_KEPT = 2_000  # paths read from one side's values; a side with more is compared value by value
# A placeholder the diff put where a volatile value stood (probe.analyse.volatile), as a value of its own.
BARE_PLACEHOLDER = re.compile(r"(?<=[:\[,])<[\w ]{1,40}>(?=[,\]}])")
CELL = 200  # characters of a value shown in a cell; a longer one is cut, with its length


def unwrapped(value: Any, depth: int = 0) -> Any:
    """`value` with every string that holds a JSON object or list read as that JSON, at any depth (to DEPTH)."""
    if depth >= DEPTH:
        return value
    if isinstance(value, str) and value[:1] in ("{", "[") and len(value) <= JSON_IN_STRING:
        try:
            return unwrapped(json.loads(value), depth + 1)
        except (ValueError, RecursionError):
            pass
        try:  # a volatile number (a timestamp) stands as a bare `<epoch>`, which JSON reads as a string only quoted
            return unwrapped(json.loads(BARE_PLACEHOLDER.sub(r'"\g<0>"', value)), depth + 1)
        except (ValueError, RecursionError):
            return value
    if isinstance(value, dict):
        return {key: unwrapped(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item, depth + 1) for item in value]
    return value


def shown_changes(old: Any, new: Any, cells: bool = False) -> list[list]:
    """The changes as table rows; with `cells`, each value cut to what a cell shows (a replay's divergence keeps it
    whole: the difference may lie anywhere in it)."""
    return [[path, leaf(before, cells), leaf(after, cells)] for path, before, after in value_changes(old, new)]


def leaf(value: Any, cells: bool = False) -> md.Markdown:
    if value is MISSING:
        return md.Markdown("(none)")
    text = json.dumps(value, ensure_ascii=False, default=str)
    return md.inline(cut(text) if cells else text)


def cut(text: str) -> str:
    """`text`, or where longer than a cell shows, its start and its length."""
    return text if len(text) <= CELL else f"{text[: CELL - 40]}… ({len(text):,} characters)"


def set_changes(olds: set[str], news: set[str]) -> list[list] | None:
    """Two sides' sets of values of one field (a header sent with several values, a config key), each holding JSON,
    compared path by path: each path whose values differ, with each side's values there. None where a value holds
    no JSON object or list, or a side has too many paths to read: the values are then compared whole."""
    old, new = leaf_sets(olds), leaf_sets(news)
    if old is None or new is None:
        return None
    return [[path, values_cell(old.get(path)), values_cell(new.get(path))]
            for path in sorted(set(old) | set(new)) if old.get(path) != new.get(path)]  # fmt: skip


def leaf_sets(texts: set[str]) -> dict[str, set[str]] | None:
    """Each path of the JSON the texts hold with the values found there, as JSON text."""
    found: dict[str, set[str]] = {}
    for text in texts:
        value = unwrapped(text)
        if not isinstance(value, (dict, list)):
            return None
        for path, item in leaves(value, "", 0):
            found.setdefault(path, set()).add(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str))
            if len(found) > LEAVES_KEPT:
                return None
    return found


def leaves(value: Any, path: str, depth: int):
    if depth < DEPTH and isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif depth < DEPTH and isinstance(value, list) and value and not plain(value):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}.{index}" if path else str(index), depth + 1)
    else:
        yield path, value


def values_cell(found: set[str] | None) -> md.Markdown:
    if not found:
        return md.Markdown("(none)")
    return md.Markdown("; ").join(md.inline(cut(text)) for text in sorted(found))
