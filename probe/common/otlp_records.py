"""An OTLP/HTTP export (logs, metrics or traces; protobuf or JSON) as flat records, one per log record, span or
metric: the shape of a run's telemetry.jsonl (see docs/agent-account.md)."""

import math
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

# Each signal's path from the export request down to its items.
SIGNALS = {
    "traces": ("resourceSpans", "scopeSpans", "spans"),
    "logs": ("resourceLogs", "scopeLogs", "logRecords"),
    "metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
}
PATHS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
# The value shapes of a metric's data points, by the field that holds them.
METRIC_KINDS = ("sum", "gauge", "histogram", "exponentialHistogram", "summary")
# A sum's or histogram's AggregationTemporality, as protobuf's enum number or OTLP/JSON's name: whether each data point
# counts since the last export (delta) or since its series' start (cumulative).
TEMPORALITIES = {1: "delta", 2: "cumulative", "AGGREGATION_TEMPORALITY_DELTA": "delta",
                 "AGGREGATION_TEMPORALITY_CUMULATIVE": "cumulative"}  # fmt: skip


def request_class(signal: str):
    """The generated class of a signal's export request (imported when first needed: it loads the descriptors)."""
    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        return ExportTraceServiceRequest
    if signal == "logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

        return ExportLogsServiceRequest
    if signal == "metrics":
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        return ExportMetricsServiceRequest
    raise ValueError(f"no OTLP signal {signal}")


def export_from_protobuf(data: bytes, signal: str) -> dict:
    """A protobuf export request in its JSON form (ids as hex, as OTLP/JSON writes them)."""
    try:
        message = request_class(signal).FromString(data)
    except DecodeError as error:
        raise ValueError("not an OTLP protobuf export") from error
    value = json_format.MessageToDict(message, use_integers_for_enums=True)
    hex_ids(value)
    return value


def hex_ids(value: Any) -> None:
    """Protobuf's JSON form writes bytes as base64; OTLP/JSON writes trace and span ids as hex."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                value[key] = base64_to_hex(item)
            else:
                hex_ids(item)
    elif isinstance(value, list):
        for item in value:
            hex_ids(item)


def base64_to_hex(text: str) -> str:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def records(export: Any, signal: str) -> list[dict]:
    """Every item of an export request (its JSON form), flattened: signal, service, resource and scope, name,
    times in seconds since the epoch, attributes as a plain mapping, and the item's own fields by signal."""
    return list(iter_records(export, signal))


def iter_records(export: Any, signal: str) -> Iterator[dict]:
    """records(), one at a time: those not taken are never flattened."""
    if signal not in SIGNALS:
        raise ValueError(f"no OTLP signal {signal}")
    outer, middle, inner = SIGNALS[signal]
    for resource_entry in listed(export, outer):
        resource = attributes(listed(resource_entry.get("resource"), "attributes"))
        for scope_entry in listed(resource_entry, middle):
            scope = scope_entry.get("scope") if isinstance(scope_entry.get("scope"), dict) else {}
            for item in listed(scope_entry, inner):
                yield record_of(signal, resource, scope, item)


def count_items(export: Any, signal: str) -> int:
    """How many items records() would flatten, without flattening them."""
    outer, middle, inner = SIGNALS[signal]
    return sum(
        len(listed(scope_entry, inner))
        for resource_entry in listed(export, outer)
        for scope_entry in listed(resource_entry, middle)
    )


def record_of(signal: str, resource: dict, scope: dict, item: dict) -> dict:
    """One item flattened, with its resource's attributes (a mapping) and its scope (JSON form)."""
    record = {
        "signal": signal,
        "service": resource.get("service.name"),
        "resource": resource,
        "scope": scope.get("name"),
    }
    record.update(ITEM_READERS[signal](item))
    return record


def log_item(item: dict) -> dict:
    fields = attributes(listed(item, "attributes"))
    return {
        "name": log_name(item, fields),
        "time": seconds(item.get("timeUnixNano")) or seconds(item.get("observedTimeUnixNano")),
        "attributes": fields,
        "body": any_value(item.get("body")) if isinstance(item.get("body"), dict) else None,
        "severity": item.get("severityText") or None,
        "trace_id": item.get("traceId") or None,
        "span_id": item.get("spanId") or None,
    }


