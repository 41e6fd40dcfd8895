"""mitmproxy's flow files (`mitmdump -w`, mitmweb's Save, agent-probe's flows.mitm), read by mitmproxy's own
FlowReader: tnetstring data, parsed, never executed; one flow held at a time."""

import re
from collections.abc import Iterator
from pathlib import Path

from mitmproxy import http
from mitmproxy import io as flow_io

from probe.capture.imports.flow_lines import SocketLines
from probe.capture.imports.formats import Skipped
from probe.capture.recorder.exchanges import HttpRecording

NAME = "mitmproxy flows"
LOST = ("chunking: a streamed answer is one body, its events' arrival times gone",)
# A tnetstring dictionary (`<length>:` ... `}`) whose first key is a key of a flow's state.
SNIFF = re.compile(rb"^\d{1,15}:\d{1,3}:([a-z_]{1,40})[;,]")
FLOW_KEYS = {
    b"version", b"type", b"id", b"websocket", b"error", b"client_conn", b"server_conn", b"request", b"response",
    b"intercepted", b"is_replay", b"marked", b"metadata", b"comment", b"timestamp_created", b"backup", b"live",
}  # fmt: skip


def sniff(head: bytes) -> bool:
    found = SNIFF.match(head)
    return found is not None and found[1] in FLOW_KEYS


class FlowLines(HttpRecording, SocketLines):
    """What the capture addon would write for each flow: an HTTP exchange's line, or a WebSocket's turns."""

    def flow_lines(self, flow: http.HTTPFlow) -> list[dict]:
        if flow.websocket is not None:
            return self.socket_lines(flow)
        error = flow.error.msg if flow.error is not None else None
        # As the recorder decides (Capture.finish_http): an error with the agent gone is its hang-up, forgiven after
        # the answer's terminal event.
        agent_hung_up = error is not None and not flow.client_conn.connected
        self.record_exchange(flow, None, error, agent_hung_up)
        lines = self.taken()
        for line in lines:
            # The recorder stamps an end it did not see with the time of recording: here it stays unknown.
            if flow.response is not None:
                line["timing"]["end"] = flow.response.timestamp_end
            else:
                line["timing"]["end"] = flow.error.timestamp if flow.error is not None else None
        return lines


def read(path: Path) -> Iterator[dict | Skipped]:
    recorder = FlowLines()
    with path.open("rb") as file:
        flows = iter(flow_io.FlowReader(file).stream())
        number = 0
        while True:
            number += 1
            try:
                flow = next(flows)
            except StopIteration:
                return
            # FlowReader raises FlowReadException for data it cannot parse, but a damaged flow's state may raise
            # anything on its way into a Flow: the file cannot be read past it either way.
            except Exception as error:
                yield Skipped(
                    f"flow {number}", f"the file ends or is damaged here ({type(error).__name__}: {error})"[:300]
                )
                return
            if not isinstance(flow, http.HTTPFlow):
                yield Skipped(f"flow {number}", f"a {type(flow).__name__}, not an HTTP exchange")
                continue
            try:
                yield from recorder.flow_lines(flow)
            except (TypeError, ValueError, AttributeError, KeyError, UnicodeError, OverflowError) as error:
                yield Skipped(f"flow {number}", f"not an exchange ({type(error).__name__}: {error})"[:300])
