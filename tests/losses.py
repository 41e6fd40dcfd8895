"""Finds what a capture holds that no output shows: every text value of the captured bodies (requests, JSON
answers, stream events, WebSocket messages) is looked for in the outputs, as written or as JSON writes it.

A text that reaches no output is a loss, unless its place is one the caller names as meant to be dropped (a
stream's bookkeeping, say). Short texts are left out: they are found by chance anywhere.
"""

import json
import re
from collections.abc import Iterator, Set
from pathlib import Path

from probe.read.traffic import iter_exchanges

SHORTEST = 6  # characters: a shorter value is found by chance in any output


def leaves(value, where: str) -> Iterator[tuple[str, str]]:
    """(JSON path, text) for every string in a JSON value, and for the values of JSON held in a string."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{where}[{index}]")
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                inner = json.loads(value)
            except ValueError:
                inner = None
            if isinstance(inner, (dict, list)):
                yield from leaves(inner, where + "<json>")
                return
        yield where, value


def kind_of(data, name: str | None = None) -> str:
    """`{type}` for an event or message that names its type (response.output_text.delta…), in its data or its SSE
    `event:` line, so that a place can be named by the kind of event it is in; nothing for one that names none."""
    kind = data.get("type") if isinstance(data, dict) else None
    kind = kind if isinstance(kind, str) else name
    return f"{{{kind}}}" if isinstance(kind, str) else ""


def captured_texts(traffic: Path, other_requests: Set[int] = frozenset()) -> Iterator[tuple[str, str]]:
    """(where, text) for every text value of every body the capture holds but those of `other_requests`, `where`
    naming the exchange, the event or message (with its type) and the path:
    `#2 event[5]{response.output_text.delta}.delta`."""
    for exchange in iter_exchanges(traffic, []):
        if exchange.number in other_requests:
            continue
        label = f"#{exchange.number}"
        if exchange.kind == "websocket":
            for index, frame in enumerate(exchange.frames):
                side = "client" if frame.from_client else "server"
                yield from leaves(frame.body.value, f"{label} {side}[{index}]{kind_of(frame.body.value)}")
            continue
        if exchange.request_body.is_json:
            yield from leaves(exchange.request_body.value, f"{label} request")
        events = exchange.stream_events()
        if events is not None:
            for index, event in enumerate(events):
                yield from leaves(event.data, f"{label} event[{index}]{kind_of(event.data, event.name)}")
        elif exchange.response_body.is_json:
            yield from leaves(exchange.response_body.value, f"{label} response")


def losses(
    traffic: Path, outputs: list[str], dropped: re.Pattern | None = None, other_requests: Set[int] = frozenset()
) -> list[tuple[str, str]]:
    """The captured texts found in none of `outputs`, with where they were; `dropped` matches the places whose
    values are meant to reach no output, `other_requests` the exchanges whose bodies are meant to reach none."""
    found = []
    for where, text in captured_texts(traffic, other_requests):
        if len(text) < SHORTEST or (dropped is not None and dropped.search(where)):
            continue
        escaped = json.dumps(text, ensure_ascii=False)[1:-1]
        if not any(text in output or escaped in output for output in outputs):
            found.append((where, text))
    return found


DROPPED = re.compile(
    "|".join(
        [
            # A streamed tool call's arguments come in pieces of a JSON text: they are joined and parsed, so each
            # value is kept whole in the call's arguments, and a piece as such is no text of its own.
            r"\bevent\[\d+\]\.choices\[\d+\]\.delta\.tool_calls\[\d+\]\.function\.arguments$",
            r"\bevent\[\d+\]\.choices\[\d+\]\.delta\.function_call\.arguments$",
            r"\{response\.(function_call_arguments|custom_tool_call_input)\.delta\}\.delta$",
            r"\{content_block_delta\}\.delta\.partial_json$",
            # A Messages delta's type: deltas are joined into their block, and events are counted by their type.
            r"\{content_block_delta\}\.delta\.type$",
            # What a JSON answer is (chat.completion): the reader reads it by that, as a stream's chunks are
            # counted by theirs in `events`.
            r"\bresponse\.object$",
            # The status a Responses stream reports on its way (in_progress, queued): the final one is the stop
            # reason.
            r"\{response\.(created|in_progress|queued)\}\.response\.status$",
        ]
    )
)
ZERO_WIDTH_SPACE = "\u200b"  # what the report puts after `<` in code (see probe.common.markdown)


def other_requests(run: Path) -> set[int]:
    """The exchanges of an analysed run that are no model call: insight.jsonl's `request` records that are no turn
    of turns.jsonl. Their bodies reach no output by design: the report's Other hosts, which this checks, counts
    each by its host, path and sizes."""
    turns = {json.loads(line)["number"] for line in (run / "turns.jsonl").read_text().splitlines()}
    insight = map(json.loads, (run / "insight.jsonl").read_text().splitlines())
    others = {line["number"] for line in insight if line["record"] == "request"} - turns
    report = (run / "report.md").read_text()
    if others:
        assert f"\n## Other hosts\n\n{len(others):,} request{'s' if len(others) != 1 else ''} to " in report
    else:
        assert "\n## Other hosts\n" not in report
    return others


def assert_run_loses_nothing(run: Path) -> None:
    """A fresh run's capture against the turns.jsonl and report.md its pipeline wrote: every captured text is in
    one of them, but the bodies of other requests (for the end-to-end tests of each agent)."""
    written = [(run / "turns.jsonl").read_text(), (run / "report.md").read_text().replace(ZERO_WIDTH_SPACE, "")]
    lost = losses(run / "traffic.jsonl", written, DROPPED, other_requests(run))
    assert lost == [], f"{len(lost)} captured texts reach no output, first: {lost[:5]}"
