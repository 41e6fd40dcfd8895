"""VCR.py and pytest-recording cassettes (YAML, or VCR.py's JSON serializer; agent-probe's own export too): each
interaction an HTTP exchange, its bodies as text, !!binary (compressed ones decoded) or kept parsed (`parsed_body`)."""

import re
from collections.abc import Iterator
from pathlib import Path

from probe.capture.imports import Skipped
from probe.capture.imports import yaml_entries as entries
from probe.capture.imports.cassette_fields import NO_TIMES, body_of, header_pairs, mapping, text
from probe.capture.imports.lines import http_line

NAME = "VCR.py cassette"
LOST = (
    "timing: a cassette keeps no times",
    "chunking: a streamed answer is one body, its events' arrival times gone",
    "HTTP versions",
    "websocket frames: VCR.py records HTTP only",
    "the request body's bytes where the cassette keeps it parsed (parsed_body): written back as compact JSON",
)
# A request field written at the depth an interaction's request holds it: VCR.py's `uri` and `parsed_body`, and
# go-vcr's own fields, which tell the two apart when the top-level keys' order does not.
VCR_FIELD = re.compile(rb"(?m)^    (?:uri|parsed_body)\s*:|^\s*\{\s*\"interactions\"")
GO_FIELD = re.compile(rb"(?m)^    (?:url|form|proto_major|content_length|request_uri)\s*:")


def kind(head: bytes) -> str | None:
    """ "vcr" or "go" for a cassette's head, None for anything else. VCR.py writes its keys sorted (`interactions`
    before `version`), go-vcr `version` first; a request field of either settles a head that says both."""
    keys = entries.top_keys(head)
    if not keys:
        return None
    vcr, go = bool(VCR_FIELD.search(head)), bool(GO_FIELD.search(head))
    if vcr != go:
        return "vcr" if vcr else "go"
    return "vcr" if keys[0] == b"interactions" else "go"


def sniff(head: bytes) -> bool:
    return kind(head) == "vcr"


def read(path: Path) -> Iterator[dict | Skipped]:
    for number, item in entries.interactions(path):
        if isinstance(item, entries.Damaged):
            yield Skipped(item.where, item.why)
        elif isinstance(item, entries.Refused):
            yield Skipped(f"interaction {number}", f"left out: {item.why}")
        else:
            try:
                yield interaction_line(item, number)
            except (TypeError, ValueError, KeyError) as error:
                yield Skipped(f"interaction {number}", f"not an exchange ({error})"[:300])


def interaction_line(item, number: int) -> dict:
    item = mapping(item, "interaction")
    request, response = mapping(item["request"], "request"), item.get("response")
    request_pairs = header_pairs(request.get("headers"))
    body = request["parsed_body"] if "parsed_body" in request else stored_string(request.get("body"))
    request_fields = {
        "method": text(request["method"], "method"),
        "url": text(request.get("uri", request.get("url")), "uri"),
        "http_version": "",
        **body_of(body, request_pairs, "request body"),
    }
    if response is None:
        return http_line(f"vcr-{number}", request_fields, None, dict(NO_TIMES), False, "no response recorded")
    response = mapping(response, "response")
    code, reason = status(response.get("status"))
    response_pairs = header_pairs(response.get("headers"))
    body = response["parsed_body"] if "parsed_body" in response else stored_string(response.get("body"))
    response_fields = {
        "status": code,
        "reason": reason,
        "http_version": "",
        **body_of(body, response_pairs, "response body"),
    }
    return http_line(f"vcr-{number}", request_fields, response_fields, dict(NO_TIMES))


def stored_string(body):
    """VCR.py keeps a response body as {string: ...} (older cassettes a request body too)."""
    return body.get("string") if isinstance(body, dict) and set(body) <= {"string", "encoding"} else body


def status(value) -> tuple[int, str]:
    """{code, message} as VCR.py writes it, or a bare code."""
    code, reason = (value.get("code"), value.get("message")) if isinstance(value, dict) else (value, "")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 999:
        raise ValueError(f"its status {str(code)[:40]!r} is not an HTTP status")
    return code, reason if isinstance(reason, str) else ""
