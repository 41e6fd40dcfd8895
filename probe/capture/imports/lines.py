"""traffic.jsonl lines built from what a recording holds, with bodies stored as the recorder stores them
(unmasked here: probe.capture.imports.masking masks the whole line afterwards)."""

import hashlib
from urllib.parse import urlsplit

from probe.capture.recorder import record as stored
from probe.capture.recorder.record import SCHEMA_VERSION

UNMASKED = stored.Policy(redact=False)  # a frame's (never decoded: a WebSocket message has no Content-Encoding)


def header_list(pairs) -> list[list[str]]:
    return [[str(name), str(value)] for name, value in pairs]


def header_value(pairs, name: str) -> str:
    return next((str(value) for key, value in pairs if str(key).lower() == name), "")


def http_line(
    ident: str,
    request: dict,
    response: dict | None,
    timing: dict,
    complete: bool = True,
    error: str | None = None,
    proxy: str = "imported",
) -> dict:
    """One HTTP exchange's line. `request` holds method, url, http_version, headers (pairs) and body fields;
    `response` status, reason, http_version, headers and body fields, or is None (no answer recorded)."""
    url = str(request.get("url") or "")
    try:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    except ValueError:  # a host no URL can have (a bracket that is not an IPv6 address): the path is not known
        path = url
    return {
        "schema": SCHEMA_VERSION,
        "kind": "http",
        "id": ident,
        "proxy": proxy,
        "complete": complete,
        "error": error,
        "timing": timing,
        "request": {"path": path, **request},
        "response": response,
    }


def frame(from_client: bool, moment: float | None, content: bytes, is_text: bool) -> dict:
    """One WebSocket message as the recorder stores it."""
    return {
        "from": "client" if from_client else "server",
        "t": moment,
        "type": "text" if is_text else "binary",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **stored.websocket_content(content, is_text, UNMASKED),
    }
