"""An OTLP protobuf export read a piece at a time from its wire format: its resources, scopes and items in order,
each parsed alone, and each only once what it would hold, counted from its bytes, fits the budget left; past it,
the items are counted, not parsed (a few kilobytes of gzip may hold millions of empty records)."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError

from probe.common.otlp_records import attributes, hex_ids, listed, record_of, request_class
from probe.common.varints import read_varint

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
DEEPEST = 64  # messages nested in one another (an AnyValue in a list in an AnyValue…); deeper is no export of ours
TEXT = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
FIXED_SIZES = {
    FieldDescriptor.TYPE_DOUBLE: 8,
    FieldDescriptor.TYPE_FIXED64: 8,
    FieldDescriptor.TYPE_SFIXED64: 8,
    FieldDescriptor.TYPE_FLOAT: 4,
    FieldDescriptor.TYPE_FIXED32: 4,
    FieldDescriptor.TYPE_SFIXED32: 4,
}
LOW_BYTES = bytes(range(0x80))  # a varint's last byte is below 0x80: deleting these leaves the others


@dataclass
class Budget:
    """What an export may still add: records, and values (each message, field and array element, at any depth,
    that parsing would make)."""

    records: int
    values: int
    full: str = ""  # which ran out ("records", "values"): the item that did not fit and all after it are counted


@dataclass
class Reading:
    records: list[dict] = field(default_factory=list)
    dropped: int = 0  # items past the budget, counted


def read_protobuf(data: bytes, signal: str, budget: Budget) -> Reading:
    """The export's first items, flattened (probe.common.otlp_records), as many as the budget holds, and how many
    came after; a ValueError where the bytes are no export of that signal."""
    entry = request_class(signal).DESCRIPTOR.fields_by_number[1].message_type  # ResourceLogs, ResourceSpans…
    scoped = entry.fields_by_number[2].message_type  # ScopeLogs, ScopeSpans, ScopeMetrics
    item_class = message_factory.GetMessageClass(scoped.fields_by_number[2].message_type)
    reading, view = Reading(), memoryview(data)
    for resource_entry in parts(view, 1):
        resource = part(resource_entry, entry.fields_by_number[1].message_type, budget)
        resource_attributes = attributes(listed(resource, "attributes")) if resource is not None else {}
        for scope_entry in parts(resource_entry, 2):
            scope = part(scope_entry, scoped.fields_by_number[1].message_type, budget)
            for item in parts(scope_entry, 2):
                if budget.full or resource is None or scope is None or not taken(item, item_class.DESCRIPTOR, budget):
                    reading.dropped += 1
                    continue
                value = as_dict(item_class, item)
                hex_ids(value)
                reading.records.append(record_of(signal, resource_attributes, scope, value))
    return reading


def parts(message: memoryview, number: int) -> Iterator[memoryview]:
    """The values of one length-delimited field of a message, in order."""
    for found, kind, value in fields(message):
        if found == number:
            if kind != LENGTH:
                raise ValueError("not an OTLP protobuf export: a message where a number stands")
            yield value


def part(message: memoryview, descriptor: Descriptor, budget: Budget) -> dict | None:
    """A resource or scope: every occurrence of field 1 merged, as protobuf merges them, in its JSON form; None
    where it does not fit the budget."""
    merged = bytearray()
    for value in parts(message, 1):
        merged += value
    if budget.full or not taken(memoryview(merged), descriptor, budget, record=False):
        return None
    return as_dict(message_factory.GetMessageClass(descriptor), merged)


def taken(data: memoryview, descriptor: Descriptor, budget: Budget, record: bool = True) -> bool:
    """Whether the message fits what is left of the budget; if so, it is taken from it, else the budget is full."""
    if record and budget.records < 1:
        budget.full = "records"
        return False
    needed = cost(data, descriptor, budget.values, 0)
    if needed > budget.values:
        budget.full = "values"
        return False
    budget.values -= needed
    budget.records -= 1 if record else 0
    return True


def cost(data: memoryview, descriptor: Descriptor, ceiling: int, depth: int) -> int:
    """The values parsing the message would make: itself, each field, each element of a packed array of numbers,
    and so on down; counted no further than past `ceiling`."""
    if depth > DEEPEST:
        raise ValueError(f"not an OTLP protobuf export: messages nested over {DEEPEST} deep")
    total = 1
    for number, kind, value in fields(data):
        total += 1
        if total > ceiling:
            return total
        known = descriptor.fields_by_number.get(number)
        if known is None or kind != LENGTH or known.type in TEXT:
            continue  # (a field the schema has not is kept aside by the parser as bytes: one value)
        if known.type == FieldDescriptor.TYPE_MESSAGE:
            total += cost(value, known.message_type, ceiling - total, depth + 1)
        elif known.type in FIXED_SIZES:
            total += len(value) // FIXED_SIZES[known.type]
        else:  # varints, packed: one per byte below 0x80
            total += len(value) - len(value.tobytes().translate(None, LOW_BYTES))
    return total


def as_dict(message_class, data) -> dict:
    try:
        message = message_class.FromString(bytes(data))
    except DecodeError as error:
        raise ValueError(f"not an OTLP protobuf export: {message_class.DESCRIPTOR.name}: {error}") from error
    return json_format.MessageToDict(message, use_integers_for_enums=True)


def fields(data: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Each field of one message, in order: (number, wire type, its integer or a view of its bytes). (One-byte tags
    and lengths are read inline: counting the two million items of an export past its budget takes a second.)"""
    position, end = 0, len(data)
    while position < end:
        tag = data[position]
        if tag < 0x80:
            position += 1
        else:
            tag, position = varint(data, position)
        number, kind = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("not an OTLP protobuf export: a field numbered 0")
        if kind == VARINT:
            value, position = varint(data, position)
            yield number, kind, value
            continue
        if kind == LENGTH:
            size = data[position] if position < end else 0x80
            if size < 0x80:
                position += 1
            else:
                size, position = varint(data, position)
        elif kind in (FIXED64, FIXED32):
            size = 8 if kind == FIXED64 else 4
        else:
            raise ValueError(f"not an OTLP protobuf export: wire type {kind}")
        if position + size > end:
            raise ValueError("not an OTLP protobuf export: a field longer than its message")
        yield number, kind, data[position : position + size]
        position += size


def varint(data: memoryview, position: int) -> tuple[int, int]:
    value, position = read_varint(data, position)
    if value is None:
        raise ValueError("not an OTLP protobuf export: a number cut off")
    return value, position
