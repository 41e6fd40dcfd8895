"""The JSON values an agent writes into its own telemetry file, each as the OTLP export request it stands for, so that
one flattener reads them all (probe.common.otlp_records): an OTLP JSON export as it is; a span, log record or metrics
batch the OpenTelemetry JS SDK's objects serialise to (gemini-cli's and Qwen Code's telemetry outfile); a line of
Copilot CLI's file exporter (docs/agent-account.md says where each shape was checked)."""

from collections.abc import Mapping

from probe.common.otlp_records import SIGNALS

OTLP = "OTLP JSON"
SDK_OBJECTS = "OpenTelemetry JS SDK objects (gemini-cli's telemetry outfile)"
COPILOT = "Copilot CLI's telemetry file"
# The JS SDK's DataPointType, by number, as the OTLP metric field that holds such points.
DATA_POINT_KINDS = {0: "histogram", 1: "exponentialHistogram", 2: "gauge", 3: "sum"}


def shape_of(value: Mapping) -> str | None:
    """Which writer's value this is, told by its top-level keys (and Copilot's `type`): the only things read to
    decide, so that a file's first keys are enough to sniff it."""
    if any(outer in value for outer, _, _ in SIGNALS.values()):
        return OTLP
    if value.get("type") in ("span", "metric"):
        return COPILOT
    if "_spanContext" in value or "hrTime" in value or "scopeMetrics" in value:
        return SDK_OBJECTS
    return None


def as_export(value) -> tuple[str, dict] | None:
    """The value's signal and OTLP export request (its JSON form); None for a value of no shape known here."""
    if not isinstance(value, dict):
        return None
    shape = shape_of(value)
    if shape == OTLP:
        return next((signal, value) for signal, (outer, _, _) in SIGNALS.items() if outer in value)
    if shape is None:
        return None
    if "_spanContext" in value or value.get("type") == "span":
        return "traces", exported("traces", value, span(value))
    if "hrTime" in value:
        return "logs", exported("logs", value, log_record(value))
    if value.get("type") == "metric":
        return "metrics", exported("metrics", value, metric(value, value.get("name"), value.get("unit"), None))
    batches = [each for each in listed(value.get("scopeMetrics")) if isinstance(each, dict)]
    scoped = [(batch.get("scope"), [sdk_metric(item) for item in listed(batch.get("metrics"))]) for batch in batches]
    return "metrics", {"resourceMetrics": [{"resource": resource(value), "scopeMetrics": [
        {"scope": scope_of(name), "metrics": items} for name, items in scoped
    ]}]}  # fmt: skip


def exported(signal: str, value: dict, item: dict) -> dict:
    """One item wrapped in its export request, under the value's resource and instrumentation scope."""
    outer, middle, inner = SIGNALS[signal]
    batch = {"scope": scope_of(value.get("instrumentationScope")), inner: [item]}
    return {outer: [{"resource": resource(value), middle: [batch]}]}


def span(value: dict) -> dict:
    context = mapping(value.get("_spanContext")) or value  # the SDK's span keeps its ids in a context; Copilot's not
    parent = mapping(value.get("parentSpanContext")).get("spanId") or value.get("parentSpanId")
    status = mapping(value.get("status"))
    return {
        "traceId": context.get("traceId"),
        "spanId": context.get("spanId"),
        "parentSpanId": parent,
        "name": value.get("name"),
        # The JS API numbers span kinds from INTERNAL = 0; OTLP from UNSPECIFIED = 0, INTERNAL = 1.
        "kind": value["kind"] + 1 if isinstance(value.get("kind"), int) else None,
        "startTimeUnixNano": nanos(value.get("startTime")),
        "endTimeUnixNano": nanos(value.get("endTime")),
        "attributes": key_values(value.get("attributes")),
        "status": {"code": status["code"]} if isinstance(status.get("code"), int) else {},
        "events": [
            {"name": event.get("name"), "timeUnixNano": nanos(event.get("time")),
             "attributes": key_values(event.get("attributes"))}
            for event in listed(value.get("events")) if isinstance(event, dict)
        ],
    }  # fmt: skip


def log_record(value: dict) -> dict:
    context = mapping(value.get("spanContext"))
    record = {
        "timeUnixNano": nanos(value.get("hrTime")),
        "observedTimeUnixNano": nanos(value.get("hrTimeObserved")),
        "attributes": key_values(value.get("attributes")),
        "severityText": value.get("_severityText"),
        "eventName": value.get("_eventName"),
        "traceId": context.get("traceId"),
        "spanId": context.get("spanId"),
    }
    if value.get("_body") is not None:
        record["body"] = any_value(value["_body"])
    return record


def sdk_metric(item) -> dict:
    item = mapping(item)
    descriptor = mapping(item.get("descriptor"))
    return metric(item, descriptor.get("name"), descriptor.get("unit"), DATA_POINT_KINDS.get(item.get("dataPointType")))


def metric(item: dict, name, unit, kind: str | None) -> dict:
    """A metric of data points `{attributes, startTime, endTime, value}`, a number or a histogram's `{sum, count,
    ...}`. Copilot's lines do not say the kind: a histogram by its value's shape, else a sum (its counters)."""
    points = [point for point in listed(item.get("dataPoints")) if isinstance(point, dict)]
    if kind is None:
        kind = "histogram" if any(isinstance(point.get("value"), dict) for point in points) else "sum"
    return {"name": name, "unit": unit, kind: {"dataPoints": [data_point(point) for point in points]}}


def data_point(point: dict) -> dict:
    found = {
        "timeUnixNano": nanos(point.get("endTime")),
        "startTimeUnixNano": nanos(point.get("startTime")),
        "attributes": key_values(point.get("attributes")),
    }
    value = point.get("value")
    if isinstance(value, dict):
        found.update(sum=value.get("sum"), count=value.get("count"))
    elif isinstance(value, int) and not isinstance(value, bool):
        found["asInt"] = value
    elif isinstance(value, float):
        found["asDouble"] = value
    return found


def resource(value: dict) -> dict:
    """The resource's attributes: the SDK object's raw pairs (an attribute still pending is null, and left out), or
    a plain mapping."""
    found = mapping(value.get("resource"))
    pairs = listed(found.get("_rawAttributes"))
    if pairs:
        plain = {str(pair[0]): pair[1] for pair in pairs if isinstance(pair, list) and len(pair) == 2}
    else:
        plain = mapping(found.get("attributes")) or mapping(found.get("_memoizedAttributes"))
    return {"attributes": key_values({key: item for key, item in plain.items() if item is not None})}


def scope_of(scope) -> dict:
    scope = mapping(scope)
    return {key: scope[key] for key in ("name", "version") if isinstance(scope.get(key), str)}


def key_values(plain) -> list[dict]:
    return [{"key": str(key), "value": any_value(item)} for key, item in mapping(plain).items()]


def any_value(value) -> dict:
    """A plain value as OTLP's AnyValue (64-bit integers as strings, as OTLP/JSON writes them)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value)}}
    return {}


def nanos(time) -> str | None:
    """The JS SDK's [seconds, nanoseconds] as nanoseconds since the epoch."""
    if isinstance(time, list) and len(time) == 2 and all(isinstance(part, int) for part in time):
        return str(time[0] * 1_000_000_000 + time[1])
    return None


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def listed(value) -> list:
    return value if isinstance(value, list) else []
