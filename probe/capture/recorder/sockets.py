"""The WebSocket half of the capture addon: each socket's frames gathered into exchanges (one per response the
model streams), and each exchange written as the HTTP ones are."""

import hashlib
import json
from dataclasses import dataclass, field

from mitmproxy import http

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder.record import SCHEMA_VERSION, TERMINAL_EVENT
from probe.redact.replacing import fingerprints_of
from probe.redact.stream_pieces import mask_pieces


@dataclass
class Socket:
    """An open WebSocket: its flow, how many exchanges were written, and the one in progress."""

    flow: http.HTTPFlow
    next_seq: int = 0
    pending: list[dict] | None = None  # frames of the exchange in progress
    terminal: bool = False
    fresh: set[str] = field(default_factory=set)  # fingerprints that masking each frame alone made


class WebSocketRecording:
    """What the capture addon does with WebSockets; the addon (Capture) provides recording, append, policy and
    the fields of a message."""

    def websocket_start(self, flow: http.HTTPFlow) -> None:
        self.in_flight.pop(flow.id, None)
        self.sockets[flow.id] = Socket(flow)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        with self.recording("websocket_message", flow):
            self.take_frame(flow)

    def take_frame(self, flow: http.HTTPFlow) -> None:
        socket = self.sockets.setdefault(flow.id, Socket(flow))
        message = flow.websocket.messages[-1]
        frame = {
            "from": "client" if message.from_client else "server",
            "t": message.timestamp,
            "type": "text" if message.is_text else "binary",
            "size": len(message.content),
            "sha256": hashlib.sha256(message.content).hexdigest(),
        }
        frame.update(stored.websocket_content(message.content, message.is_text, self.policy))
        if frame.get("redacted_tokens"):
            shown = frame["body"] if isinstance(frame["body"], str) else json.dumps(frame["body"], ensure_ascii=False)
            socket.fresh |= fingerprints_of(shown) - fingerprints_of(message.content)
        if message.from_client and socket.pending is not None:
            self.finish_websocket_exchange(socket, "next-client-message")
        if socket.pending is None:
            socket.pending, socket.terminal = [], False
        socket.pending.append(frame)
        if not message.from_client and TERMINAL_EVENT.search(message.content):
            socket.terminal = True
            # Written at once, so a kill with the socket still open loses no completed exchange.
            self.finish_websocket_exchange(socket, "terminal-event")

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        with self.recording("websocket_end", flow):
            self.end_socket(flow)

    def end_socket(self, flow: http.HTTPFlow) -> None:
        socket = self.sockets.pop(flow.id, None) or Socket(flow)
        if socket.pending is not None or socket.next_seq == 0:
            # The last unanswered frames, or a handshake-only socket, still get their line.
            self.finish_websocket_exchange(socket, "socket-closed")

    def finish_websocket_exchange(self, socket: Socket, ended_by: str) -> None:
        flow, messages = socket.flow, socket.pending or []
        seq = socket.next_seq
        socket.next_seq, socket.pending = seq + 1, None
        server_times = [frame["t"] for frame in messages if frame["from"] == "server"]
        # (An imported frame may have no time: the socket's opening is then the best known start.)
        start = messages[0]["t"] if messages and messages[0]["t"] is not None else flow.request.timestamp_start
        # Only a terminal event proves the whole answer arrived: a client that sends its next request
        # without waiting for one (or a socket that closes) leaves this exchange incomplete.
        complete = socket.terminal
        close_code = flow.websocket.close_code if flow.websocket else None
        if self.policy.redact:
            mask_streamed_secrets(messages, socket.fresh)
        socket.fresh = set()
        record = {
            "schema": SCHEMA_VERSION,
            "kind": "websocket",
            "id": f"{flow.id}:{seq}",
            "flow_id": flow.id,
            "seq": seq,
            "proxy": self.proxy_name(flow),
            "complete": complete,
            "ended_by": ended_by,
            "error": None if complete else f"{ended_by} before a terminal event (close code {close_code})",
            "timing": {
                "start": start,
                "first_byte": server_times[0] if server_times else None,
                "end": messages[-1]["t"] if messages else start,
            },
            "request": self.message_fields(flow.request)
            | {
                "method": stored.text(flow.request.method, self.policy),
                "url": stored.url(flow.request.url, self.policy),
                "path": stored.url(flow.request.path, self.policy),
                "http_version": flow.request.http_version,
            },
            "response": None
            if flow.response is None
            else (self.message_fields(flow.response) | {"status": flow.response.status_code}),
            "messages": messages,
        }
        self.append([capture_line.line(record)], "traffic.jsonl")

    # Shutdown -------------------------------------------------------------------------------


def mask_streamed_secrets(messages: list[dict], fresh: set[str]) -> None:
    """A key the model streams over several frames, each frame masked alone, is masked across them too."""
    frames = [frame for frame in messages if frame["from"] == "server" and frame.get("body_format") == "json"]
    joined, changed = mask_pieces([frame["body"] for frame in frames], fresh)
    if joined:
        first = frames[min(changed)]
        first["redacted_tokens"] = first.get("redacted_tokens", 0) + joined
