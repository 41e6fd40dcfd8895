"""The report side of an API package's one shape, written once: what a report reads with, and its sections alike."""

from types import ModuleType
from typing import Any, NamedTuple

from probe.common.markdown import Markdown, Rendered, table
from probe.read.conversation import integer


class ReadWith(NamedTuple):
    """What a report takes from its reader, so that a target naming the report reads as the reader does: the API's
    names and its two readings, and where the reader has them its history key and its stream_asked (None: the
    reading's own, probe.apis.turns)."""

    API: str
    PROVIDER: str | None
    OPERATION: str | None
    read_request: Any
    read_response: Any
    history_key: Any
    stream_asked: Any


def read_with(reader: ModuleType) -> ReadWith:
    return ReadWith(
        reader.API,
        reader.PROVIDER,
        reader.OPERATION,
        reader.read_request,
        reader.read_response,
        getattr(reader, "history_key", None),
        getattr(reader, "stream_asked", None),
    )


ABSENT = "—"  # a count the API did not send: absent, which is not zero


def counted(count: int | None) -> str:
    """A count as the report shows it: "—" where the API sent none."""
    return f"{count:,}" if count is not None else ABSENT


def usage_table(columns: list[str], tokens: dict[str, int | None]) -> Markdown:
    """One row of counts in the API's own kinds; a kind the API did not send shows as "—", never 0."""
    return table(columns, [[counted(count) for count in tokens.values()]])


def usage_counts(raw: dict, rendered: Rendered, fields: dict[str, str], columns: list[str]) -> dict:
    """The usage table of an API that sends its counts side by side (`fields`: each count's column); what else the
    usage holds, and is not empty, is returned for the report to show in its way."""
    rendered.tokens = {kind: integer(raw.get(field)) for field, kind in fields.items()}
    rendered.add(usage_table(columns, rendered.tokens), "")
    return {key: value for key, value in raw.items() if key not in fields and value}


def usage_tokens(usage: dict, names: tuple[str, str, str], details: tuple[str, str]) -> dict[str, int | None]:
    """The usage table's counts of an OpenAI API: `names` of its input, output and total counts, `details` of the
    objects holding its cached input and its reasoning."""
    input_details, output_details = (usage.get(name) if isinstance(usage.get(name), dict) else {} for name in details)
    return {
        "input": integer(usage.get(names[0])),
        "cached": integer(input_details.get("cached_tokens")),
        "output": integer(usage.get(names[1])),
        "reasoning": integer(output_details.get("reasoning_tokens")),
        "total": integer(usage.get(names[2])),
    }
