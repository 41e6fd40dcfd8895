"""Counts the key paths of JSON payloads and the types seen at each, for the report's structure table."""

from collections import Counter
from itertools import repeat
from operator import itemgetter
from typing import Any

from probe.read.sse import StreamEvents

MAX_DEPTH = 12  # deeper structure is not counted, so hostile nesting stays cheap (and recursion shallow)
TYPE_BITS = {type(None): 1, bool: 2, int: 4, float: 4, str: 8, list: 16, dict: 32}
EVENT_DATA = itemgetter(1)
TYPE_NAMES = {1: "null", 2: "boolean", 4: "number", 8: "string", 16: "array", 32: "object", 64: "other"}


class KeyPaths:
    """Counts objects by shape (path, keys, value types) and expands shapes into paths only at the end.

    Analysis time goes mostly into this walk, and most objects repeat a few shapes (streamed deltas above
    all), so one dictionary update per object instead of one per key makes it several times cheaper.
    """

    def __init__(self) -> None:
        self.shapes: dict[tuple, int] = {}
        self.counts: dict[str, int] = {}
        self.types: dict[str, int] = {}  # path -> bit set of the types seen there

    def add(self, value: Any) -> None:
        if type(value) is dict or type(value) is list:
            self.walk(value, "", 0)

    def add_many(self, values: list) -> None:
        """Count each payload of a stream. The objects' shapes are counted in one pass that runs in C (a stream
        holds tens of thousands of deltas: a Python step per event cost more than parsing it); only objects
        holding objects or lists are walked further."""
        objects = [value for value in values if type(value) is dict]
        keys = map(tuple, objects)
        value_types = list(map(tuple, map(map, repeat(type), map(dict.values, objects))))
        shapes = self.shapes
        nested = set()
        for shape, count in Counter(zip(repeat(""), keys, value_types)).items():
            shapes[shape] = shapes.get(shape, 0) + count
            if dict in shape[2] or list in shape[2]:
                nested.add(shape[2])
        if nested:
            for value, types in zip(objects, value_types):
                if types in nested:
                    self.walk_children(value, "", 0)
        for value in values:
            if type(value) is list:
                self.walk(value, "", 0)

    def add_events(self, events: "list | StreamEvents") -> None:
        """Count the payloads of a stream's events (probe.read.sse.Event: the payload second); a long stream's a
        piece at a time (the counts do not depend on how the payloads are split)."""
        for piece in events.pieces() if isinstance(events, StreamEvents) else [events]:
            self.add_many(list(map(EVENT_DATA, piece)))

    def walk(self, node: Any, path: str, depth: int) -> None:
        shapes = self.shapes
        if type(node) is dict:
            value_types = tuple(map(type, node.values()))
            shape = (path, tuple(node), value_types)
            shapes[shape] = shapes.get(shape, 0) + 1
            if dict in value_types or list in value_types:
                self.walk_children(node, path, depth)
        else:
            value_types = tuple(map(type, node))
            shape = (f"{path}[]", None, value_types)
            shapes[shape] = shapes.get(shape, 0) + 1
            if depth + 1 < MAX_DEPTH and (dict in value_types or list in value_types):
                list_path = f"{path}[]"
                for child in node:
                    kind = type(child)
                    if (kind is dict or kind is list) and child:
                        self.walk(child, list_path, depth + 1)

    def walk_children(self, node: dict, path: str, depth: int) -> None:
        """Walk the objects and lists an object holds (the object itself is counted)."""
        if depth + 1 < MAX_DEPTH:
            for key, child in node.items():
                kind = type(child)
                # An empty container ("output": [], common in streams) adds no path below it: skip the call.
                if (kind is dict or kind is list) and child:
                    self.walk(child, f"{path}.{key}" if path else str(key), depth + 1)

    def settle(self) -> None:
        """Expand the counted shapes into per-path counts and types."""
        counts, types = self.counts, self.types
        for (path, keys, value_types), count in self.shapes.items():
            if keys is None:  # a list: every element sits at the same path
                paths = [path] * len(value_types)
            else:
                paths = [f"{path}.{key}" if path else str(key) for key in keys]
            for child_path, value_type in zip(paths, value_types):
                counts[child_path] = counts.get(child_path, 0) + count
                types[child_path] = types.get(child_path, 0) | TYPE_BITS.get(value_type, 64)
        self.shapes.clear()

    def top(self, limit: int = 30) -> list[list[Any]]:
        self.settle()
        ranked = sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
        return [
            [path, ", ".join(sorted(name for bit, name in TYPE_NAMES.items() if self.types[path] & bit)), count]
            for path, count in ranked
        ]
