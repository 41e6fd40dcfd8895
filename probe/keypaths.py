"""Counts the key paths of JSON payloads and the types seen at each, for the report's structure table."""

from collections import Counter, defaultdict
from typing import Any

MAX_DEPTH = 12  # deeper structure is summarised at this depth, so hostile nesting stays cheap


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class KeyPaths:
    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.types: dict[str, set[str]] = defaultdict(set)

    def add(self, value: Any) -> None:
        # An explicit stack instead of recursion: payloads can be nested thousands deep.
        stack = [("", value, 0)]
        while stack:
            path, node, depth = stack.pop()
            if path:
                self.counts[path] += 1
                self.types[path].add(type_name(node))
            if depth >= MAX_DEPTH:
                continue
            if isinstance(node, dict):
                stack.extend((f"{path}.{key}" if path else str(key), child, depth + 1) for key, child in node.items())
            elif isinstance(node, list):
                stack.extend((f"{path}[]", child, depth + 1) for child in node)

    def top(self, limit: int = 30) -> list[list[Any]]:
        ranked = sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
        return [[path, ", ".join(sorted(self.types[path])), count] for path, count in ranked]
