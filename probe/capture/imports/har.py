"""HAR 1.2 (a browser's developer tools, Charles, Proxyman, mitmweb, agent-probe's own export): each entry an
exchange, Chrome's `_webSocketMessages` a WebSocket's turns. Read as a stream (ijson's events): one entry held at a
time."""

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import ijson
from mitmproxy import http
from mitmproxy.websocket import WebSocketData, WebSocketMessage
from wsproto.frame_protocol import Opcode

from probe.capture.imports.cassette_fields import kept_decoded
from probe.capture.imports.flow_lines import SocketLines
from probe.capture.imports.formats import Noted, Skipped
from probe.capture.imports.json_items import TOO_DEEP, array_items
from probe.capture.imports.lines import header_list, header_value, http_line
from probe.common.fastjson import finite_float

NAME = "HAR"
LOST = (
    "chunking: a streamed answer is one body, its events' arrival times gone",
    "timing: to the millisecond, and only what the file's timings give",
    "trailers",
    "bodies the exporting tool left out or cut",
)
# The opening of a HAR document: an object whose first key is "log" (every writer puts it first), whose object
# holds a HAR key early on.
SNIFF = re.compile(rb'^\s*\{\s*"log"\s*:\s*\{[\s\S]{0,65536}?"(?:version|creator|entries|pages)"\s*:')
MOST_DEPTH = 64  # levels of nesting in an entry: HAR's own are 4; a JSON body is text (postData.text), not nested
TIMING_PARTS = ("blocked", "dns", "connect", "send")  # HAR's parts before the request is sent ("ssl" is in connect)
# How far the timings' sum may be from the entry's `time` and still agree: writers round each part to the millisecond.
TIMING_SLACK_MS = 2.0
TIMING_SLACK_SHARE = 0.01


def sniff(head: bytes) -> bool:
    return bool(SNIFF.match(head.removeprefix(b"\xef\xbb\xbf")))


def read(path: Path) -> Iterator[dict | Skipped | Noted]:
    recorder, timings = SocketLines(), Disagreements()
    with path.open("rb") as file:
        entries = array_items(file, ("log", "entries"), MOST_DEPTH)
        number = 0
        try:
            for number, entry in enumerate(entries, 1):
                if entry is TOO_DEEP:
                    yield Skipped(f"entry {number}", f"nested more than {MOST_DEPTH} levels deep: not an exchange")
                    continue
                try:
                    yield from entry_lines(entry, number, recorder, timings)
                except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as error:
                    yield Skipped(f"entry {number}", f"not an exchange ({type(error).__name__}: {error})"[:300])
        except ijson.JSONError as error:
            said = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            yield Skipped(f"after entry {number}", f"the file ends or is damaged here ({said[:200]})")
    if timings.count:
        yield timings.noted()


def entry_lines(entry, number: int, recorder: SocketLines, timings: "Disagreements") -> Iterator[dict]:
    if not isinstance(entry, dict):
        raise TypeError(f"an entry is an object, not {type(entry).__name__}")
    request, response = entry["request"], entry.get("response")
    if not isinstance(request, dict):
        raise TypeError("its request is not an object")
    if not isinstance(response, dict) or not finite_float(response.get("status")):
        response = None  # status 0: no answer (Chrome and mitmproxy write a failed request so)
    start = started(entry.get("startedDateTime"))
    if isinstance(entry.get("_webSocketMessages"), list):
        yield from socket_lines(entry, number, start, recorder)
        return
    request_end, first_byte, end = moments(start, entry.get("timings"), entry.get("time"), number, timings)
    request_headers = pairs(request.get("headers"))
    post = request.get("postData") if isinstance(request.get("postData"), dict) else {}
    request_fields = {
        "headers": header_list(request_headers),
        "method": text(request["method"]),
        "url": text(request["url"]),
        "http_version": text(request.get("httpVersion") or ""),
        **body_fields(content_bytes(post), request_headers),
    }
    timing = {"start": start, "request_end": request_end}
    response_fields = None
    if response is not None:
        response_headers = pairs(response.get("headers"))
        content = response.get("content") if isinstance(response.get("content"), dict) else {}
        response_fields = {
            "headers": header_list(response_headers),
            "status": int(response["status"]),
            "reason": text(response.get("statusText") or ""),
            "http_version": text(response.get("httpVersion") or ""),
            **body_fields(content_bytes(content), response_headers),
        }
        timing |= {"response_headers": first_byte, "first_byte": first_byte, "end": end}
    else:
        timing["end"] = end
    failed = entry.get("response", {}).get("_error") if isinstance(entry.get("response"), dict) else None
    error = text(failed) if failed else (None if response is not None else "no response recorded")
    yield http_line(f"har-{number}", request_fields, response_fields, timing, complete=error is None, error=error)


