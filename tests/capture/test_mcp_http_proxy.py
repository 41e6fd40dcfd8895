"""HTTP MCP servers recorded: server-everything behind a reverse proxy of the run's own mitmdump, spoken to over
streamable HTTP by a plain HTTP client (so that both mitmproxy releases run it), each JSON-RPC message in mcp.jsonl."""

import base64
import gzip
import http.client
import json
import stat
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mcp_http_fixtures
import pytest
from conftest import two_proxy_target
from mcp_http_fixtures import SECRET, mcp_lines, mcp_size, messages

from probe.capture.ports import free_port
from probe.capture.proxies import start_proxies
from probe.capture.upstreams import UpstreamProxy
from probe.common.errors import ProxyError

ACCEPT = "application/json, text/event-stream"
everything_url, mcp_proxied = mcp_http_fixtures.everything_url, mcp_http_fixtures.mcp_proxied


def post(url: str, message: dict | list, session: str | None = None) -> tuple[int, dict, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"content-type": "application/json", "accept": ACCEPT}
    if session:
        headers["mcp-session-id"] = session
    connection.request("POST", parts.path, json.dumps(message), headers)
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def event_data(body: bytes) -> list[dict]:
    return [
        json.loads(line[5:]) for line in body.decode().splitlines() if line.startswith("data:") and line[5:].strip()
    ]


