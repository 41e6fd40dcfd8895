"""The HTTP MCP servers' half of the capture addon: flows through a server's own reverse proxy are MCP, not model
exchanges. Each JSON-RPC message in them goes to mcp.jsonl, never to traffic.jsonl: the agent's POSTed body, and the
answer as JSON (at its end) or as Server-Sent Events (each event as it arrives; a GET's long-lived stream of the
server's own messages too); a DELETE (the session's end) and a failed exchange are events.
"""

import fcntl
import json
import logging
import os
import time

from mitmproxy import http

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder.files import append_whole, open_private
from probe.capture.recorder.mcp_lines import BoundedBody, EventStream, message_lines
from probe.common import decoding
from probe.common.forward import is_loopback

MCP_PROXIES_VARIABLE = "PROBE_MCP_PROXIES"  # {port: {name, url}}, from probe.capture.mcp.http_proxies
SESSION_HEADER = "mcp-session-id"


def parse_mcp_proxies(value: str) -> dict[int, tuple[str, str]]:
    """Each MCP proxy's port -> (server name, upstream URL)."""
    try:
        given = json.loads(value or "{}")
        return {int(port): (str(each["name"]), str(each["url"])) for port, each in given.items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        logging.error(f"probe: ${MCP_PROXIES_VARIABLE} is not what the capture writes; no MCP proxy is recorded")
        return {}


class McpStream:
    """A `flow.response.stream` callable for an MCP answer: passes each chunk on unchanged; an event stream's messages
    are written as their events end, any other body (a compressed event stream too) is kept, bounded, for the end."""

    def __init__(self, recorder: "McpHttpRecording", flow: http.HTTPFlow, events: bool, encoding: str) -> None:
        self.recorder, self.flow, self.encoding = recorder, flow, encoding
        self.is_event_stream = events
        self.events = EventStream() if events and not encoding else None
        self.body = BoundedBody()

    def __call__(self, data: bytes) -> bytes:
        if data:
            if self.events is None:
                self.body.add(data)
            else:
                with self.recorder.recording("mcp stream", self.flow):
                    self.write(self.events.feed(data))
        return data

    def finish(self) -> None:
        """What is left: the last event of a stream cut off, or the whole of a body kept for the end."""
        if self.events is not None:
            self.write(self.events.finish())
            self.events = None
        elif self.body.size:
            body, self.body = self.body, BoundedBody()
            if self.encoding and not body.cut:
                decoded = decoding.decode_body(body.data(), self.encoding, self.recorder.policy.decode_cap)
                body = BoundedBody()
                body.add(decoded.data)
            if self.is_event_stream and not body.cut:
                events = EventStream()
                self.write(events.feed(body.data()) + events.finish())
            else:
                self.write([(time.time(), body)])

    def write(self, events: list[tuple[float, BoundedBody]]) -> None:
        for at, event in events:
            self.recorder.write_mcp_body(self.flow, "server", event, at)


class McpHttpRecording:
    """What the capture addon does on an MCP server's proxy; the addon (Capture) provides policy and recording, and
    comes before the forward listener's part (ForwardRecording), whose `request` hook it passes other flows to."""

    def __init__(self) -> None:
        self.mcp_fd: int | None = None
        self.mcp_proxies = parse_mcp_proxies(os.environ.get(MCP_PROXIES_VARIABLE, ""))
        self.mcp_streams: dict[str, McpStream] = {}  # flow id -> its answer, while it streams
        self.mcp_lines_written = 0

    def open_mcp(self, path: str) -> None:
        if path and self.mcp_fd is None:
            self.mcp_fd = open_private(path)

    def mcp_started(self) -> None:
        """One `started` line per server, with the URL its proxy forwards to."""
        for name, url in self.mcp_proxies.values():
            self.write_mcp({"t": time.time(), "server": name, "transport": "http", "event": "started", "url": url})

    def mcp_server(self, flow: http.HTTPFlow) -> str | None:
        """The MCP server whose proxy took this flow, or None for any other."""
        sockname = flow.client_conn.sockname
        found = self.mcp_proxies.get(sockname[1] if sockname else 0)
        return found[0] if found else None

    def mcp_direct(self, flow: http.HTTPFlow) -> bool:
        """A server on this machine is reached directly, never through the upstream proxy."""
        return self.mcp_server(flow) is not None and is_loopback(flow.request.host)

    async def request(self, flow: http.HTTPFlow) -> None:
        """An MCP flow's request is recorded; any other goes on to the forward listener's checks (next in line)."""
        if self.mcp_server(flow) is None:
            await super().request(flow)
            return
        with self.recording("request", flow):
            self.mcp_request(flow)

    def mcp_request(self, flow: http.HTTPFlow) -> None:
        """The agent's message(s), as the request ends: before the server has answered."""
        body = BoundedBody()
        data = flow.request.raw_content or b""
        encoding = flow.request.headers.get("content-encoding", "").strip().lower()
        if data and encoding not in ("", "identity"):
            data = decoding.decode_body(data, encoding, self.policy.decode_cap).data
        body.add(data)
        if body.size:
            self.write_mcp_body(flow, "agent", body, time.time())
        if flow.request.method == "DELETE":
            self.write_mcp(self.mcp_base(flow, "agent", time.time()) | {"event": "session-ended"})

    def mcp_responseheaders(self, flow: http.HTTPFlow) -> None:
        events = "text/event-stream" in flow.response.headers.get("content-type", "").lower()
        encoding = flow.response.headers.get("content-encoding", "").strip().lower()
        encoding = "" if encoding == "identity" else encoding
        stream = self.mcp_streams[flow.id] = McpStream(self, flow, events, encoding)
        flow.response.stream = stream

    def mcp_response(self, flow: http.HTTPFlow, error: str | None = None) -> None:
        """The answer's last messages, then how the exchange ended if not with an answer: `closed` by the agent
        before the answer ended (as a GET's stream of the server's messages ends), else `failed` (an HTTP error
        that carried no JSON-RPC message, a broken connection, the proxy stopping)."""
        if flow.metadata.get("probe_mcp_done"):
            return  # mitmproxy may report an error after the answer has ended
        flow.metadata["probe_mcp_done"] = True
        stream = self.mcp_streams.pop(flow.id, None)
        before = self.mcp_lines_written
        if stream is not None:
            stream.finish()
        response = flow.response
        status = response.status_code if response is not None else None
        if error is None and status is not None and status >= 400 and self.mcp_lines_written == before:
            error = f"HTTP {status} {response.reason}".strip()
        if error is None:
            return
        line = self.mcp_base(flow, "server", time.time())
        if response is not None and not flow.client_conn.connected:
            line |= {"event": "closed", "by": "agent", "error": stored.text(error, self.policy)}
        else:
            line |= {"event": "failed", "error": stored.text(error, self.policy)}
        self.write_mcp(line)

    def mcp_done(self) -> None:
        for flow_id, stream in list(self.mcp_streams.items()):
            with self.recording("shutdown", stream.flow):
                self.mcp_response(stream.flow, "proxy stopped before the answer ended")
            self.mcp_streams.pop(flow_id, None)
        if self.mcp_fd is not None:
            os.close(self.mcp_fd)
            self.mcp_fd = None

    def mcp_base(self, flow: http.HTTPFlow, side: str, at: float) -> dict:
        """The fields every line of this flow has: when, which server, and the HTTP message that carried it (the
        agent's: its request, whose status is not known yet; the server's: its answer)."""
        message = flow.request if side == "agent" else flow.response
        session = None
        for each in (message, flow.response, flow.request):
            if each is not None and each.headers.get(SESSION_HEADER):
                session = stored.text(each.headers[SESSION_HEADER], self.policy)
                break
        return {
            "t": at,
            "server": self.mcp_server(flow),
            "transport": "http",
            "from": side,
            "http": {
                "method": flow.request.method,
                "status": flow.response.status_code if side == "server" and flow.response else None,
                "content_type": message.headers.get("content-type") if message is not None else None,
                "session": session,
            },
        }

    def write_mcp_body(self, flow: http.HTTPFlow, side: str, body: BoundedBody, at: float) -> None:
        base = self.mcp_base(flow, side, at)
        for line in message_lines(body.data(), body.size, body.cut, base, self.policy):
            self.write_mcp(line)

    def write_mcp(self, line: dict) -> None:
        """One line appended whole, under the file's lock: the stdio servers' relays write to it too."""
        if self.mcp_fd is None:
            return
        fcntl.flock(self.mcp_fd, fcntl.LOCK_EX)
        try:
            append_whole(self.mcp_fd, [capture_line.dumps(line) + b"\n"], "mcp.jsonl")
        finally:
            fcntl.flock(self.mcp_fd, fcntl.LOCK_UN)
        self.mcp_lines_written += 1
