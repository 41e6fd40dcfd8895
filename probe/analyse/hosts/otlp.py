"""The names of the spans, log events and metrics an OTLP/HTTP export carries, in JSON or in protobuf (read with
the OpenTelemetry proto package's classes, then walked as the JSON form)."""

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from probe.common.otlp_records import listed, request_class

# Each signal's path from the request down to its items, and where an item's name is.
SIGNALS = {
    "traces": (("resourceSpans", "scopeSpans", "spans"), "span"),
    "logs": (("resourceLogs", "scopeLogs", "logRecords"), "log"),
    "metrics": (("resourceMetrics", "scopeMetrics", "metrics"), "metric"),
}


def names_in_protobuf(data: bytes, signal: str) -> list[str]:
    if signal not in SIGNALS:
        raise ValueError(f"no OTLP signal {signal}")
    try:
        message = request_class(signal).FromString(data)
    except DecodeError as error:
        raise ValueError("not an OTLP protobuf export") from error
    return names_in_json(json_format.MessageToDict(message), signal)


def names_in_json(value: Any, signal: str) -> list[str]:
    if signal not in SIGNALS:
        raise ValueError(f"no OTLP signal {signal}")
    (outer, middle, inner), item = SIGNALS[signal]
    names = []
    for resource in listed(value, outer):
        for scope in listed(resource, middle):
            for record in listed(scope, inner):
                names.append(log_name(record) if item == "log" else str(record.get("name", "")))
    return names


def log_name(record: dict) -> str:
    """A log record's event name: its own field, its `event.name` attribute, or else its body's text."""
    if record.get("eventName"):
        return str(record["eventName"])
    for attribute in listed(record, "attributes"):
        if attribute.get("key") == "event.name":
            value = attribute.get("value")
            return str(value.get("stringValue", "")) if isinstance(value, dict) else ""
    body = record.get("body")
    return str(body.get("stringValue", "")) if isinstance(body, dict) else ""
