"""resend.md: a re-sent request's answers beside the recorded one (tokens, cache, cost, tool calls, and the text as a
unified diff), and with several sends their spread. Captured text is shown inert, in code blocks."""

import difflib
from decimal import Decimal

from probe.analyse.resend_numbers import Answer, Spread
from probe.common import markdown as md
from probe.common.counting import counted

DIFF_LINES = 400  # lines of a text diff shown; the rest are counted
COUNTS = (("input tokens", "input"), ("output tokens", "output"), ("cache read", "cache_read"),
          ("cache write", "cache_write"), ("cost", "usd"))  # fmt: skip


def usd(value: Decimal | None, unknown: str | None = None) -> str:
    if value is None:
        return "unknown" + (f" ({unknown})" if unknown else "")
    return f"${value:,.6f}"


def count(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def comparison(recorded: Answer, answers: list[Answer]) -> list[str]:
    """The table: the recorded answer, then each new one, a column each."""
    columns = [f"recorded #{recorded.number}"] + [f"send {index}" for index in range(1, len(answers) + 1)]
    both = [recorded, *answers]
    rows = [["HTTP status"] + [shown(each.status) for each in both], ["model"] + [shown(each.model) for each in both]]
    for label, name in COUNTS[:-1]:
        rows.append([label] + [shown(each.count(name)) for each in both])
    rows.append(["cost"] + [usd(each.usd, each.unknown) for each in [recorded, *answers]])
    rows.append(["tool calls"] + [", ".join(each.tools) or "none" for each in [recorded, *answers]])
    rows.append(["text (characters)"] + [f"{len(each.text):,}" for each in [recorded, *answers]])
    return [md.table(["", *columns], rows)]


def shown(value) -> str:
    return count(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value or "–")


def text_diff(recorded: Answer, answer: Answer, index: int) -> list[str]:
    """The answer's text against the recorded one's, as a unified diff."""
    if answer.text == recorded.text:
        return [f"Send {index}'s text is the recorded text, unchanged."]
    lines = list(difflib.unified_diff(recorded.text.splitlines(), answer.text.splitlines(),
                                      f"recorded #{recorded.number}", f"send {index}", lineterm=""))  # fmt: skip
    more = len(lines) - DIFF_LINES
    body = "\n".join(lines[:DIFF_LINES]) + (f"\n… {counted(more, 'more line')}" if more > 0 else "")
    return [f"Send {index}'s text against the recorded text:", md.code(body, "diff")]


def spread_table(spread: Spread, sends: int) -> list[str]:
    rows = []
    for label, name in COUNTS:
        found = spread.counts[name]
        cells = ["–"] * 3 if found is None else [usd(v) if name == "usd" else count(v) for v in found]
        rows.append([label, *cells])
    return [
        f"Over {sends} sends: {spread.texts} distinct text{'s' * (spread.texts != 1)}, {spread.tool_sets} distinct "
        f"set{'s' * (spread.tool_sets != 1)} of tool calls.",
        md.table(["", "min", "median", "max"], rows),
    ]


def resend_markdown(head: list[str], recorded: Answer, answers: list[Answer], spread: Spread | None) -> str:
    """The whole page; `head`: the lines that say what was re-sent, from where, with which edits."""
    lines = ["# Resend", "", *head, "", "## Answers", ""]
    lines += comparison(recorded, answers) + [""]
    if spread is not None:
        lines += ["## Spread", ""] + [part for each in spread_table(spread, len(answers)) for part in (each, "")]
    lines += ["## Text", ""]
    for index, answer in enumerate(answers, 1):
        lines += [part for each in text_diff(recorded, answer, index) for part in (each, "")]
    return "\n".join(lines).rstrip() + "\n"
