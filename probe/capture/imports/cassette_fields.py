"""What VCR.py and go-vcr cassettes hold in common: headers as a mapping of names to lists of values, bodies as
text or bytes (YAML's !!binary), and no times."""

import json

from probe.capture.imports import encoded_bodies
from probe.capture.imports.expansion import unmasked
from probe.capture.recorder import record as stored

NO_TIMES = {"start": None, "request_end": None, "response_headers": None, "first_byte": None, "end": None}


def text(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"its {what} is {type(value).__name__}, not text")
    return value


def mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"its {what} is {type(value).__name__}, not a mapping")
    return value


def header_pairs(headers, what: str = "headers") -> list[tuple[str, str]]:
    """Headers (name: [values], name: value, or a list of [name, value]) as (name, value) pairs, in order."""
    if isinstance(headers, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in headers):
            raise TypeError(f"its {what} are a list, not of [name, value] pairs")
        return [(str(name), "" if value is None else str(value)) for name, value in headers]
    pairs = []
    for name, values in mapping(headers, what).items():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, dict | list):
                raise TypeError(f"header {str(name)[:60]!r} holds a {type(value).__name__}")
            pairs.append((str(name), "" if value is None else str(value)))
    return pairs


def body_of(value, pairs: list[tuple[str, str]], what: str) -> dict:
    """A body as the recorder stores it. Bytes are as they travelled, so their Content-Encoding is undone; text
    was decoded by whoever wrote it, unless it still decodes from its encoding (probe.capture.imports.
    encoded_bodies). A mapping or list is a body the cassette keeps parsed (`parsed_body`), written back as compact
    JSON."""
    if isinstance(value, bytes):
        encoding = header_value(pairs, "content-encoding")
        return {"headers": header_list(pairs), **stored_body(value or None, pairs, encoding)}
    if value is None or isinstance(value, str):
        data = value.encode("utf-8", "surrogateescape") if value else None
    elif isinstance(value, dict | list):
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    else:
        raise TypeError(f"its {what} is {type(value).__name__}, not text or bytes")
    encoding, content_type = header_value(pairs, "content-encoding"), header_value(pairs, "content-type")
    return {"headers": header_list(pairs), **encoded_bodies.fields(data, encoding, content_type)}


def stored_body(data: bytes | None, pairs: list[tuple[str, str]], encoding: str) -> dict:
    """The body as the recorder stores it, decoded from `encoding` (none: as it is)."""
    return stored.store_body(data, encoding, header_value(pairs, "content-type"), unmasked()).fields


def header_list(pairs: list[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in pairs]


def header_value(pairs: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in pairs if key.lower() == name), "")
