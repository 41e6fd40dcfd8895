"""What VCR.py and go-vcr cassettes hold in common: headers as a mapping of names to lists of values, bodies as
text or bytes (YAML's !!binary), and no times; and how an import stores any recording's body (unmasked: the whole
line is masked after), within the import's bound."""

import json

from probe.capture.imports import encoded_bodies, expansion
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
    return {"headers": header_list(pairs), **kept_decoded(data, encoding, content_type)}


def unmasked() -> stored.Policy:
    """The policy of a body stored before its line is masked: decoded no further than the import's bound leaves
    room for (nor than at capture); past it, the body is kept as sent, with the recorder's note, and what was
    decoded in vain counts against the bound (a thousand aliases of one bomb are not decoded a thousand times)."""
    cap, bound, running = stored.Policy().decode_cap, expansion.left(), expansion.CURRENT.get()
    return stored.Policy(
        redact=False,
        decode_cap=cap if bound is None else min(cap, bound),
        on_too_large=running.decoded_in_vain if running is not None else None,
    )


def kept_decoded(data: bytes | None, encoding: str, content_type: str) -> dict:
    """The body as the recorder stores it: decoded from `encoding` when it still is in it, else as it is, said to
    be decoded."""
    encoding = encoding.strip().lower()
    policy = unmasked()
    if not data or encoding in ("", "identity"):
        return stored.store_body(data, "", content_type, policy).fields
    found = encoded_bodies.undone(data, encoding, policy.decode_cap, policy.on_too_large)
    if found is not None and found[1].too_large:  # still encoded, past the bound: kept as sent, as a capture keeps
        return stored.kept_as_sent(found[0], {"content_encoding_error": found[1].note}, policy).fields
    kept = stored.store_body(found[1].data if found else data, "", content_type, policy).fields
    # Decoded, here or by whoever wrote the recording (its header kept): said so, as the recorder says what it
    # decoded, or the readers would take the body for one still in its encoding.
    kept["content_encoding"] = encoding
    if found is not None and found[1].note:
        kept["content_encoding_error"] = found[1].note
    return kept


def stored_body(data: bytes | None, pairs: list[tuple[str, str]], encoding: str) -> dict:
    """The body as the recorder stores it, decoded from `encoding` (none: as it is)."""
    return stored.store_body(data, encoding, header_value(pairs, "content-type"), unmasked()).fields


def header_list(pairs: list[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in pairs]


def header_value(pairs: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in pairs if key.lower() == name), "")
