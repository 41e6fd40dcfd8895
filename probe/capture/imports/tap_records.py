"""One claude-tap record (a line of its trace JSONL, or a packet of a session JSON) as traffic.jsonl lines: an HTTP
exchange, or a WebSocket exchange whose frames are its events (or its reassembled response, where the trace kept
no events). Its bodies are kept parsed, and written back as compact JSON; a stream's events, where kept, as SSE."""

import json
from datetime import datetime

from probe.capture.imports.cassette_fields import NO_TIMES, body_of, header_pairs, mapping
from probe.capture.imports.lines import frame, header_list, http_line
from probe.capture.recorder.record import SCHEMA_VERSION, TERMINAL_EVENT

LOST = (
    "chunking: a streamed answer is its events (or one reassembled body, where the trace kept no events), their "
    "arrival times gone",
    "the bodies' bytes as sent: the trace keeps them parsed, written back as compact JSON",
    "websocket frames, where the trace kept no events: the reassembled response stands as the final event",
    "HTTP versions",
)
RESPONSE_EVENTS = ("completed", "failed", "incomplete", "in_progress", "queued")  # the events named by a status


def record_lines(record, ident: str, timed: bool) -> list[dict]:
    """The lines of one record; `timed`: its `timestamp` (when the answer ended) and `duration_ms` are read."""
    record = mapping(record, "record")
    request, response = mapping(record["request"], "request"), mapping(record.get("response"), "response")
    method = str(request.get("method") or record.get("method") or "")
    url = address(record, request)
    timing = dict(NO_TIMES)
    if timed:
        timing["start"], timing["end"] = moments(record.get("timestamp"), record.get("duration_ms"))
    request_pairs = header_pairs(request.get("headers"))
    response_pairs = header_pairs(response.get("headers"))
    status = response.get("status", record.get("http_status"))
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise ValueError(f"its status {str(status)[:40]!r} is not an HTTP status")
    if method == "WEBSOCKET" or record.get("transport") == "websocket":
        return [socket_line(ident, url, request, response, request_pairs, response_pairs, status, timing)]
    request_fields = {
        "method": method,
        "url": url,
        "http_version": "",
        **body_of(request.get("body"), request_pairs, "request body"),
    }
    events = response.get("sse_events")
    body = sse_text(events) if isinstance(events, list) and events else response.get("body")
    response_fields = {"status": status, "reason": "", "http_version": "", **body_of(body, response_pairs, "body")}
    error = response.get("error")
    return [http_line(ident, request_fields, response_fields, timing, error is None, text_or_none(error))]


def socket_line(ident, url, request, response, request_pairs, response_pairs, status, timing) -> dict:
    """A WebSocket record as one exchange: the client's frames, then the server's."""
    sent = request.get("ws_events")
    sent = sent if isinstance(sent, list) and sent else [request.get("body")]
    got = response.get("ws_events")
    got = got if isinstance(got, list) and got else [final_event(response.get("body"))]
    messages = [frame(True, None, as_bytes(value), True) for value in sent if value is not None]
    messages += [frame(False, None, as_bytes(value), True) for value in got if value is not None]
    last = next((m for m in reversed(messages) if m["from"] == "server"), None)
    complete = last is not None and bool(TERMINAL_EVENT.search(as_bytes(last["body"])))
    error = text_or_none(response.get("error"))
    return {
        "schema": SCHEMA_VERSION,
        "kind": "websocket",
        "id": f"{ident}:0",
        "flow_id": ident,
        "seq": 0,
        "proxy": "imported",
        "complete": complete and error is None,
        "ended_by": "terminal-event" if complete else "socket-closed",
        "error": error if error or complete else "socket-closed before a terminal event",
        "timing": {"start": timing["start"], "first_byte": None, "end": timing["end"]},
        "request": {
            "headers": header_list(request_pairs),
            "method": "GET",
            "url": url,
            "path": path_of(url),
            "http_version": "",
        },
        "response": {"headers": header_list(response_pairs), "status": status},
        "messages": messages,
    }


def final_event(body):
    """The reassembled Responses object as the event that ends a turn and carries it (response.completed, ...);
    anything else as it is."""
    if isinstance(body, dict) and body.get("object") == "response" and body.get("status") in RESPONSE_EVENTS:
        return {"type": f"response.{body['status']}", "response": body}
    return body


def sse_text(events: list) -> str:
    """The stream's events as SSE again: a named event with its `event:` line, a bare `data:` frame without."""
    out = []
    for event in events:
        if not isinstance(event, dict):
            raise TypeError("an SSE event is not an object")
        name, data = event.get("event"), event.get("data")
        data = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        head = f"event: {name}\n" if isinstance(name, str) and name not in ("", "message") else ""
        out.append(head + "".join(f"data: {part}\n" for part in data.split("\n")) + "\n")
    return "".join(out)


def address(record: dict, request: dict) -> str:
    """The URL: the upstream the trace names, else the proxy's own Host that the agent spoke to, else the path."""
    path = request.get("path", record.get("path"))
    if not isinstance(path, str):
        raise TypeError("its path is not text")
    base = record.get("upstream_base_url")
    if isinstance(base, str) and base.startswith(("http://", "https://")):
        return base.rstrip("/") + path
    host = next((value for name, value in header_pairs(request.get("headers")) if name.lower() == "host"), "")
    return f"http://{host}{path}" if host and "/" not in host else path


def path_of(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def as_bytes(value) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def moments(stamp, duration_ms) -> tuple[float | None, float | None]:
    """(start, end): claude-tap stamps a record when its answer has ended, and gives how long it took."""
    try:
        end = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if isinstance(stamp, str) else None
    except (ValueError, OverflowError):
        end = None
    if end is None:
        return None, None
    ok = isinstance(duration_ms, int | float) and not isinstance(duration_ms, bool) and 0 <= duration_ms < 1e12
    return (end - duration_ms / 1000 if ok else None), end


def text_or_none(value) -> str | None:
    return None if value is None else str(value)[:1000]
