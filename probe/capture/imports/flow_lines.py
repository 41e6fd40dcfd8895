"""Lines made from mitmproxy flows read back from a file, by the recorder's own code (probe.capture.recorder): a
WebSocket's messages as its turns here, an HTTP flow as its exchange in probe.capture.imports.mitmproxy_flow;
unmasked (the import masks every line after)."""

import json

from mitmproxy import http
from mitmproxy.websocket import WebSocketMessage

from probe.capture.imports.cassette_fields import unmasked
from probe.capture.recorder import record as stored
from probe.capture.recorder.sockets import WebSocketRecording

PROXY = "imported"  # the proxy every imported exchange is filed under


class SocketLines(WebSocketRecording):
    """What the capture addon would write for a WebSocket's turns, collected instead of appended to traffic.jsonl."""

    def __init__(self) -> None:
        self.sockets: dict = {}
        self.in_flight: dict = {}
        self.lines: list[dict] = []

    @property
    def policy(self) -> stored.Policy:
        return unmasked()  # masking off (the import masks every line after), decoding within the import's bound

    def proxy_name(self, flow: http.HTTPFlow) -> str:
        return PROXY

    def message_fields(self, message: http.Message) -> dict:
        """The headers and trailers as the addon stores them (probe.capture.recorder.addon), with masking off."""
        fields = {"headers": [list(pair) for pair in stored.header_pairs(message)]}
        if message.trailers is not None:
            fields["trailers"] = [list(pair) for pair in stored.header_pairs(message, "trailers")]
        return fields

    def append(self, pieces, name: str) -> None:
        self.lines.append(json.loads(b"".join(pieces)))

    def taken(self) -> list[dict]:
        lines, self.lines = self.lines, []
        return lines

    def socket_lines(self, flow: http.HTTPFlow) -> list[dict]:
        """A WebSocket flow's turns, its messages taken one by one as the addon takes them live."""
        messages: list[WebSocketMessage] = list(flow.websocket.messages)
        flow.websocket.messages = []
        self.websocket_start(flow)
        for message in messages:
            flow.websocket.messages.append(message)
            self.take_frame(flow)
        self.end_socket(flow)
        return self.taken()
