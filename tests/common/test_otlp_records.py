"""OTLP exports, in protobuf and in JSON, read as the same flat records."""

import base64
import json

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from probe.common.otlp_records import export_from_protobuf, records

RESOURCE = {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]}
LOGS = {
    "resourceLogs": [{"resource": RESOURCE, "scopeLogs": [{"scope": {"name": "claude_code"}, "logRecords": [{
        "timeUnixNano": "1764000000500000000",
        "body": {"stringValue": "claude_code.api_request"},
        "attributes": [
            {"key": "event.name", "value": {"stringValue": "api_request"}},
            {"key": "input_tokens", "value": {"intValue": "1234"}},
            {"key": "cost_usd", "value": {"doubleValue": 0.0412}},
            {"key": "success", "value": {"boolValue": True}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
        ],
    }]}]}]
}  # fmt: skip
SPANS = {
    "resourceSpans": [{"resource": RESOURCE, "scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "chat gpt-4.1",
        "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000002000000000", "kind": 3,
        "attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "7"}}],
    }]}]}]
}  # fmt: skip
METRICS = {
    "resourceMetrics": [{"resource": RESOURCE, "scopeMetrics": [{"metrics": [{
        "name": "claude_code.token.usage", "unit": "tokens",
        "sum": {"dataPoints": [{"timeUnixNano": "1764000003000000000", "asDouble": 1234,
                                "attributes": [{"key": "type", "value": {"stringValue": "input"}}]}]},
    }]}]}]
}  # fmt: skip


def as_protobuf(value: dict, cls) -> bytes:
    """The export in protobuf; protobuf's JSON form spells ids in base64 where OTLP/JSON spells them in hex."""
    text = json.dumps(value)
    for hex_id in ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"):
        text = text.replace(hex_id, base64.b64encode(bytes.fromhex(hex_id)).decode())
    return json_format.ParseDict(json.loads(text), cls()).SerializeToString()


def test_a_log_record_reads_the_same_from_json_and_protobuf():
    from_json = records(LOGS, "logs")
    from_protobuf = records(export_from_protobuf(as_protobuf(LOGS, ExportLogsServiceRequest), "logs"), "logs")
    assert from_json == from_protobuf
    [record] = from_json
    assert record["name"] == "api_request" and record["service"] == "claude-code"
    assert record["time"] == 1764000000.5 and record["scope"] == "claude_code"
    assert record["attributes"] == {"event.name": "api_request", "input_tokens": 1234, "cost_usd": 0.0412,
                                    "success": True, "tags": ["a"]}  # fmt: skip
    json.dumps(record)


def test_spans_keep_hex_ids_and_metrics_their_points():
    [span] = records(export_from_protobuf(as_protobuf(SPANS, ExportTraceServiceRequest), "traces"), "traces")
    assert span["trace_id"] == "5b8efff798038103d269b633813fc60c" and span["span_id"] == "eee19b7ec3c1b174"
    assert (span["time"], span["end"]) == (1764000000.0, 1764000002.0)
    assert span["attributes"] == {"gen_ai.usage.input_tokens": 7}
    [metric] = records(export_from_protobuf(as_protobuf(METRICS, ExportMetricsServiceRequest), "metrics"), "metrics")
    assert metric["name"] == "claude_code.token.usage" and metric["kind"] == "sum"
    assert metric["points"] == [{"time": 1764000003.0, "start": None, "value": 1234, "count": None,
                                 "attributes": {"type": "input"}}]  # fmt: skip


def test_garbage_is_refused_as_a_value_error():
    import pytest

    with pytest.raises(ValueError):
        export_from_protobuf(b"\xff\xff\xff", "logs")
    assert records({"resourceLogs": "nope"}, "logs") == []


def test_numbers_json_has_not_are_none_and_a_timestamp_no_float_holds_is_none():
    """What protobuf's JSON form writes for a double that is not finite ("NaN", "Infinity"), a float past its range,
    and a timestamp of 310 digits: none is a number a strict JSON line can hold."""
    pairs = [
        {"key": name, "value": {"doubleValue": value}}
        for name, value in (("nan", "NaN"), ("inf", "-Infinity"), ("huge", "1e400"), ("float", float("inf")))
    ]
    point = {"timeUnixNano": "1" + "0" * 309, "asDouble": "NaN"}
    value = {
        "resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1" + "0" * 309, "attributes": pairs}]}]}]
    }
    [record] = records(value, "logs")
    assert record["time"] is None
    assert record["attributes"] == {"nan": None, "inf": None, "huge": None, "float": None}
    metric = {"name": "m", "gauge": {"dataPoints": [point]}}
    [read] = records({"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}, "metrics")
    assert read["points"][0]["value"] is None and read["points"][0]["time"] is None and read["time"] is None
    json.dumps([record, read], allow_nan=False)
