"""VCR.py and pytest-recording cassettes (YAML, or VCR.py's JSON serializer; agent-probe's own export too): each
interaction an HTTP exchange, its bodies as text, !!binary (compressed ones decoded) or kept parsed (`parsed_body`)."""

from collections.abc import Iterator
from pathlib import Path

from probe.capture.imports import yaml_entries as entries
from probe.capture.imports.cassette_fields import NO_TIMES, body_of, header_pairs, mapping, text
from probe.capture.imports.formats import Lost, Skipped
from probe.capture.imports.lines import http_line

NAME = "VCR.py cassette"
LOST = (
    "timing: a cassette keeps no times",
    "chunking: a streamed answer is one body, its events' arrival times gone",
    "HTTP versions",
    "websocket frames: VCR.py records HTTP only",
)
# Only where an interaction keeps a body parsed (pydantic-ai's cassettes do, VCR.py's own do not).
PARSED_LOST = "the body's bytes where the cassette keeps it parsed (parsed_body): written back as compact JSON"


def sniff(head: bytes) -> bool:
    return entries.kind(head) == "vcr"


def read(path: Path) -> Iterator[dict | Skipped | Lost]:
    parsed = []  # whether the interaction last converted kept a body parsed

    def converted(item, number: int) -> dict:
        parsed[:] = [keeps_parsed(item)]
        return interaction_line(item, number)

    for line in entries.exchanges(path, converted):
        if parsed and parsed.pop() and isinstance(line, dict):
            yield Lost(PARSED_LOST)
        yield line


def keeps_parsed(item) -> bool:
    """Whether the interaction's request or response keeps its body parsed (`parsed_body`)."""
    return isinstance(item, dict) and any(
        isinstance(item.get(side), dict) and "parsed_body" in item[side] for side in ("request", "response")
    )


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