def span_item(item: dict) -> dict:
    start, end = seconds(item.get("startTimeUnixNano")), seconds(item.get("endTimeUnixNano"))
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    return {
        "name": str(item.get("name", "")),
        "time": start,
        "end": end,
        "attributes": attributes(listed(item, "attributes")),
        "kind": item.get("kind"),
        "status": status.get("code"),
        "trace_id": item.get("traceId") or None,
        "span_id": item.get("spanId") or None,
        "parent_span_id": item.get("parentSpanId") or None,
        "events": [span_event(event) for event in listed(item, "events")],
    }


def span_event(event: dict) -> dict:
    return {
        "name": str(event.get("name", "")),
        "time": seconds(event.get("timeUnixNano")),
        "attributes": attributes(listed(event, "attributes")),
    }


def metric_item(item: dict) -> dict:
    kind = next((name for name in METRIC_KINDS if isinstance(item.get(name), dict)), None)
    shape = item.get(kind) if kind else None
    points = []
    for point in listed(shape, "dataPoints"):
        value = point.get("asDouble", point.get("asInt"))
        if value is None and "sum" in point:  # a histogram's: its sum and count
            value = point.get("sum")
        points.append(
            {
                "time": seconds(point.get("timeUnixNano")),
                "start": seconds(point.get("startTimeUnixNano")),
                "value": number(value),
                "count": number(point.get("count")),
                "attributes": attributes(listed(point, "attributes")),
            }
        )
    return {
        "name": str(item.get("name", "")),
        "time": max((point["time"] for point in points if point["time"]), default=None),
        "unit": item.get("unit") or None,
        "kind": kind,
        "temporality": temporality(shape),
        "monotonic": shape.get("isMonotonic") is True if kind == "sum" else None,
        "points": points,
        "attributes": {},
    }


def temporality(shape: Any) -> str | None:
    """delta or cumulative, as the metric says; None where it does not (a gauge, a summary, a value of no such name)."""
    said = shape.get("aggregationTemporality") if isinstance(shape, dict) else None
    return TEMPORALITIES.get(said) if isinstance(said, (int, str)) else None


ITEM_READERS = {"logs": log_item, "traces": span_item, "metrics": metric_item}


def log_name(item: dict, fields: dict) -> str:
    """A log record's event name: its `event.name` attribute, its own field, or else its body's text. The attribute
    first: codex's Rust exporter fills the field with the source location that logged the event."""
    if isinstance(fields.get("event.name"), str) and fields["event.name"]:
        return fields["event.name"]
    if item.get("eventName"):
        return str(item["eventName"])
    body = any_value(item.get("body")) if isinstance(item.get("body"), dict) else None
    return body if isinstance(body, str) else ""


def attributes(pairs: list[dict]) -> dict:
    """OTLP's key/value list as a mapping; a key given twice keeps its last value."""
    return {str(pair.get("key", "")): any_value(pair.get("value")) for pair in pairs}


def any_value(value: Any) -> Any:
    """An OTLP AnyValue as the plain value it holds."""
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return number(value["intValue"])
    if "doubleValue" in value:
        return number(value["doubleValue"])
    if "arrayValue" in value:
        array = value["arrayValue"] if isinstance(value["arrayValue"], dict) else {}
        return [any_value(each) for each in array.get("values", []) if isinstance(each, dict)]
    if "kvlistValue" in value:
        kvlist = value["kvlistValue"] if isinstance(value["kvlistValue"], dict) else {}
        return attributes(listed(kvlist, "values"))
    if "bytesValue" in value:
        return value["bytesValue"]  # base64, as OTLP/JSON writes it
    return None


def number(value: Any) -> int | float | None:
    """OTLP/JSON writes 64-bit integers as strings, and protobuf's JSON form doubles that are not finite as "NaN" or
    "Infinity": JSON has no such numbers, so they are None, as a value too large for a float is."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            found = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return found if math.isfinite(found) else None


def seconds(nanos: Any) -> float | None:
    """Nanoseconds as seconds; None for none, and for a count no float holds (a 310-digit timestamp)."""
    value = number(nanos)
    try:
        return value / 1e9 if value else None
    except OverflowError:
        return None


def listed(value: Any, key: str) -> list[dict]:
    found = value.get(key) if isinstance(value, dict) else None
    return [each for each in found if isinstance(each, dict)] if isinstance(found, list) else []


def names_in_protobuf(data: bytes, signal: str) -> list[str]:
    """The names of the items a protobuf export carries (what another host was sent)."""
    return names_in_json(export_from_protobuf(data, signal), signal)


def names_in_json(value: Any, signal: str) -> list[str]:
    """The names of the items an export (its JSON form) carries: span and metric names, log records' event names."""
    return [record["name"] for record in records(value, signal)]
