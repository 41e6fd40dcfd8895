"""Renders any JSON API without knowing it: bodies and stream events as collapsible JSON."""

from collections import Counter
from typing import Any

from probe.markdown import Markdown, Rendered, details, json_block, tally
from probe.sse import Event
from probe.readers import generic as reader

# The conversation model of each exchange comes from this API's reader: turns.jsonl and the diff use it.
API, PROVIDER, read_request, read_response = reader.API, reader.PROVIDER, reader.read_request, reader.read_response


def render_request(body: Any, label: str, state: dict) -> Rendered:
    return Rendered([details("Request JSON", json_block(body))])


def render_response(events: list[Event] | None, body: Any, label: str, state: dict) -> Rendered:
    if events is None:
        return Rendered([details("Response JSON", json_block(body))])
    counts = Counter(
        str((event.data.get("type") if isinstance(event.data, dict) else None) or event.name or "(untyped)")
        for event in events
    )
    payloads = [{"event": event.name, "data": event.data} for event in events]
    return Rendered([Markdown("**Events ({})**: {}").format(len(events), tally(counts)), "",
                     details("All events", json_block(payloads))])
