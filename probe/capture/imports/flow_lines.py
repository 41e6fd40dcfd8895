"""Lines made from mitmproxy flows read back from a file, by the recorder's own code (probe.capture.recorder): an
HTTP flow as its exchange, a WebSocket's messages as its turns, unmasked (the import masks every line after)."""

import json

from mitmproxy import http
from mitmproxy.websocket import WebSocketMessage

from probe.capture.recorder import record as stored
from probe.capture.recorder.addon import Capture
from probe.capture.recorder.exchanges import HttpRecording
from probe.capture.recorder.sockets import WebSocketRecording

PROXY = "imported"  # the proxy every imported exchange is filed under


class FlowLines(HttpRecording, WebSocketRecording):
    """What the capture addon would write for each flow, collected instead of appended to traffic.jsonl."""

    def __init__(self) -> None:
        self.policy = stored.Policy(redact=False)
        self.sockets: dict = {}
        self.in_flight: dict = {}
        self.lines: list[dict] = []

    def proxy_name(self, flow: http.HTTPFlow) -> str:
        return PROXY

    message_fields = Capture.message_fields  # with masking off: the headers as the file holds them

    def append(self, pieces, name: str) -> None:
        self.lines.append(json.loads(b"".join(pieces)))

    def taken(self) -> list[dict]:
        lines, self.lines = self.lines, []
        return lines


def http_lines(flow: http.HTTPFlow, recorder: FlowLines | None = None) -> list[dict]:
    """The lines the recorder writes for `flow`: one for an HTTP exchange, one per turn of a WebSocket."""
    recorder = recorder or FlowLines()
    if flow.websocket is not None:
        messages: list[WebSocketMessage] = list(flow.websocket.messages)
        flow.websocket.messages = []
        recorder.websocket_start(flow)
        for message in messages:
            flow.websocket.messages.append(message)
            recorder.take_frame(flow)
        recorder.end_socket(flow)
        return recorder.taken()
    error = flow.error.msg if flow.error is not None else None
    # As the recorder decides (Capture.finish_http): an error with the agent gone is its hang-up, forgiven after
    # the answer's terminal event.
    agent_hung_up = error is not None and not flow.client_conn.connected
    recorder.record_exchange(flow, None, error, agent_hung_up)
    lines = recorder.taken()
    for line in lines:
        known_times(line, flow)
    return lines


def known_times(line: dict, flow: http.HTTPFlow) -> None:
    """The recorder stamps an end it did not see with the time of recording; a file's unknown end stays unknown."""
    timing = line["timing"]
    if flow.response is not None:
        timing["end"] = flow.response.timestamp_end
    else:
        timing["end"] = flow.error.timestamp if flow.error is not None else None
