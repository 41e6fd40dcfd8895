"""Renders any JSON API without knowing it: bodies and stream events as collapsible JSON."""

from probe.apis.generic import reader
from probe.apis.report_shape import read_with
from probe.common.markdown import Markdown, Rendered, details, json_block, tally
from probe.read.conversation import Turn

# The conversation model of each exchange comes from this API's reader: it keeps the bodies raw.
API, PROVIDER, OPERATION, read_request, read_response, history_key, stream_asked = read_with(reader)


def kept(turn: Turn, where: str):
    return next((entry["raw"] for entry in turn.unknown if entry.get("where") == where), None)


def render_request(turn: Turn, label: str, state: dict) -> Rendered:
    return Rendered([details("Request JSON", json_block(kept(turn, "request body")))])


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    events = kept(turn, "response events")
    if events is None:
        return Rendered([details("Response JSON", json_block(kept(turn, "response body")))])
    return Rendered(
        [
            Markdown("**Events ({})**: {}").format(len(events), tally(turn.events)),
            "",
            details("All events", json_block(events)),
        ]
    )
