"""Small helpers for writing Markdown that stays well-formed whatever text goes into it."""

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Rendered:
    """What a renderer returns for one request or response."""

    lines: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)  # counts by kind, named by the renderer (input, output…)
    unrecognised: set[str] = field(default_factory=set)  # kinds of items or events the renderer does not know
    # The part of a request worth counting in the structure tables (history already shown is left out);
    # None means the whole body.
    payload: Any = None

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)


def code(text: str, language: str = "") -> str:
    """A fenced block whose fence is longer than any run of backticks inside the text."""
    longest = max((len(run) for run in re.findall(r"```+", text)), default=0) if "```" in text else 0
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


# Built once: json.dumps with options makes a new encoder per call, which shows at thousands of calls.
PRETTY = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), default=str)


def json_block(value: Any) -> str:
    return code(PRETTY.encode(value), "json")


def details(summary: str, *body: str) -> str:
    inner = "\n\n".join(part for part in body if part)
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{inner}\n\n</details>"


def cell(value: Any) -> str:
    """Text safe inside one table cell."""
    text = value if isinstance(value, str) else COMPACT.encode(value)
    return html.escape(text, quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def inline(text: str) -> str:
    """Inline code that survives backticks in the text."""
    text = text.replace("\n", " ")
    if "`" not in text:
        return f"`{text}`"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def first_line(text: str, limit: int = 80) -> str:
    # Found without splitting the whole text: system prompts run to tens of kilobytes.
    stripped = text.lstrip()
    end = stripped.find("\n")
    line = (stripped if end < 0 else stripped[:end]).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def compact(value: Any) -> str:
    return COMPACT.encode(value)
