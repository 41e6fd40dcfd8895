"""Parses JSON with orjson, as the standard library would: where orjson refuses or would round, json parses; and
writes it compactly, falling back to json where orjson cannot, and always as strict JSON (no NaN)."""

import json
import math

import orjson

# orjson reads an integer past 64 bits as a float, silently rounded; the standard library keeps it exact. Only a
# run of 19 digits or more can be one, found fast by turning every digit into "0" (bytes.translate is C).
DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
LONG_NUMBER = b"0" * 19


class NestedTooDeeply(ValueError):
    """JSON nested deeper than anything here walks (a hostile capture's): read as not JSON, with a warning."""


# orjson's own limit. Whatever it parses, every walk of the project can go down: run_main raises Python's recursion
# limit to RECURSION_LIMIT for that.
DEPTH_LIMIT = 1024
RECURSION_LIMIT = 8 * DEPTH_LIMIT


def loads(data: bytes | str):
    """The value json.loads gives for `data`, raising what it raises (ValueError, UnicodeDecodeError), nearly
    always parsed by orjson. orjson refuses what json reads differently (NaN, lone surrogates, a byte order mark):
    those are parsed by json. Nesting past DEPTH_LIMIT raises NestedTooDeeply, a ValueError, whichever parses."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not has_long_number(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if str(error).startswith("depth limit exceeded"):
                raise NestedTooDeeply(f"nested deeper than {DEPTH_LIMIT} levels") from None
    if nesting(raw) > DEPTH_LIMIT:
        raise NestedTooDeeply(f"nested deeper than {DEPTH_LIMIT} levels")
    try:
        return json.loads(data, parse_int=exact_integer)
    except RecursionError:
        raise NestedTooDeeply(f"nested deeper than {DEPTH_LIMIT} levels") from None


WINDOW = 8 << 20  # bytes looked at a time for a long number: a line of hundreds of MB is not copied whole


def has_long_number(raw: bytes) -> bool:
    """Whether `raw` holds a run of 19 digits or more, looked for a window at a time (each window overlaps the one
    before by a run's length, so that none is missed where two meet)."""
    if len(raw) <= WINDOW:
        return raw.translate(DIGITS_AS_ZEROS).find(LONG_NUMBER) >= 0
    view, overlap = memoryview(raw), len(LONG_NUMBER) - 1
    for start in range(0, max(len(raw) - overlap, 1), WINDOW):
        if bytes(view[start : start + WINDOW + overlap]).translate(DIGITS_AS_ZEROS).find(LONG_NUMBER) >= 0:
            return True
    return False


class LongNumber(str):
    """An integer too long for Python to read from text (more than 4,300 digits: a guard against conversions that
    take quadratic time), kept as its digits, exactly; written back out as a string of them."""


def exact_integer(digits: str) -> int | LongNumber:
    return int(digits) if len(digits) <= 4000 else LongNumber(digits)


OPENING, CLOSING = ord("["), ord("]")
BRACKETS = bytes.maketrans(b"{}", b"[]")


def nesting(raw: bytes) -> int:
    """How deep brackets nest in JSON text, strings left out; read only where json, not orjson, will parse."""
    depth = deepest = 0
    inside = escaped = False
    for byte in raw.translate(BRACKETS):
        if inside:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                inside = False
        elif byte == 0x22:
            inside = True
        elif byte == OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif byte == CLOSING:
            depth -= 1
    return deepest


def encoded(record: dict) -> bytes:
    """`record` as compact JSON bytes; what JSON cannot hold is written as its str(), NaN and infinities as null."""
    try:
        return orjson.dumps(record, default=str)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates from a capture's escapes, or very deep nesting
        try:
            return strict_text(record, separators=(",", ":"), default=str).encode("ascii")
        except ValueError as error:  # circular, which parsed JSON never is
            raise RecursionError(str(error)) from None


def strict_text(value, **options) -> str:
    """`value` as json.dumps(value, **options) writes it, but as strict JSON: NaN, Infinity and -Infinity, which
    Python reads and writes bare and JSON has not (a strict parser refuses the whole text), are written as null, as
    orjson writes them. A manifest is read with Python's reader, and a run folder comes from anyone."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as error:
        if not str(error).startswith("Out of range float values"):
            raise
    return json.dumps(finite(value), allow_nan=False, **options)


def finite_float(value) -> float | None:
    """A number a JSON document gives (a manifest, a HAR), as a float; None for anything else: text, true, NaN, an
    infinity, an integer past any float (10**400)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def finite(value):
    """`value` with each NaN and infinity in it as None (as a key, as the text json.dumps would make of it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {finite_key(key): finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def finite_key(key):
    return json.dumps(key) if isinstance(key, float) and not math.isfinite(key) else key


def parsed(value):
    """A JSON string parsed (tool arguments, as the APIs send them), or the value as sent when it is not one."""
    if isinstance(value, str):
        try:
            return loads(value)
        except ValueError:
            return value
    return value