def initialize(url: str) -> str:
    client = {"name": "probe-test", "version": "1"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
    status, headers, body = post(url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    assert status == 200, body
    assert event_data(body)[0]["result"]["serverInfo"]["name"] == "mcp-servers/everything"
    session = headers["mcp-session-id"]
    status, _, _ = post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    assert status == 202
    return session


def test_each_message_recorded_with_its_direction_and_http(mcp_proxied, everything_url):
    proxies, run = mcp_proxied
    url = proxies.mcp_urls["ev"]
    port = urllib.parse.urlsplit(url).port
    assert url == f"http://127.0.0.1:{port}/mcp" and port != urllib.parse.urlsplit(everything_url).port
    since = mcp_size(run)
    session = initialize(url)
    status, _, body = post(url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session)
    tools = event_data(body)[0]["result"]["tools"]
    assert "echo" in [tool["name"] for tool in tools]
    call = {"name": "echo", "arguments": {"message": f"key {SECRET}"}}
    status, _, body = post(url, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call}, session)
    assert event_data(body)[0]["result"]["content"][0]["text"] == f"Echo: key {SECRET}"  # the agent got it whole
    # An unknown session: the server's 400 carries a JSON-RPC error, recorded as its answer with the status.
    status, _, _ = post(url, {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}, "no-such-session")
    assert status in (400, 404)
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("DELETE", parts.path, headers={"mcp-session-id": session})
    assert connection.getresponse().status == 200

    [started] = mcp_lines(run)[:1]
    assert started == {
        "t": started["t"],
        "server": "ev",
        "transport": "http",
        "event": "started",
        "url": everything_url,
    }
    lines = mcp_lines(run, since, until=lambda lines: lines and lines[-1].get("event") == "session-ended")
    agent, server = messages(lines, "agent"), messages(lines, "server")
    assert [m.get("method") for m in agent] == [
        "initialize", "notifications/initialized", "tools/list", "tools/call", "tools/list"]  # fmt: skip
    assert [m.get("id") for m in server[:3]] == [1, 2, 3]
    assert server[0]["result"]["serverInfo"]["name"] == "mcp-servers/everything"
    assert [tool["name"] for tool in server[1]["result"]["tools"]] == [tool["name"] for tool in tools]
    by_id = {(line["from"], line["message"].get("id")): line for line in lines if line.get("message")}
    initialize_line, answer_line = by_id[("agent", 1)], by_id[("server", 1)]
    assert initialize_line["http"] == {"method": "POST", "status": None, "content_type": "application/json",
                                       "session": None}  # fmt: skip
    assert answer_line["http"] == {"method": "POST", "status": 200, "content_type": "text/event-stream",
                                   "session": session}  # fmt: skip
    assert answer_line["size"] > 100 and answer_line["t"] >= initialize_line["t"]
    assert by_id[("agent", 2)]["http"]["session"] == session
    # The secret, in the call's arguments and in its echo, is masked in the record, and nowhere in the run.
    text = (run / "mcp.jsonl").read_text()
    assert SECRET not in text
    assert by_id[("agent", 3)]["message"]["params"]["arguments"]["message"].startswith("key [REDACTED sha256:")
    assert by_id[("server", 3)]["message"]["result"]["content"][0]["text"].startswith("Echo: key [REDACTED sha256:")
    refused = [line for line in lines if line.get("from") == "server" and line["http"]["status"] == status]
    assert [line["message"]["error"]["code"] for line in refused] == [-32000]
    assert refused[0]["http"]["session"] == "no-such-session"
    assert by_id[("agent", 4)]["http"]["session"] == "no-such-session"
    ended = [line for line in lines if line.get("event") == "session-ended"]
    assert ended == [ended[0]] and ended[0]["http"]["method"] == "DELETE" and ended[0]["http"]["session"] == session
    assert stat.S_IMODE((run / "mcp.jsonl").stat().st_mode) == 0o600
    # Not a model exchange: nothing of the MCP server's flows reaches traffic.jsonl, which the model readers read.
    traffic = (run / "traffic.jsonl").read_text() if (run / "traffic.jsonl").exists() else ""
    assert f":{port}" not in traffic and "tools/list" not in traffic


def test_progress_is_written_as_it_streams(mcp_proxied):
    proxies, run = mcp_proxied
    url = proxies.mcp_urls["ev"]
    since = mcp_size(run)
    session = initialize(url)
    call = {"name": "trigger-long-running-operation", "arguments": {"duration": 1.2, "steps": 3},
            "_meta": {"progressToken": "p-1"}}  # fmt: skip
    _, _, body = post(url, {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": call}, session)
    assert [m.get("method") for m in event_data(body)] == ["notifications/progress"] * 3 + [None]
    lines = mcp_lines(run, since, until=lambda lines: any(line.get("message", {}).get("id") == 7 and line["from"] ==
                      "server" for line in lines))  # fmt: skip
    lines = [line for line in lines if line.get("from") == "server" and line["message"].get("id") != 1]
    assert [line["message"].get("params", {}).get("progress") for line in lines] == [1, 2, 3, None]
    assert lines[-1]["message"]["id"] == 7 and "completed" in lines[-1]["message"]["result"]["content"][0]["text"]
    # Each event written when it arrived (0.4 s apart), not all at the answer's end.
    times = [line["t"] for line in lines]
    assert times[1] - times[0] > 0.2 and times[2] - times[1] > 0.2


def test_a_bad_server_url_is_refused_in_one_line_without_its_secret(tmp_path):
    with pytest.raises(ProxyError) as refused:
        start_proxies(two_proxy_target(tmp_path), None, "mock", mcp_upstreams={"ev": f"ftp://host/mcp?key={SECRET}"})
    assert "MCP server ev" in str(refused.value) and SECRET not in str(refused.value)


def test_a_get_stream_of_the_servers_own_messages_is_recorded_as_they_come(mcp_proxied):
    proxies, run = mcp_proxied
    url = proxies.mcp_urls["ev"]
    since = mcp_size(run)
    session = initialize(url)
    parts = urllib.parse.urlsplit(url)
    listening = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    listening.request("GET", parts.path, headers={"accept": "text/event-stream", "mcp-session-id": session})
    stream = listening.getresponse()
    assert stream.status == 200
    # The tool starts the server logging to the session on its own: its first message comes on the GET stream.
    call = {"name": "toggle-simulated-logging", "arguments": {}}
    post(url, {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": call}, session)
    while not (line := stream.fp.readline().decode()).startswith("data:") or not line[5:].strip():
        pass
    assert json.loads(line[5:])["method"] == "notifications/message"
    post(url, {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": call}, session)  # toggled off again
    listening.close()  # the agent ends the stream, as it does when it is done
    lines = mcp_lines(run, since, until=lambda lines: any(line.get("event") == "closed" for line in lines))
    pushed = [line for line in lines if line.get("from") == "server" and line["http"]["method"] == "GET"]
    assert pushed[0]["message"]["method"] == "notifications/message"
    assert pushed[0]["http"] == {"method": "GET", "status": 200, "content_type": "text/event-stream",
                                 "session": session}  # fmt: skip
    assert pushed[-1]["event"] == "closed" and pushed[-1]["by"] == "agent"


def initialize_through_forward(forward: str, credentials: str, url: str) -> tuple[int, bytes]:
    """An initialize POSTed to `url` through the forward proxy."""
    host, port = forward.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    auth = "Basic " + base64.b64encode(credentials.encode()).decode()
    headers = {"content-type": "application/json", "accept": ACCEPT, "proxy-authorization": auth}
    connection.request("POST", url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize"}), headers)
    response = connection.getresponse()
    return response.status, response.read()


def test_a_loopback_server_the_run_names_is_reached_with_all_hosts_and_an_upstream_proxy(tmp_path, everything_url):
    run = tmp_path / "run"
    run.mkdir()
    # An upstream proxy nobody listens on: a request sent through it would fail.
    nowhere = UpstreamProxy(f"http://127.0.0.1:{free_port()}", "--upstream-proxy")
    proxies = start_proxies(two_proxy_target(tmp_path), run, None, upstream_proxy=nowhere, all_hosts=True,
                            mcp_upstreams={"ev": everything_url})  # fmt: skip
    try:
        url, credentials = proxies.mcp_urls["ev"], proxies.forward_credentials
        params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        status, _, body = post(url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        assert status == 200 and event_data(body)[0]["result"]["serverInfo"]["name"] == "mcp-servers/everything"
        # The server itself, which the agent is not given, stays out of the forward proxy's reach (the agent reaches
        # the proxies on loopback directly: NO_PROXY).
        status, body = initialize_through_forward(proxies.forward, credentials, everything_url)
        assert status == 403 and b"this machine" in body
    finally:
        proxies.stop()
    answers = [line for line in mcp_lines(run) if line.get("from") == "server"]
    assert [line["message"]["result"]["serverInfo"]["name"] for line in answers] == ["mcp-servers/everything"]


class Compressing(BaseHTTPRequestHandler):
    """A server answering each POST with its message echoed, gzip-compressed: as SSE for /events, else as JSON."""

    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers["content-length"])))
        answer = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {"echo": message["params"]}})
        events = self.path == "/events"
        body = gzip.compress((f"id: 1\ndata: {answer}\n\n" if events else answer).encode())
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if events else "application/json")
        self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_compressed_answers_are_decoded_and_a_dead_server_is_a_failed_event(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Compressing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run = tmp_path / "run"
    run.mkdir()
    upstreams = {"zip": f"http://127.0.0.1:{server.server_port}/events", "gone": f"http://127.0.0.1:{free_port()}/mcp"}
    proxies = start_proxies(two_proxy_target(tmp_path), run, "mock", mcp_upstreams=upstreams)
    try:
        for path, request_id in (("/events", 1), ("/json", 2)):
            url = proxies.mcp_urls["zip"].replace("/events", path)
            status, headers, body = post(url, {"jsonrpc": "2.0", "id": request_id, "method": "m", "params": {"n": 1}})
            assert status == 200 and headers["content-encoding"] == "gzip"  # passed on as it came
            assert str(request_id).encode() in gzip.decompress(body)
        status, _, _ = post(proxies.mcp_urls["gone"], {"jsonrpc": "2.0", "id": 3, "method": "m"})
        assert status == 502
    finally:
        proxies.stop()
        server.shutdown()
    lines = mcp_lines(run)
    answers = [(line["http"]["content_type"], line["message"]) for line in lines if line.get("from") == "server"
               and "message" in line]  # fmt: skip
    assert answers == [
        ("text/event-stream", {"jsonrpc": "2.0", "id": 1, "result": {"echo": {"n": 1}}}),
        ("application/json", {"jsonrpc": "2.0", "id": 2, "result": {"echo": {"n": 1}}}),
    ]
    [failed] = [line for line in lines if line.get("event") == "failed"]
    assert failed["server"] == "gone" and failed["http"]["method"] == "POST" and "connect" in failed["error"].lower()
