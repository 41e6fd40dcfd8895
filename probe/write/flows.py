"""A captured exchange rebuilt as a mitmproxy flow, and a WebSocket's turns joined again into the socket's one flow."""

from collections.abc import Iterable, Iterator

from mitmproxy import connection, flow, http
from mitmproxy.websocket import WebSocketData, WebSocketMessage
from wsproto.frame_protocol import Opcode

from probe.read.traffic import Body, Exchange, body_bytes

UNKNOWN_URL = "http://unknown.invalid/"  # for a captured URL with no host (a capture may hold anything)
SOCKET_ENDS = ("socket-closed", "proxy-stopped")  # a WebSocket turn ended so is its socket's last
UNFIT = (ValueError, TypeError, UnicodeError, OverflowError)  # what a field no flow can hold raises


def headers_of(pairs: list[tuple[str, str]], keep_encoding: bool = False) -> http.Headers:
    # A body stored decoded must lose its Content-Encoding header, or mitmproxy would decode it a second time.
    kept = [(name, value) for name, value in pairs if keep_encoding or name.lower() != "content-encoding"]
    return http.Headers([(name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
                         for name, value in kept])  # fmt: skip


def fill(message: http.Message, body: Body, pairs: list[tuple[str, str]], trailers, as_sent: bool) -> None:
    """The captured headers, body and trailers, set as they are (no Content-Length made up); with `as_sent`, a body
    the capture could not decode keeps its Content-Encoding header, and so stays what travelled."""
    message.headers = headers_of(pairs, keep_encoding=as_sent and body.as_sent)
    message.raw_content = body_bytes(body)
    if trailers is not None:
        message.trailers = headers_of(trailers, keep_encoding=True)


def moment(exchange: Exchange, *names: str) -> float | None:
    """The first of the capture's times that is there, in seconds since the epoch."""
    return next((exchange.timing[name] for name in names if name in exchange.timing), None)


def flow_of(exchange: Exchange, as_sent: bool = False) -> http.HTTPFlow:
    """The exchange as the mitmproxy flow it was, as near as the capture tells: times, headers, bodies, frames,
    and an HTTP exchange's error. `as_sent`: see `fill` (mitmproxy's HAR writer wants every body decodable)."""
    start = moment(exchange, "start") or 0.0
    client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=start)
    server = connection.Server(address=None)
    rebuilt = http.HTTPFlow(client, server)
    request = http.Request.make(exchange.method or "GET", UNKNOWN_URL, b"")
    try:
        request.url = exchange.url
    except ValueError:  # not a URL mitmproxy can parse: the path under a host that says so
        request.path = exchange.path if exchange.path.startswith("/") else "/" + exchange.path
    server.address = (request.host, request.port)
    fill(request, exchange.request_body, exchange.request_headers, exchange.request_trailers, as_sent)
    request.timestamp_start = start
    request.timestamp_end = moment(exchange, "request_end", "start")
    rebuilt.request = request
    if exchange.status is not None:
        response = http.Response.make(exchange.status, b"")
        fill(response, exchange.response_body, exchange.response_headers, exchange.response_trailers, as_sent)
        if exchange.reason:
            response.reason = exchange.reason
        response.timestamp_start = moment(exchange, "response_headers", "first_byte", "start")
        response.timestamp_end = moment(exchange, "end")
        rebuilt.response = response
    if exchange.kind == "websocket":
        closed = moment(exchange, "end") if exchange.ended_by in SOCKET_ENDS else None
        rebuilt.websocket = WebSocketData(messages=frames_of(exchange), timestamp_end=closed)
    elif exchange.error:  # a WebSocket turn's error is the capture's verdict on the turn, not the socket's
        rebuilt.error = flow.Error(exchange.error, moment(exchange, "end", "start") or start)
    return rebuilt


def frames_of(exchange: Exchange) -> list[WebSocketMessage]:
    # A frame with no time takes its turn's start: mitmproxy would stamp it with the time of the export.
    start = moment(exchange, "start") or 0.0
    return [
        WebSocketMessage(
            Opcode.BINARY if frame.body.format == "base64" else Opcode.TEXT,
            frame.from_client,
            body_bytes(frame.body),
            frame.time if frame.time is not None else start,
        )
        for frame in exchange.frames
    ]


def joined_flows(exchanges: Iterable[Exchange], warnings: list[str]) -> Iterator[http.HTTPFlow]:
    """Each exchange's flow, except that the turns of one WebSocket (lines with one flow_id, maybe between other
    lines) become the socket's one flow with every frame, given out when its last turn is read, or at the end for
    a socket whose end was not recorded. Only open sockets are held; an exchange no flow can hold is a warning."""
    sockets: dict[str, http.HTTPFlow] = {}
    for exchange in exchanges:
        key = exchange.flow_id if exchange.kind == "websocket" else None
        try:
            if key is not None and key in sockets:
                extend(sockets[key], exchange)
            else:
                rebuilt = flow_of(exchange, as_sent=True)
                if key is None:
                    yield rebuilt
                    continue
                sockets[key] = rebuilt
        except UNFIT as error:
            warnings.append(f"exchange {exchange.number}: left out of the flows ({type(error).__name__}: {error})")
            continue
        if exchange.ended_by in SOCKET_ENDS:
            yield sockets.pop(key)
    yield from sockets.values()


def extend(socket: http.HTTPFlow, turn: Exchange) -> None:
    """Add a later turn's frames to its socket's flow; the socket ends when its last turn does."""
    socket.websocket.messages.extend(frames_of(turn))
    if turn.ended_by in SOCKET_ENDS:
        socket.websocket.timestamp_end = moment(turn, "end")
