"""The original tool's JSONL, which the analysis reads too: `{timestamp, request{method, url, headers, body},
response{status_code, headers, body}}` a line, made into the recorder's lines."""

import re
from collections.abc import Iterator
from pathlib import Path

from probe.capture.imports.cassette_fields import NO_TIMES, body_of, header_pairs, mapping, text
from probe.capture.imports.formats import Skipped
from probe.capture.imports.lines import http_line
from probe.capture.imports.traffic_jsonl import json_lines

NAME = "original tool's JSONL"
LOST = (
    "timing: only when each request started",
    "chunking: a streamed answer is one body, its events' arrival times gone",
    "HTTP versions and reason phrases",
)
LATEST = 253402300800  # the first second of year 10000: a time past it is no time
SNIFF = re.compile(rb'\A\s*\{\s*"timestamp"\s*:\s*[-+0-9.eE]{1,40}\s*,\s*"request"\s*:\s*\{')


def sniff(head: bytes) -> bool:
    return bool(SNIFF.match(head))


def read(path: Path) -> Iterator[dict | Skipped]:
    return json_lines(path, exchange)


def exchange(entry, number: int) -> dict:
    entry = mapping(entry, "line")
    request, response = mapping(entry["request"], "request"), entry.get("response")
    request_pairs = header_pairs(request.get("headers"))
    request_fields = {
        "method": text(request["method"], "method"),
        "url": text(request["url"], "url"),
        "http_version": "",
        **body_of(request.get("body"), request_pairs, "request body"),
    }
    stamp = entry.get("timestamp")
    known = isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 <= stamp < LATEST
    timing = dict(NO_TIMES, start=stamp if known else None)
    if response is None:
        return http_line(f"line-{number}", request_fields, None, timing, False, "no response recorded")
    response = mapping(response, "response")
    code = response.get("status_code", response.get("status"))
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 999:
        raise ValueError(f"its status {str(code)[:40]!r} is not an HTTP status")
    response_pairs = header_pairs(response.get("headers"))
    response_fields = {
        "status": code,
        "reason": "",
        "http_version": "",
        **body_of(response.get("body"), response_pairs, "response body"),
    }
    return http_line(f"line-{number}", request_fields, response_fields, timing)
