"""Request and response headers as a capture records them: (name, value) pairs, looked up by name."""

from typing import Any


def header_pairs(value: Any) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs, from a list of pairs or a mapping."""
    if isinstance(value, dict):
        return [(str(name), str(item)) for name, item in value.items()]
    if isinstance(value, list):
        return [(str(pair[0]), str(pair[1])) for pair in value if isinstance(pair, (list, tuple)) and len(pair) == 2]
    return []


def header(pairs: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in pairs if key.lower() == name), "")