def socket_lines(entry: dict, number: int, start: float | None, recorder: SocketLines) -> Iterator[dict]:
    """A WebSocket entry made into the flow it was, then into its turns as the recorder makes them."""
    request, response = entry["request"], entry.get("response") or {}
    flow = http.HTTPFlow(None, None)
    flow.id = f"har-{number}"
    flow.request = http.Request.make(text(request["method"]), text(request["url"]), b"", encoded(request))
    flow.request.timestamp_start = start
    flow.response = http.Response.make(int(response.get("status") or 101), b"", encoded(response))
    messages = []
    for message in entry["_webSocketMessages"]:
        if not isinstance(message, dict) or message.get("type") not in ("send", "receive"):
            continue
        binary = message.get("opcode") == 2
        data = text(message.get("data") or "")
        content = base64.b64decode(data) if binary else data.encode("utf-8", "surrogateescape")
        moment = finite_float(message.get("time"))
        frame = WebSocketMessage(Opcode.BINARY if binary else Opcode.TEXT, message["type"] == "send", content, moment)
        frame.timestamp = moment  # mitmproxy stamps a message given no time with now: an unknown time stays unknown
        messages.append(frame)
    flow.websocket = WebSocketData(messages=messages)
    yield from recorder.socket_lines(flow)


def body_fields(data: bytes | None, pairs) -> dict:
    """A body HAR keeps decoded (content.text) as the recorder stores it, decoded from its Content-Encoding only if
    it still is in it (some tools keep the compressed bytes)."""
    return kept_decoded(data, header_value(pairs, "content-encoding"), header_value(pairs, "content-type"))


def content_bytes(content: dict) -> bytes | None:
    """A postData's or content's text as the bytes it stands for (base64 when its encoding says so)."""
    value = content.get("text")
    if value is None:
        return None
    value = text(value)
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass  # mislabelled: kept as the text it is
    return value.encode("utf-8", "surrogateescape")


def moments(
    start: float | None, timings, time, number: int, disagreements: "Disagreements"
) -> tuple[float | None, float | None, float | None]:
    """The request's end, the first byte back and the end, from HAR's timings (milliseconds, -1: not applicable)
    and the entry's `time` (its whole duration): each None where the file does not say. Where the timings add up
    to another duration than `time`, `time` is kept, and a moment the timings put past it is not known."""
    if start is None:
        return None, None, None
    total = duration(time)
    timings = timings if isinstance(timings, dict) else {}
    parts = [duration(timings.get(name)) for name in TIMING_PARTS]
    wait, receive = duration(timings.get("wait")), duration(timings.get("receive"))
    if parts[-1] is None:  # no send time: nothing but `time` says when what happened
        return None, None, start + total / 1000 if total is not None else None
    request_end = start + sum(part for part in parts if part is not None) / 1000
    first_byte = request_end + wait / 1000 if wait is not None else None
    end = first_byte + receive / 1000 if first_byte is not None and receive is not None else None
    if total is None or end is None:
        return request_end, first_byte, end if total is None else start + total / 1000
    summed = (end - start) * 1000
    if abs(summed - total) <= max(TIMING_SLACK_MS, total * TIMING_SLACK_SHARE):
        return request_end, first_byte, end
    disagreements.add(number, summed, total)
    end = start + total / 1000
    within = [moment if moment is not None and moment <= end else None for moment in (request_end, first_byte)]
    return within[0], within[1], end


class Disagreements:
    """The entries whose timings add up to another duration than their `time`: warned of once for the file."""

    def __init__(self) -> None:
        self.count, self.first = 0, ""

    def add(self, number: int, summed: float, total: float) -> None:
        self.count += 1
        if not self.first:
            self.first = f"entry {number}: {summed:,.0f} ms against {total:,.0f} ms"

    def noted(self) -> Noted:
        entries = f"{self.count:,} entr{'y' if self.count == 1 else 'ies'}"
        return Noted(
            "timings",
            f"{entries} whose timings add up to another duration than their time ({self.first}): each one's time "
            "is kept as its duration",
        )


def duration(value) -> float | None:
    """Milliseconds the file gives; None where it does not (-1: not applicable, or not known)."""
    number = finite_float(value)
    return number if number is not None and number >= 0 else None


def started(value) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError):
        return None


def pairs(headers) -> list[tuple[str, str]]:
    if not isinstance(headers, list):
        return []
    return [(text(h["name"]), text(h.get("value", ""))) for h in headers if isinstance(h, dict) and "name" in h]


def encoded(message: dict) -> http.Headers:
    """A message's headers as mitmproxy holds them."""
    return http.Headers(
        [(name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape")) for name, value in
         pairs(message.get("headers"))]
    )  # fmt: skip


def text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value
