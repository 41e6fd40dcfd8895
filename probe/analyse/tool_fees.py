"""The tools an API runs itself and bills by use (web search, file search), as the price database counts them: which
uses the installed database can price, which a model's price has a fee for, and how the report names them."""

import functools
import warnings
from collections.abc import Iterable

# A server tool (as the readers name them, probe.read.conversation.Usage.server_tools) and the usage key and price
# key the price database (genai-prices) counts and prices its uses by; a tool not here has no price there.
DATABASE_UNITS = {
    "web_search": ("web_searches", "web_searches_kcount"),
    "file_search": ("storage_searches", "storage_searches_kcount"),
    "code_execution": ("code_executions", "code_executions_kcount"),
}


@functools.cache  # the installed database does not change while we run
def database_counts(key: str) -> bool:
    """Whether the installed price database takes `key` as a usage count: releases before server-tool prices
    refuse it (a TypeError), later ones warn of a key they do not know."""
    import genai_prices

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            genai_prices.Usage(**{key: 1})
        except (TypeError, ValueError, UserWarning):
            return False
    return True


def database_usage(uses: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The usage counts to give the price database for these server-tool uses: those it can count."""
    counted: dict[str, int] = {}
    for tool, count in uses:
        unit = DATABASE_UNITS.get(tool)
        if unit is not None and database_counts(unit[0]):
            counted[unit[0]] = counted.get(unit[0], 0) + count
    return counted


def priced_by(model_price: object, tool: str) -> bool:
    """Whether a model's price from the database has a fee for uses of `tool` (which database_usage gave it)."""
    unit = DATABASE_UNITS.get(tool)
    if unit is None or not database_counts(unit[0]):
        return False
    fee = getattr(model_price, unit[1], None)
    return fee is not None and fee > 0


def uses_text(uses: Iterable[tuple[str, int]]) -> str:
    """Server-tool uses as the report says them: `3 web searches and 1 web fetch`."""
    said = [f"{count:,} {tool_name(tool, count)}" for tool, count in sorted(uses, key=lambda use: (-use[1], use[0]))]
    return " and ".join(said) if len(said) < 3 else ", ".join(said[:-1]) + " and " + said[-1]


def tool_name(tool: str, count: int) -> str:
    name = tool.replace("_", " ")
    if count == 1:
        return name
    return name + ("es" if name.endswith(("ch", "sh", "s", "x")) else "s")
