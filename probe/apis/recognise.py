"""Recognises which API an exchange speaks, from its path and the shape of its bodies, so that each exchange is
read by the reader of its own API whatever target the run names.

Each reader knows its API's marks (`recognise(evidence)`: 3 for its path, 2 for an answer or request only it
sends, 1 for a request shape it shares with another API); this module only gathers the evidence and picks the
reader that is surest. An exchange no reader recognises is no model call (probe.analyse.model_calls), unless the
target's renderer reads an API of its own; where such an exchange is read at all, the generic reader reads it.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.gemini import reader as gemini
from probe.apis.generic import reader as generic
from probe.apis.openai_chat import reader as openai_chat
from probe.apis.openai_responses import reader as openai_responses
from probe.read import sse
from probe.read.traffic import Exchange

# In the order ties are settled: the API whose marks are the least shared first.
READERS = (openai_responses, anthropic_messages, gemini, openai_chat)
BY_API = {reader.API: reader for reader in (*READERS, generic)}
RECOGNISED = {reader.API for reader in READERS}
ANSWERS_LOOKED_AT = 4  # events of a stream: an API may open with one of its own (a ping, rate limits)


@dataclass(frozen=True)
class Evidence:
    """What an exchange shows of its API: where it went, and the first object each side sent."""

    path: str  # without its query, percent-decoded
    request: dict | None  # the request body, or a WebSocket's first client message, when it is a JSON object
    answers: tuple[dict, ...]  # the response body, or its first few events, those that are JSON objects
    headers: frozenset[str]  # the request's header names, lowercase


def evidence_of(exchange: Exchange) -> Evidence:
    path = unquote(exchange.path.split("?", 1)[0])
    if exchange.kind == "websocket":
        requests = [frame.body.value for frame in exchange.frames if frame.from_client]
    else:
        requests = [exchange.request_body.value] if exchange.request_body.is_json else []
    request = next((value for value in requests if isinstance(value, dict)), None)
    events = first_events(exchange, ANSWERS_LOOKED_AT)
    if events is not None:
        answers = [event.data for event in events]
    else:
        body = exchange.response_body.value if exchange.response_body.is_json else None
        answers = body[:ANSWERS_LOOKED_AT] if isinstance(body, list) else [body]  # a JSON array of chunks
    answers = tuple(value for value in answers if isinstance(value, dict))
    return Evidence(path, request, answers, frozenset(name.lower() for name, _ in exchange.request_headers))


def first_events(exchange: Exchange, count: int) -> list[sse.Event] | None:
    """The response's first `count` events, or None when it is no stream. A stream not parsed yet has only its head
    parsed: recognising an exchange before it is masked would otherwise parse the whole stream for its first events,
    and masking has it parsed again (probe.read.masked)."""
    if exchange.kind == "websocket" or exchange.events_parsed:
        events = exchange.stream_events()
        return events[:count] if events is not None else None
    text = exchange.sse_text()
    return sse.head(text, count) if text is not None else None


def recognised(exchange: Exchange) -> Any | None:
    """The reader of the API the exchange speaks, or None when no reader recognises it."""
    evidence = evidence_of(exchange)
    best, best_score = None, 0
    for reader in READERS:
        score = reader.recognise(evidence)
        if score > best_score:
            best, best_score = reader, score
    return best


def reader_for(exchange: Exchange, preferred: Any | None = None) -> Any:
    """The reader an exchange is read by: `preferred` (the target's renderer) for its own API, and for the
    exchanges no reader recognises when it reads no API we recognise (the generic renderer, or one for an API of
    its own); else the reader of the API recognised, or the generic one."""
    found = recognised(exchange)
    preferred_api = getattr(preferred, "API", None) if preferred is not None else None
    if found is None:  # the target's renderer, unless it is for an API we recognise (and this is not of it)
        return preferred if preferred is not None and preferred_api not in RECOGNISED else generic
    if preferred is not None and preferred_api == found.API:
        return preferred
    return found
