"""Masks secrets in JSON values: secret-named fields whatever they hold, and token shapes in every string."""

import contextlib
import json
import re
from typing import Any

from probe.redact.replacing import fingerprint, is_fingerprint, only_fingerprints
from probe.redact.secret_names import (
    CREDENTIAL_LIKE,
    OWN_IDS,
    is_identifier_owner,
    is_secret_name,
    is_weak_secret_name,
)
from probe.redact.shapes import mask_text

NOT_JSON = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()  # `parsed` of a body that is not JSON
NESTED_JSON_LIMIT = 1 << 20  # a string holding JSON (tool arguments) is looked into up to this size
CLOSING = {"{": "}", "[": "]", '"': '"'}


def mask_json(value: Any, strings: bool = True, memo: dict | None = None) -> tuple[Any, int]:
    """A masked copy of a parsed JSON value: values of secret-named keys, token shapes in every string and key,
    and the same inside strings that hold JSON themselves (tool-call arguments). The input is untouched.

    `strings=False` leaves the text rules out (a body's raw bytes had them already): names, and the JSON held in
    strings, are still checked. `memo`, if given, keeps each string's result for the next call: a session's
    records repeat the same history again and again.
    """
    if isinstance(value, dict):
        total, changed = 0, {}
        named = pair_name(value)
        for key, item in value.items():
            if named and key in PAIR_VALUES:
                changed[key], count = every_scalar_masked(named, item)
                total += count
                continue
            new_key, key_count = (
                masked_string(key, strings, memo, is_key=True) if strings and isinstance(key, str) else (key, 0)
            )
            if is_secret_scalar(key, item):
                new_item, count = (item, 0) if is_fingerprint(str(item)) else (fingerprint(str(item)), 1)
            elif isinstance(item, list) and isinstance(key, str) and is_secret_name(key):
                new_item, count = mask_secret_list(key, item, strings)  # "api_keys": ["k1", "k2"]
            elif isinstance(item, (dict, list)) and isinstance(key, str) and is_identifier_owner(key):
                new_item, count = mask_owned_ids(item, strings, memo)  # "accounts": [{"id": …}]
            else:
                new_item, count = mask_json(item, strings, memo)
            total += key_count + count
            changed[new_key] = new_item
        return (changed, total) if total else (value, 0)
    if isinstance(value, list):
        total, items = 0, []
        for item in value:
            new_item, count = mask_json(item, strings, memo)
            items.append(new_item)
            total += count
        return (items, total) if total else (value, 0)
    if isinstance(value, str):
        return masked_string(value, strings, memo)
    return value, 0


MEMO_ENTRIES = 1 << 16  # strings remembered before the memo starts over: memory stays bounded


def masked_string(value: str, strings: bool, memo: dict | None, is_key: bool = False) -> tuple[str, int]:
    """A string (a key: by the text rules only) masked, or its result from `memo`."""
    found = memo.get((value, is_key)) if memo is not None else None
    if found is None:
        found = mask_text(value) if is_key else mask_string(value, strings)
        if memo is not None:
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[(value, is_key)] = found
    return found


def mask_secret_list(key: str, items: list, strings: bool) -> tuple[list, int]:
    """The scalars of a list under a secret name, each masked whole; anything else in it walked as usual."""
    masked, total = [], 0
    for item in items:
        if is_secret_scalar(key, item):
            new_item, count = (item, 0) if is_fingerprint(str(item)) else (fingerprint(str(item)), 1)
        else:
            new_item, count = mask_json(item, strings)
        masked.append(new_item)
        total += count
    return (masked, total) if total else (items, 0)


# A pair written as an object, `{"key": "api_key", "value": {"stringValue": …}}` (OTLP's attributes, HAR's and
# many APIs' headers and parameters): the name's value holds the secret.
PAIR_NAMES = ("key", "name")
PAIR_VALUES = frozenset({"value", "values"})


def pair_name(value: dict) -> str | None:
    """The name of a pair written as an object, where it may name a secret (judged with each value it holds)."""
    for name in PAIR_NAMES:
        found = value.get(name)
        if isinstance(found, str) and (is_secret_name(found) or is_weak_secret_name(found)):
            return found
    return None


