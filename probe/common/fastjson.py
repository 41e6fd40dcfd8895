"""Parses JSON with orjson, as the standard library would: where orjson refuses or would round, json parses; and
writes it compactly, falling back to json where orjson cannot."""

import json

import orjson

# orjson reads an integer past 64 bits as a float, silently rounded; the standard library keeps it exact. Only a
# run of 19 digits or more can be one, found fast by turning every digit into "0" (bytes.translate is C).
DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
LONG_NUMBER = b"0" * 19


def loads(data: bytes | str):
    """The value json.loads gives for `data`, raising what it raises (ValueError, UnicodeDecodeError,
    RecursionError), nearly always parsed by orjson. orjson refuses what json reads differently (NaN, lone
    surrogates, a byte order mark, nesting past its limit): those are parsed by json."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.translate(DIGITS_AS_ZEROS).find(LONG_NUMBER) < 0:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def encoded(record: dict) -> bytes:
    """`record` as compact JSON bytes; what JSON cannot hold is written as its str()."""
    try:
        return orjson.dumps(record, default=str)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates from a capture's escapes, or very deep nesting
        try:
            return json.dumps(record, separators=(",", ":"), default=str).encode("ascii")
        except ValueError as error:  # circular, which parsed JSON never is
            raise RecursionError(str(error)) from None


def parsed(value):
    """A JSON string parsed (tool arguments, as the APIs send them), or the value as sent when it is not one."""
    if isinstance(value, str):
        try:
            return loads(value)
        except ValueError:
            return value
    return value
