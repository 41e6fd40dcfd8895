"""Masks the long lists of JSON request bodies (a re-sent history, a tool list) from one request to the next: the
items a request sends exactly as the one before did are masked already, so only what it adds is masked again."""

from collections.abc import Callable
from typing import Any

import orjson

from probe.redact.secret_names import is_secret_name

LONG_LIST = 8  # items a top-level list holds for it to be masked this way; shorter ones are masked with the body
PLAIN_KEY = 32  # characters of a field name that cannot be a token shape, and is masked as it is


class HistoryMasks:
    """The last masked value of each long list a request body held, with that list's JSON text as sent."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[bytes, list]] = {}

    def masked(self, body: dict, mask: Callable[[Any], Any]) -> dict | None:
        """`body` masked as `mask` would mask it whole (mask raises RecursionError past what it can walk), its long
        lists item by item; None when it has no long list under a plain name (mask it whole)."""
        long = {key for key, value in body.items() if type(value) is list and len(value) >= LONG_LIST and plain(key)}
        if not long:
            return None
        rest = {key: value for key, value in body.items() if key not in long}
        masked_rest = mask(rest) if rest else {}
        if not isinstance(masked_rest, dict) or masked_rest.keys() != rest.keys():
            return None  # a field's name was masked: the body is masked whole, as before
        return {key: self.masked_list(key, body[key], mask) if key in long else masked_rest[key] for key in body}

    def masked_list(self, key: str, items: list, mask: Callable[[Any], Any]) -> list:
        try:
            text = orjson.dumps(items)
        except (orjson.JSONEncodeError, TypeError):  # lone surrogates, integers past 64 bits: masked whole
            self.last.pop(key, None)
            return mask(items)
        earlier = self.last.get(key)
        kept = 0
        if earlier is not None and len(earlier[1]) <= len(items):
            # That list's text, but its closing bracket, starts this one's, and a comma or a bracket follows: JSON
            # reads the same bytes into the same items.
            end = len(earlier[0]) - 1
            if text.startswith(memoryview(earlier[0])[:end]) and text[end : end + 1] in (b",", b"]"):
                kept = len(earlier[1])
        masked = (earlier[1] if kept else []) + (mask(items[kept:]) if kept < len(items) else [])
        self.last[key] = (text, masked)
        return masked


def plain(key: Any) -> bool:
    """A field name masking leaves as it is: short, made of letters, digits and underscores, naming no secret."""
    return type(key) is str and len(key) < PLAIN_KEY and key.isidentifier() and not is_secret_name(key)
