"""Telemetry bodies decoded into the names of the events they carry: OTLP/HTTP (JSON or protobuf), Sentry envelopes
and JSON batches (Statsig's, PostHog's), each within bounds; a body that cannot be read gives a note instead."""

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from probe.analyse.hosts import sentry
from probe.analyse.hosts.kinds import table
from probe.common import fastjson, otlp_records

EVENTS_PER_EXCHANGE = 500  # events named from one body: a hostile batch of millions is counted, not listed
BODY_LIMIT = 4 * 1024 * 1024  # bytes of body decoded (a protobuf one grows tenfold as Python objects): noted past it
NAME_LIMIT = 120  # characters of an event's name kept


@dataclass
class Decoded:
    names: list[str] = field(default_factory=list)
    more: int = 0  # events past EVENTS_PER_EXCHANGE, counted only
    note: str | None = None  # why the body could not be read, when it could not


def decode(exchange, events_format: str) -> Decoded:
    """The names of the events the exchange's request carries (an exchange of probe.read.traffic), in
    `events_format` (a name from kinds.yaml)."""
    body = exchange.request_body
    if body.format == "empty" or body.value is None:
        return Decoded()
    if body.size > BODY_LIMIT:
        return Decoded(note=f"{events_format} body of {body.size:,} bytes not decoded (over {BODY_LIMIT:,})")
    try:
        names = list(names_in(exchange, events_format))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, binascii.Error) as error:
        return Decoded(note=f"{events_format} body not readable ({type(error).__name__})")
    if names is None:
        return Decoded(note=f"{events_format} body not in a form read")
    kept = [shortened(name) for name in names[:EVENTS_PER_EXCHANGE]]
    return Decoded(kept, max(0, len(names) - EVENTS_PER_EXCHANGE))


def names_in(exchange, events_format: str):
    body = exchange.request_body
    if events_format == "otlp":
        signal = exchange.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if body.is_json:
            return otlp_records.names_in_json(body.value, signal)
        return otlp_records.names_in_protobuf(body_bytes(body), signal)
    if events_format == "sentry":
        return sentry.names_in_envelope(body_bytes(body))
    shape = table().batches.get(events_format)
    if shape is None:
        raise KeyError(events_format)
    value = body.value if body.is_json else fastjson.loads(body_bytes(body))
    return batch_names(value, *shape)


def body_bytes(body) -> bytes:
    """A body as stored (decoded, masked at capture) as bytes: base64 decoded, text encoded; a JSON one is read as
    parsed, never through here."""
    if body.format == "base64":
        return base64.b64decode(str(body.value))
    return str(body.value).encode("utf-8", "surrogateescape")


def batch_names(value: Any, list_field: str, name_field: str) -> list[str]:
    """The names of a JSON batch's events: `value[list_field][*][name_field]`, or the body's own name field. A dotted
    `name_field` (`event_data.event_name`) reaches into each event."""
    events = value.get(list_field) if isinstance(value, dict) and list_field in value else [value]
    if not isinstance(events, list):
        raise TypeError(f"{list_field} is not a list")
    names = (field_at(event, name_field.split(".")) for event in events)
    return [str(name) for name in names if name is not None]


def field_at(value: Any, path: list[str]) -> Any:
    """The value at a path of object keys, or None where one is missing or not an object."""
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def shortened(name: str) -> str:
    name = " ".join(name.split())  # one line, whatever it holds
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"
