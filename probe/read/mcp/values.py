"""The small readings of one MCP message's fields: an id as text, a string or a dict as sent, a cut message's
head, a process's end in words."""

import re
from typing import Any

from probe.common.fastjson import encoded, finite_float
from probe.common.long_names import bounded_name

TEXT_KEPT = 2000  # characters of a free text field (an error message, instructions) kept
HEAD_LOOKED_AT = 400  # characters of a cut message's head searched for its id and method
# A cut message's id and method, where the head shows them (JSON-RPC writers put them before the result).
HEAD_ID = re.compile(r'"id"\s*:\s*(-?\d{1,19}|"(?:[^"\\]|\\.){0,200}")')
HEAD_METHOD = re.compile(r'"method"\s*:\s*"([^"\\]{1,200})"')


def id_text(value: Any) -> str | None:
    """A JSON-RPC id as JSON text (1 and "1" are different ids); None for what cannot be one."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, str) and len(value) > 200:
        value = bounded_name(value)
    return encoded(value).decode() if isinstance(value, str) else str(value)


def text(value: Any, kept: int = TEXT_KEPT) -> str | None:
    """A string as sent, cut to `kept` characters; None for anything else."""
    return value[:kept] if isinstance(value, str) else None


def name(value: Any) -> str | None:
    """A name as sent (a method, a tool), bounded; None for anything but a non-empty string."""
    return bounded_name(value) if isinstance(value, str) and value else None


def mapping(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def size(value: Any) -> int:
    """A byte count as recorded, or 0 for anything that is not one."""
    number = finite_float(value)
    return int(number) if number is not None and 0 <= number < 1 << 53 else 0


def head_fields(head: Any) -> tuple[str | None, str | None]:
    """The id and method a cut message's head shows, where it shows them."""
    if not isinstance(head, str):
        return None, None
    start = head[:HEAD_LOOKED_AT]
    found_id, found_method = HEAD_ID.search(start), HEAD_METHOD.search(start)
    return (found_id.group(1) if found_id else None), (found_method.group(1) if found_method else None)


def ending(code: Any, signal: Any) -> str:
    """A process's end in words: "exit code 1", "killed by SIGTERM"."""
    if isinstance(signal, str) and signal:
        return f"killed by {signal[:40]}"
    if isinstance(code, int) and not isinstance(code, bool):
        return f"exit code {code}"
    return "ended"


def one_line(value: Any, kept: int = 200) -> str:
    """A value for a problem's line: its text on one line, cut."""
    found = value if isinstance(value, str) else repr(value)
    found = " ".join(found[: kept * 2].split())
    return found if len(found) <= kept else found[: kept - 1] + "…"
