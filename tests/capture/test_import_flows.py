"""The flow-file reader (probe.capture.imports.mitmproxy_flow) on flows made by mitmproxy's own test helpers and
written by its FlowWriter: an HTTP flow becomes the line the recorder writes, a WebSocket its turns, and a flow of
another protocol is skipped with a one-line reason."""

from mitmproxy import io as flow_io
from mitmproxy.test import tflow

from probe.capture.imports import mitmproxy_flow
from probe.capture.imports.formats import Skipped, detect


def test_http_websocket_and_tcp_flows(tmp_path):
    http_flow = tflow.tflow(resp=True)
    http_flow.request.timestamp_start, http_flow.response.timestamp_end = 100.0, 101.5
    socket = tflow.twebsocketflow()
    source = tmp_path / "flows"
    with source.open("wb") as out:
        writer = flow_io.FlowWriter(out)
        for flow in (http_flow, tflow.ttcpflow(), socket):
            writer.add(flow)
    assert detect(source) is mitmproxy_flow
    exchange, skipped, *turns = list(mitmproxy_flow.read(source))
    assert exchange["kind"] == "http" and exchange["id"] == http_flow.id and exchange["proxy"] == "imported"
    assert exchange["request"]["url"] == http_flow.request.url and exchange["response"]["status"] == 200
    assert exchange["response"]["body"] == "message" and exchange["timing"]["start"] == 100.0
    assert exchange["timing"]["end"] == 101.5 and exchange["complete"] is True
    assert skipped == Skipped("flow 2", "a TCPFlow, not an HTTP exchange")
    assert turns and all(turn["kind"] == "websocket" and turn["flow_id"] == socket.id for turn in turns)
    sent = [message for turn in turns for message in turn["messages"]]
    assert [message["from"] == "client" for message in sent] == [m.from_client for m in socket.websocket.messages]
