"""OTLP exports read within a budget: an item at a time from protobuf's wire format, each parsed only once what it
would hold is counted from its bytes, with the same records as the whole export parsed at once; past the budget the
first records are kept and the rest counted; JSON is parsed only where the values it may hold fit."""

import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from test_otlp_records import LOGS, METRICS, SPANS, as_protobuf

from probe.common.otlp_reading import read_export
from probe.common.otlp_records import export_from_protobuf, records
from probe.common.otlp_wire import Budget

EXPORTS = {
    "logs": (LOGS, ExportLogsServiceRequest),
    "traces": (SPANS, ExportTraceServiceRequest),
    "metrics": (METRICS, ExportMetricsServiceRequest),
}


def field(number: int, value: bytes) -> bytes:
    assert len(value) < 128
    return bytes([number << 3 | 2, len(value)]) + value


@pytest.mark.parametrize("signal", list(EXPORTS))
def test_an_export_read_an_item_at_a_time_gives_the_records_of_the_whole(signal):
    value, request = EXPORTS[signal]
    data = as_protobuf(value, request)
    reading = read_export(data, "protobuf", signal, Budget(records=10, values=1_000))
    assert reading.records == records(export_from_protobuf(data, signal), signal) and reading.dropped == 0
    assert read_export(json.dumps(value).encode(), "json", signal, Budget(10, 1_000)).records == reading.records


def test_a_resource_given_after_its_scopes_or_in_two_pieces_is_merged_as_protobuf_merges_it():
    name = field(1, b"service.name") + field(2, field(1, b"agent"))
    version = field(1, b"service.version") + field(2, field(1, b"1.0"))
    record = field(5, field(1, b"hello"))
    entry = field(2, field(2, record)) + field(1, field(1, name)) + field(1, field(1, version))
    data = field(1, entry)
    [read] = read_export(data, "protobuf", "logs", Budget(10, 1_000)).records
    assert read == records(export_from_protobuf(data, "logs"), "logs")[0]
    assert read["resource"] == {"service.name": "agent", "service.version": "1.0"} and read["body"] == "hello"


def test_past_the_budget_the_first_records_are_kept_and_the_rest_counted():
    bodies = [f"record {number}".encode() for number in range(5)]
    data = field(1, field(2, b"".join(field(2, field(5, field(1, body))) for body in bodies)))
    budget = Budget(records=3, values=1_000)
    reading = read_export(data, "protobuf", "logs", budget)
    assert [record["body"] for record in reading.records] == ["record 0", "record 1", "record 2"]
    assert (reading.dropped, budget.full) == (2, "records")
    # Values: the (empty) resource and scope are one each, and each record four: itself, its body's field, the
    # AnyValue, its string.
    budget = Budget(records=10, values=12)
    reading = read_export(data, "protobuf", "logs", budget)
    assert ([record["body"] for record in reading.records], reading.dropped, budget.full) == (
        ["record 0", "record 1"],
        3,
        "values",
    )


def test_a_packed_array_counts_each_of_its_numbers():
    buckets = field(8, field(2, b"\x01" * 100))  # an exponential histogram point's positive bucket counts
    data = field(1, field(2, field(2, field(1, b"m") + field(10, field(1, buckets)))))
    assert read_export(data, "protobuf", "metrics", Budget(10, 99)).dropped == 1
    [metric] = read_export(data, "protobuf", "metrics", Budget(10, 200)).records
    assert metric["name"] == "m" and metric["kind"] == "exponentialHistogram"


def test_json_is_parsed_whole_only_where_the_values_it_may_hold_fit_and_else_as_a_stream():
    value, _ = EXPORTS["logs"]
    text = json.dumps(value).encode()
    tokens = sum(text.count(token) for token in (b",", b":", b"[", b"{"))
    assert read_export(text, "json", "logs", Budget(10, tokens)).records == records(value, "logs")
    # Streamed, the same records, as long as the values they are built of fit
    assert read_export(text, "json", "logs", Budget(10, tokens - 1)).records == records(value, "logs")
    starved = read_export(text, "json", "logs", Budget(10, 3))
    assert (starved.records, starved.dropped) == ([], len(records(value, "logs")))
    two = json.loads(text)
    two["resourceLogs"][0]["scopeLogs"][0]["logRecords"] *= 3
    reading = read_export(json.dumps(two).encode(), "json", "logs", Budget(2, 1_000))
    assert (len(reading.records), reading.dropped) == (2, 1)


@pytest.mark.parametrize(
    "data",
    [
        b"\x0a\x05ab",
        b"\x0b\x00",
        b"\x00\x00",
        b"\x0a\x80",
        b"\x08\x80",
        json_format.MessageToJson(ExportLogsServiceRequest()).encode(),
    ],
)
def test_bytes_that_are_no_export_are_a_value_error(data):
    with pytest.raises(ValueError, match=r"^not an OTLP protobuf export"):
        read_export(data, "protobuf", "logs", Budget(10, 1_000))
