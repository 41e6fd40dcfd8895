"""go-vcr cassettes (its recorder's YAML, cassette versions 1 and 2): each interaction an HTTP exchange whose
bodies are as Go's client read them, with the request's form and the exchange's duration, its only time."""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from probe.capture.imports import yaml_entries as entries
from probe.capture.imports.cassette_fields import NO_TIMES, body_of, header_pairs, mapping, text
from probe.capture.imports.formats import Skipped
from probe.capture.imports.lines import http_line

NAME = "go-vcr cassette"
LOST = (
    "timing: only each exchange's duration, not when it started",
    "chunking: a streamed answer is one body, its events' arrival times gone",
    "websocket frames: go-vcr records HTTP only",
)
DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
GO_STATUS = re.compile(r"\s*(\d{3})\s*(.*)")


def sniff(head: bytes) -> bool:
    return entries.kind(head) == "go"


def read(path: Path) -> Iterator[dict | Skipped]:
    return entries.exchanges(path, interaction_line)


def interaction_line(item, number: int) -> dict:
    item = mapping(item, "interaction")
    request, response = mapping(item["request"], "request"), item.get("response")
    request_pairs = header_pairs(request.get("headers"))
    body = request.get("body")
    form = mapping(request.get("form"), "form")
    if not body and form:  # a form go-vcr parsed out of the body it sent
        body = urlencode({str(k): v if isinstance(v, list) else [v] for k, v in form.items()}, doseq=True)
    request_fields = {
        "method": text(request["method"], "method"),
        "url": text(request["url"], "url"),
        "http_version": version(request.get("proto")),
        **body_of(body, request_pairs, "request body"),
    }
    timing = dict(NO_TIMES)
    if response is None:
        return http_line(f"go-vcr-{number}", request_fields, None, timing, False, "no response recorded")
    response = mapping(response, "response")
    code, reason = status(response.get("code"), response.get("status"))
    response_pairs = header_pairs(response.get("headers"))
    duration = seconds(response.get("duration"))
    if duration is not None:
        timing["duration"] = duration
    response_fields = {
        "status": code,
        "reason": reason,
        "http_version": version(response.get("proto")),
        **body_of(response.get("body"), response_pairs, "response body"),
    }
    return http_line(f"go-vcr-{number}", request_fields, response_fields, timing)


def status(code, line) -> tuple[int, str]:
    """`code: 200` and `status: 200 OK` (go-vcr writes both; an old cassette only the line)."""
    match = GO_STATUS.fullmatch(line) if isinstance(line, str) else None
    if not isinstance(code, int) or isinstance(code, bool):
        code = int(match.group(1)) if match else None
    if code is None or not 100 <= code <= 999:
        raise ValueError(f"its status {str(line)[:40]!r} is not an HTTP status")
    return code, match.group(2) if match else ""


def version(proto) -> str:
    return proto if isinstance(proto, str) and proto.startswith("HTTP/") and len(proto) <= 10 else ""


def seconds(duration) -> float | None:
    """Go's time.Duration as go-vcr writes it ("681.551083ms", "1m2.5s"), or nanoseconds as a number; None when
    absent or not a duration."""
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        return duration / 1e9 if 0 <= duration < 1e18 else None
    if not isinstance(duration, str) or not duration or len(duration) > 64:
        return None
    parts = DURATION_PART.findall(duration)
    if "".join(number + unit for number, unit in parts) != duration:
        return None
    return round(sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts), 9)
