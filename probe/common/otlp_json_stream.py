"""An OTLP/JSON export too large to parse whole, read as a stream of events (ijson): its resources, scopes and
items built one at a time while the budget lasts, the items after it counted, never built, as the protobuf reader
does (probe.common.otlp_wire)."""

from dataclasses import dataclass, field

import ijson
from ijson.common import ObjectBuilder

from probe.common.otlp_records import SIGNALS, attributes, listed, record_of
from probe.common.otlp_wire import Budget, Reading

BUILT = ("start_map", "start_array", "map_key", "string", "number", "boolean", "null")  # events that make a value


@dataclass
class Piece:
    """A value being built: what it is (resource, scope, item), where, and the budget of values it has spent."""

    kind: str
    place: tuple[int, int]
    builder: ObjectBuilder = field(default_factory=ObjectBuilder)
    depth: int = 0
    over: bool = False  # the budget ran out inside it: it is thrown away whole


def read_json_stream(data: bytes, signal: str, budget: Budget) -> Reading:
    """The export's first items, flattened, within `budget`, and how many came after: an item that does not fit and
    every item after it are counted, not built. A ValueError where the bytes are no JSON."""
    outer, middle, inner = SIGNALS[signal]
    prefixes = {
        f"{outer}.item.resource": "resource",
        f"{outer}.item.{middle}.item.scope": "scope",
        f"{outer}.item.{middle}.item.{inner}.item": "item",
    }
    resource_entry, scope_entry = f"{outer}.item", f"{outer}.item.{middle}.item"
    resources: dict[int, dict] = {}
    scopes: dict[tuple[int, int], dict] = {}
    items: list[tuple[tuple[int, int], dict]] = []
    reading, place, piece = Reading(), (-1, -1), None
    try:
        for prefix, event, value in ijson.parse(data, use_float=True):
            if piece is None:
                if event == "start_map" and prefix == resource_entry:
                    place = (place[0] + 1, -1)
                elif event == "start_map" and prefix == scope_entry:
                    place = (place[0], place[1] + 1)
                kind = prefixes.get(prefix)
                if kind is None or event != "start_map":
                    continue
                if kind == "item" and (budget.records < 1 or budget.full):
                    budget.full = budget.full or "records"
                    reading.dropped += 1
                    continue
                piece = Piece(kind, place)
            if event in BUILT:
                budget.values -= 1
                piece.over = piece.over or budget.values < 0
            if not piece.over:
                piece.builder.event(event, value)
            piece.depth += {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1}.get(event, 0)
            if piece.depth:
                continue
            done, piece = piece, None
            if done.over:
                budget.full = "values"
                reading.dropped += done.kind == "item"
            elif done.kind == "resource":
                resources[done.place[0]] = attributes(listed(done.builder.value, "attributes"))
            elif done.kind == "scope":
                scopes[done.place] = done.builder.value
            else:
                items.append((done.place, done.builder.value))
                budget.records -= 1
    except ijson.JSONError as error:
        raise ValueError(f"not JSON: {error}") from None
    # (flattened at the end: a resource or scope may come after its items, JSON keeps no order of keys)
    for (resource, scope), item in items:
        reading.records.append(record_of(signal, resources.get(resource, {}), scopes.get((resource, scope), {}), item))
    return reading
