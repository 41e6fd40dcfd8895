"""Masks the long fields of JSON request bodies (a re-sent history, a tool list, the instructions) from one
request to the next: a field a request sends exactly as the one before did is masked already, and of a list only
the items it adds are masked again."""

from collections.abc import Callable
from typing import Any

import orjson

from probe.read.history_reads import starts_with, text_known
from probe.redact.secret_names import is_secret_name

LONG_LIST = 8  # items of a top-level list for it to be masked on its own
LONG_FIELD = 1024  # bytes of a top-level field's JSON for it to be masked on its own
PLAIN_KEY = 32  # characters of a field name that cannot be a token shape, and is masked as it is


class HistoryMasks:
    """The last masked value of each long field a request body held, with its JSON text as sent (compared in C:
    hashing it instead, to hold less, cost as much as parsing the capture)."""

    def __init__(self) -> None:
        # By field name: its JSON text as sent, its value masked, and that value's own JSON text where it is known
        # without writing it out (masking changed nothing in it), handed on to what reads it next (text_known).
        self.last: dict[str, tuple[bytes, Any, bytes | None]] = {}

    def __getstate__(self) -> dict:
        # A saved reading (probe.analysis.resume) is written to disk: the texts here are as sent, secrets and all. What
        # is masked once more after it is loaded is masked the same.
        return {"last": {}}

    def masked(self, body: dict, mask: Callable[[Any], Any]) -> dict | None:
        """`body` masked as `mask` would mask it whole (mask raises RecursionError past what it can walk), its long
        fields each on its own; None when it has no long field under a plain name (mask it whole)."""
        long = {key: text for key, value in body.items() if (text := long_text(key, value)) is not None}
        if not long:
            return None
        rest = {key: value for key, value in body.items() if key not in long}
        masked_rest = mask(rest) if rest else {}
        if not isinstance(masked_rest, dict) or masked_rest.keys() != rest.keys():
            return None  # a field's name was masked: the body is masked whole, as before
        return {
            key: self.masked_field(key, body[key], long[key], mask) if key in long else masked_rest[key] for key in body
        }

    def masked_field(self, key: str, value: Any, text: bytes, mask: Callable[[Any], Any]) -> Any:
        masked, masked_text = self.known(key, value, text, mask)
        if masked is None:
            masked = mask(value)
            masked_text = text if masked is value else None  # (masking hands back what it changed nothing in)
        self.last[key] = (text, masked, masked_text)
        if masked_text is not None and type(masked) is list:
            text_known(masked, masked_text)
        return masked

    def known(self, key: str, value: Any, text: bytes, mask: Callable[[Any], Any]) -> tuple[Any, bytes | None]:
        """The field masked from what the last request sent under its name, and its JSON text if known: the same
        text, or a list that starts with that list's items (its text, but its closing bracket, is where this one's
        starts, and a comma follows: JSON reads the same bytes into the same items); else None."""
        earlier = self.last.get(key)
        if earlier is None:
            return None, None
        known, masked, masked_text = earlier
        if known == text:
            return masked, masked_text
        if type(value) is list and type(masked) is list and starts_with(text, known):
            added = value[len(masked) :]
            masked_added = mask(added)
            if masked_text is not None and masked_added is added:  # the items added, as sent: their text is this one's
                masked_text = masked_text[:-1] + text[len(known) - 1 :]
            else:
                masked_text = None
            return masked + masked_added, masked_text
        return None, None


def long_text(key: Any, value: Any) -> bytes | None:
    """The JSON text of a field masked on its own: a list of LONG_LIST items or more, or a text, object or list
    whose JSON is LONG_FIELD bytes or more, under a plain name; else None."""
    if not plain(key) or type(value) not in (list, dict, str):
        return None
    if type(value) is str and len(value) * 6 + 2 < LONG_FIELD:
        return None  # too short to be long, whatever it holds (a character is at most six bytes of JSON)
    try:
        text = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, integers past 64 bits: masked with the body
        return None
    if type(value) is list and len(value) >= LONG_LIST:
        return text
    return text if len(text) >= LONG_FIELD else None


def plain(key: Any) -> bool:
    """A field name masking leaves as it is: short, made of letters, digits and underscores, naming no secret."""
    return type(key) is str and len(key) < PLAIN_KEY and key.isidentifier() and not is_secret_name(key)
