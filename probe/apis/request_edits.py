"""Edits to one recorded request before `invoke resend` sends it again: the edits as given on the command line, and
the generic ones (a field set or removed by a JSON path); each API family's places are in probe.apis.edit_families.
An edit that does not apply to the request is one UsageError line, before anything is sent."""

import json
import re
from dataclasses import dataclass
from typing import Any

from probe.common.errors import UsageError

# A JSON path as `--set` takes it: names joined by dots, list indexes in brackets (`a.b[0].c`, `[-1].text`).
PATH_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
SAMPLING = ("temperature", "max_tokens", "top_p", "top_k")  # the generic names the families map to their fields


@dataclass(frozen=True)
class Edit:
    """One edit: its kind (a flag's name) and its value as given, which `shown` repeats for the manifest."""

    kind: str
    value: str | None = None

    @property
    def shown(self) -> str:
        return f"--{self.kind.replace('_', '-')}" + (f" {self.value}" if self.value is not None else "")


def parse_path(path: str) -> list[str | int]:
    """`a.b[0]` as ["a", "b", 0]; a path that is not one is a UsageError."""
    steps, at = [], 0
    while at < len(path):
        found = PATH_STEP.match(path, at)
        if found is None or found.end() == at:
            raise UsageError(f"--set/--unset: {path[:80]!r} is not a JSON path (names joined by dots, [N] for items)")
        name, index = found.groups()
        steps.append(int(index) if index is not None else name)
        at = found.end()
    if not steps:
        raise UsageError("--set/--unset: an empty JSON path")
    return steps


def refuse_constant(name: str):
    """NaN and Infinity, which Python's reader takes and JSON has not."""
    raise ValueError(name)


def parse_assignment(given: str) -> tuple[list[str | int], Any]:
    """`PATH=JSON` as its steps and value."""
    path, equals, text = given.partition("=")
    if not equals:
        raise UsageError(f'--set {given[:80]!r}: give PATH=JSON (e.g. temperature=0.2, or system="text")')
    try:
        value = json.loads(text, parse_constant=refuse_constant)
    except ValueError:
        raise UsageError(f"--set {path[:80]}: {text[:80]!r} is not JSON (a string goes in double quotes)") from None
    return parse_path(path), value


def set_path(body: Any, steps: list[str | int], value: Any, shown: str) -> None:
    """Set the field at `steps`, making the objects on the way that are missing; a list item must exist."""
    parent = body
    for step, following in zip(steps, steps[1:] + [None], strict=True):
        last = following is None
        if isinstance(step, int):
            if not isinstance(parent, list) or not -len(parent) <= step < len(parent):
                raise UsageError(f"{shown}: the request has no item [{step}] there")
            if last:
                parent[step] = value
            else:
                parent = parent[step]
            continue
        if not isinstance(parent, dict):
            raise UsageError(f"{shown}: {step!r} is under something that is not an object in the request")
        if last:
            parent[step] = value
        else:
            parent = parent.setdefault(step, [] if isinstance(following, int) else {})


def unset_path(body: Any, steps: list[str | int], shown: str) -> None:
    """Remove the field (or list item) at `steps`; one that is not there is a UsageError."""
    parent = body
    for step in steps[:-1]:
        parent = child(parent, step, shown)
    last = steps[-1]
    child(parent, last, shown)  # there, or the error
    del parent[last]


def child(parent: Any, step: str | int, shown: str) -> Any:
    if isinstance(step, int) and isinstance(parent, list) and -len(parent) <= step < len(parent):
        return parent[step]
    if isinstance(step, str) and isinstance(parent, dict) and step in parent:
        return parent[step]
    raise UsageError(
        f"{shown}: the request has no {f'field {step!r}' if isinstance(step, str) else f'item [{step}]'} there"
    )


def history_positions(given: str, count: int) -> list[int]:
    """`--drop-history` items, numbered from 1: `3`, `2-5`, `4-` (to the end), several joined by commas; as
    indexes from 0, each item once."""
    chosen: set[int] = set()
    for part in given.split(","):
        found = re.fullmatch(r"\s*(\d+)\s*(?:(-)\s*(\d+)?)?\s*", part)
        if found is None:
            raise UsageError(f"--drop-history {given[:80]!r}: give item numbers from 1: 3, 2-5, 4- or 1,3")
        first = int(found.group(1))
        last = int(found.group(3)) if found.group(3) else (count if found.group(2) else first)
        if first < 1 or last < first or last > count:
            raise UsageError(
                f"--drop-history {part.strip()}: the request's history has {count} item{'s' * (count != 1)} "
                "(numbered from 1)"
            )
        chosen.update(range(first - 1, last))
    return sorted(chosen)


def read_tool(given: str, opened: str | None) -> Any:
    """An --add-tool's definition: inline JSON, or (`@FILE`) the text of the file the caller opened."""
    text = opened if opened is not None else given
    try:
        tool = json.loads(text, parse_constant=refuse_constant)
    except ValueError:
        raise UsageError(f"--add-tool {given[:80]}: not a JSON object (inline JSON, or @FILE)") from None
    if not isinstance(tool, dict):
        raise UsageError(f"--add-tool {given[:80]}: a tool is a JSON object, as the API defines its tools")
    return tool
