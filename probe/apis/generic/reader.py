"""Reads any JSON API without knowing it: the bodies are kept raw, the stream's event types counted."""

from typing import Any

from probe.read.conversation import Turn, count_event
from probe.read.ends import EndsOf
from probe.read.sse import Event
from probe.redact.shapes import mask_bytes

API = "generic"
PROVIDER = None
OPERATION = None


def read_request(body: Any, turn: Turn) -> None:
    turn.unknown.append({"where": "request body", "raw": body})


def read_response(events: list[Event] | None, body: Any, turn: Turn) -> None:
    if events is None:
        turn.unknown.append({"where": "response body", "raw": body})
        return
    kept = EndsOf(mask_bytes)  # a stream of a million events keeps its first and last ones (probe.read.ends)
    for event in events:
        kind = (event.data.get("type") if isinstance(event.data, dict) else None) or event.name or "(untyped)"
        count_event(turn, str(kind))
        kept.add({"event": event.name, "data": event.data})
    raw, left_out = kept.kept("response events")
    turn.unknown.append({"where": "response events", "raw": raw})
    if left_out is not None:
        turn.left_out.append(left_out)


def error_body(message: str) -> dict:
    """An error body for an API none of the readers knows: the `{"error": {"message": …}}` most servers send."""
    return {"error": {"message": message}}
