"""A run's capture as HAR 1.2: each exchange rebuilt as a mitmproxy flow and written by mitmproxy's own HAR code."""

import base64
import importlib.metadata
import json
from pathlib import Path
from typing import BinaryIO

import orjson
from mitmproxy import connection, http, version
from mitmproxy.addons.savehar import SaveHar
from mitmproxy.websocket import WebSocketData, WebSocketMessage
from wsproto.frame_protocol import Opcode

from probe.traffic import Body, Exchange, iter_exchanges
from probe.turns import encoded

CREATOR = "agent-probe"
UNKNOWN_URL = "http://unknown.invalid/"  # for a captured URL with no host (a capture may hold anything)


def body_bytes(body: Body) -> bytes:
    """A body as the capture stored it (decoded, and masked when it was recorded), as bytes again."""
    if body.format == "empty" or body.value is None:
        return b""
    if body.format == "base64":
        try:
            return base64.b64decode(str(body.value), validate=False)
        except ValueError:
            return str(body.value).encode("utf-8", "surrogateescape")
    if body.format == "json":
        try:
            return orjson.dumps(body.value)
        except (orjson.JSONEncodeError, TypeError):  # lone surrogates, or nested deeper than orjson writes
            return json.dumps(body.value, separators=(",", ":")).encode("ascii")
    return str(body.value).encode("utf-8", "surrogateescape")


def headers_of(pairs: list[tuple[str, str]]) -> http.Headers:
    # The bodies are stored decoded: a Content-Encoding header would have mitmproxy decode them a second time.
    kept = [(name, value) for name, value in pairs if name.lower() != "content-encoding"]
    return http.Headers([(name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
                         for name, value in kept])  # fmt: skip


def moment(exchange: Exchange, *names: str) -> float | None:
    """The first of the capture's times that is there, in seconds since the epoch."""
    return next((exchange.timing[name] for name in names if name in exchange.timing), None)


def flow_of(exchange: Exchange) -> http.HTTPFlow:
    """The exchange as the mitmproxy flow it was, as near as the capture tells: times, headers, bodies, frames."""
    start = moment(exchange, "start") or 0.0
    client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=start)
    server = connection.Server(address=None)
    flow = http.HTTPFlow(client, server)
    headers = headers_of(exchange.request_headers)
    request = http.Request.make(exchange.method or "GET", UNKNOWN_URL, b"", headers)
    try:
        request.url = exchange.url
    except ValueError:  # not a URL mitmproxy can parse: the path under a host that says so
        request.path = exchange.path if exchange.path.startswith("/") else "/" + exchange.path
    request.content = body_bytes(exchange.request_body)
    request.timestamp_start = start
    request.timestamp_end = moment(exchange, "request_end", "start")
    flow.request = request
    if exchange.status is not None:
        response = http.Response.make(exchange.status, b"", headers_of(exchange.response_headers))
        response.content = body_bytes(exchange.response_body)
        response.timestamp_start = moment(exchange, "response_headers", "first_byte", "start")
        response.timestamp_end = moment(exchange, "end")
        flow.response = response
    if exchange.kind == "websocket":
        flow.websocket = WebSocketData(
            messages=[
                WebSocketMessage(
                    Opcode.BINARY if frame.body.format == "base64" else Opcode.TEXT,
                    frame.from_client,
                    body_bytes(frame.body),
                    frame.time,
                )
                for frame in exchange.frames
            ]
        )
    return flow


def write_har(traffic: Path, out: BinaryIO, warnings: list[str]) -> int:
    """Write the HAR document of a capture into `out`, one entry at a time (a capture may be gigabytes), each made
    by mitmproxy's HAR writer from the flow the exchange describes; return the number of entries."""
    writer = SaveHar()
    log = writer.make_har([])["log"]  # mitmproxy's own envelope: version 1.2, creator, pages
    log["creator"] = {"name": CREATOR, "version": package_version(), "comment": f"HAR by mitmproxy {version.VERSION}"}
    head = json.dumps({"log": {**log, "entries": []}}, indent=1).encode()
    opening, closing = head.split(b'"entries": []')
    out.write(opening + b'"entries": [\n')
    servers_seen: set = set()
    count = 0
    for exchange in iter_exchanges(traffic, warnings):
        try:
            entry = writer.flow_entry(flow_of(exchange), servers_seen)
        except (ValueError, TypeError, UnicodeError, OverflowError) as error:  # a field no flow can hold
            warnings.append(f"exchange {exchange.number}: left out of the HAR ({type(error).__name__}: {error})")
            continue
        out.write((b",\n" if count else b"") + encoded(entry))
        count += 1
    out.write(b"\n]" + closing)
    return count


def package_version() -> str:
    try:
        return importlib.metadata.version("agent-probe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
