"""A model's context window from a maintained table (a price file's entry, else genai-prices'), and whether
Anthropic's 1M-context beta header widens it."""

import functools
from dataclasses import dataclass

BETA_HEADER = "anthropic-beta"
LONG_CONTEXT_BETA = "context-1m-"  # the beta's name, before its date: context-1m-2025-08-07
LONG_CONTEXT = 1_000_000
# The models whose 1M window needs the 1M-context beta, by genai-prices' ids: Claude Sonnet 4.5 and Sonnet 4, whose
# model pages give 200,000 (https://platform.claude.com/docs/en/models/sonnet-4-5/overview) and the beta 1,000,000.
# Without the header they have the standard window, whatever a table says: genai-prices 0.0.61 (the newest for
# Python 3.11) gives Sonnet 4.5 1,000,000. Taken from here, the window is the same on every Python.
STANDARD_CONTEXT = 200_000
LONG_CONTEXT_MODELS = frozenset({"claude-sonnet-4-5", "claude-sonnet-4-0"})
# The models whose window is 1,000,000 without any header, as their model pages give it (Opus 4.6, Sonnet 4.6:
# https://platform.claude.com/docs/en/models/opus-4-6/overview), where the tables disagree: genai-prices 0.0.61
# gives Opus 4.6 200,000, 0.2.3 gives 1,000,000. Any other model's window is the table's, header or not.
NATIVE_LONG_CONTEXT_MODELS = frozenset({"claude-opus-4-6", "claude-sonnet-4-6"})


@dataclass(frozen=True)
class TableWindow:
    """What the table says of a model: its window (None: not said), where that came from, and its id there."""

    tokens: int | None = None
    source: str | None = None
    known_as: str | None = None  # the model as the table knows it (None: the table knows no such model)


def table_window(book, model: str, provider: str | None) -> TableWindow:
    """The window of `model` in `book` (a probe.analyse.prices.PriceBook, not imported here, which would stack the
    pricing's modules under this one's): its price file's first, then the database's (unless the file leaves it
    out), asked for `provider` as the database names it."""
    price = book.from_file(model)
    if price is not None and price.context_window is not None:
        return TableWindow(price.context_window, book.file.name, price.pattern)
    if not book.use_database:
        return TableWindow(known_as=None if price is None else price.pattern)
    tokens, known_as = database_window(model, provider)
    return TableWindow(tokens, book.database if tokens is not None else None, known_as)


@functools.lru_cache(maxsize=1024)  # a run repeats its models
def database_window(model: str, provider: str | None) -> tuple[int | None, str | None]:
    """genai-prices' window for `model` and its id for it; (None, None) where it knows no such model."""
    try:
        from genai_prices.data_snapshot import get_snapshot  # (loading its data takes 0.3 s: only when asked)

        _, found = get_snapshot().find_provider_model(model, None, provider, None)
    except Exception:  # LookupError, or a model name the library cannot match: the table does not know it
        return None, None
    window = found.context_window
    return (window if isinstance(window, int) and window > 0 else None), found.id


def asks_long_context(headers: list[tuple[str, str]]) -> bool:
    """Whether the request asked for Anthropic's 1M-context beta."""
    betas = (value for name, value in headers if name.lower() == BETA_HEADER)  # (it may be sent more than once)
    return any(beta.strip().startswith(LONG_CONTEXT_BETA) for value in betas for beta in value.split(","))


def takes_long_context(*names: str | None) -> bool:
    """Whether the model, by any of the names given (the table's id for it, the database's), takes the 1M beta."""
    return any(name in LONG_CONTEXT_MODELS for name in names)


def has_long_context(*names: str | None) -> bool:
    """Whether the model, by any of the names given, has a 1M window without the beta."""
    return any(name in NATIVE_LONG_CONTEXT_MODELS for name in names)
