"""An OTLP export (protobuf or JSON) read within a budget of records and values: its first records, flattened, and
how many came after. Parsing is bounded too: protobuf is read an item at a time (probe.common.otlp_wire), and JSON
is parsed whole where the values it could hold fit, else as a stream (probe.common.otlp_json_stream)."""

import json
import math

from probe.common.otlp_json_stream import read_json_stream
from probe.common.otlp_records import count_items, iter_records
from probe.common.otlp_wire import Budget, Reading, read_protobuf

# What opens a JSON value or follows one: parsing makes no more values than these bytes (those inside strings
# are counted too, so that no string needs reading to count them: prose counts a little more than it holds).
JSON_TOKENS = (b",", b":", b"[", b"{")


def read_export(data: bytes, encoding: str, signal: str, budget: Budget) -> Reading:
    """A ValueError (or RecursionError) where the bytes are no export of that signal."""
    if encoding == "protobuf":
        return read_protobuf(data, signal, budget)
    return read_json(data, signal, budget)


def read_json(data: bytes, signal: str, budget: Budget) -> Reading:
    tokens = sum(data.count(token) for token in JSON_TOKENS)
    if tokens > budget.values:  # (more than it may hold, maybe: read as a stream, its first items kept)
        return read_json_stream(data, signal, budget)
    budget.values -= tokens
    export = json.loads(data, parse_constant=not_a_number, parse_float=finite)
    reading = Reading()
    for record in iter_records(export, signal):
        if budget.records < 1:
            budget.full = "records"
            break
        reading.records.append(record)
        budget.records -= 1
    reading.dropped = count_items(export, signal) - len(reading.records)
    return reading


def not_a_number(name: str) -> None:
    """NaN, Infinity and -Infinity, which JSON has not (JavaScript's JSON.stringify writes null for them): null."""
    return None


def finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None