def every_scalar_masked(name: str, value: Any) -> tuple[Any, int]:
    """Each string and number in `value`, at any depth, fingerprinted whole where `name` says it is a secret, as
    the value of a field of that name would be."""
    if isinstance(value, dict):
        pairs = [(key, *every_scalar_masked(name, item)) for key, item in value.items()]
        return {key: item for key, item, _ in pairs}, sum(count for *_, count in pairs)
    if isinstance(value, list):
        items = [every_scalar_masked(name, item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if is_secret_scalar(name, value):
        return (value, 0) if is_fingerprint(str(value)) else (fingerprint(str(value)), 1)
    return value, 0


def mask_owned_ids(value: dict | list, strings: bool, memo: dict | None) -> tuple[Any, int]:
    """An account's (an organisation's…) object, or a list of them: each one's own `id` or `uuid` masked as a
    secret-named field is, the rest walked as usual."""
    if isinstance(value, list):
        total, items = 0, []
        for item in value:
            new_item, count = (
                mask_owned_ids(item, strings, memo) if isinstance(item, dict) else mask_json(item, strings, memo)
            )
            items.append(new_item)
            total += count
        return (items, total) if total else (value, 0)
    own = {key for key, item in value.items() if key in OWN_IDS and is_secret_scalar("id", item, named=True)}
    rest, total = mask_json({key: item for key, item in value.items() if key not in own}, strings, memo)
    if not own:
        return (rest, total) if total else (value, 0)
    masked = {key: fingerprint(str(item)) if key in own else rest[key] for key, item in value.items()}
    return masked, total + len(own)


def is_secret_scalar(key: Any, item: Any, named: bool = False) -> bool:
    if not isinstance(key, str) or isinstance(item, bool) or not isinstance(item, (str, int, float)):
        return False
    if item == "" or (isinstance(item, str) and only_fingerprints(item)):
        return False
    if named or is_secret_name(key):
        return True
    return is_weak_secret_name(key) and isinstance(item, str) and CREDENTIAL_LIKE.match(item) is not None


def mask_string(value: str, strings: bool = True) -> tuple[str, int]:
    stripped = value.strip()
    named = 0
    if stripped[:1] in ("{", "[", '"'):  # an object, a list, or a string written as JSON (held in another)
        nested = NOT_JSON
        if stripped[-1:] == CLOSING[stripped[0]] and len(stripped) > 1 and len(value) <= NESTED_JSON_LIMIT:
            with contextlib.suppress(ValueError, RecursionError):
                nested = json.loads(value)
        if nested is not NOT_JSON:
            masked, count = mask_json(nested, strings)
            if count:
                return json.dumps(masked, ensure_ascii=False), count
        else:  # too large to parse here, cut off, or not quite JSON: its `"name": value` pairs are found
            value, named = mask_named_pairs(value)
    masked_text, count = mask_text(value) if strings else (value, 0)
    return masked_text, count + named


# `"name": "value"` or `"name": 123` in text that does not parse as JSON (cut off, nested too deeply, or too
# large to walk): what a secret-named field looks like wherever it is written.
NAMED_PAIR = re.compile(r'"((?:[^"\\\n]|\\.){1,200})"\s*:\s*("(?:[^"\\\n]|\\.)*"|-?[0-9][0-9.eE+-]*)')


def mask_named_pairs(text: str) -> tuple[str, int]:
    """Mask the values of secret-named `"name": value` pairs in any text, JSON or not."""
    total = 0

    def replace(match: re.Match) -> str:
        nonlocal total
        name, value = json_string(match.group(1)), match.group(2)
        if value.startswith('"'):
            value = json_string(value[1:-1])
        if not is_secret_scalar(name, value) or is_fingerprint(value):
            return match.group(0)
        total += 1
        return f'{match.group(0)[: match.start(2) - match.start(0)]}"{fingerprint(value)}"'

    return NAMED_PAIR.sub(replace, text), total


def json_string(inner: str) -> str:
    """The text a JSON string's inside stands for (escapes decoded), or the inside itself if it is malformed."""
    try:
        return json.loads(f'"{inner}"')
    except ValueError:
        return inner
