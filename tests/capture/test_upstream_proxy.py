"""Chaining through a corporate-style HTTP proxy: a real tunnelling mitmdump on loopback."""

import base64
import http.client
import json
import re
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import WebSocketClient, post_json, read_traffic, two_proxy_target

from probe.capture.proxies import start_proxies
from probe.capture.recorder.forward import OFFLINE
from probe.capture.upstreams import UpstreamProxy, choose_upstream_proxy
from probe.redact.secrets import fingerprint

USER, PASSWORD = "alice", "tunnel-s3cret"
pytestmark = pytest.mark.xdist_group("upstream-proxy")  # one tunnelling mitmdump serves the module


class LogSince:
    """The tunnel's log as written since a test began: what the tunnel did for that test, not for the ones before."""

    def __init__(self, path: Path):
        self.path, self.offset = path, path.stat().st_size

    def read_text(self) -> str:
        with self.path.open("rb") as file:
            file.seek(self.offset)
            return file.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def shared_tunnel(tmp_path_factory):
    """A CONNECT-only proxy requiring credentials: mitmdump in regular mode that intercepts nothing. It keeps no
    state between connections, so one serves every test of the module."""
    from probe.capture.ports import free_port
    from probe.capture.proxies import find_mitmdump

    port = free_port()
    log = tmp_path_factory.mktemp("tunnel") / "tunnel.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                find_mitmdump(),
                "--mode",
                f"regular@{port}",
                "--listen-host",
                "127.0.0.1",
                "--ignore-hosts",
                ".*",
                "--set",
                f"proxyauth={USER}:{PASSWORD}",
                "--set",
                "termlog_verbosity=debug",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while "proxy listening" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port, log
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def tunnel(shared_tunnel):
    """The module's tunnel, and its log from this test on."""
    port, log = shared_tunnel
    return port, LogSince(log)


class HeaderEcho(BaseHTTPRequestHandler):
    """An upstream that remembers the headers it was sent."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict]] = []  # shared by every handler the server makes

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        HeaderEcho.seen.append({name.lower(): value for name, value in self.headers.items()})
        body = b'{"object": "response", "id": "resp_echo", "status": "completed", "output": []}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def connects_to(log: LogSince, port: int) -> bool:
    return re.search(rf"server connect 127\.0\.0\.1:{port}\b", log.read_text()) is not None


def chained_proxies(
    tmp_path, tunnel_port: int, upstream: str, password: str = PASSWORD, transport: str = "http", all_hosts=False
):
    """Proxies recording into a new run folder, reaching `upstream` through the tunnel; returns (proxies, run)."""
    run = tmp_path / "run"
    run.mkdir()
    tunnel = UpstreamProxy(f"http://{USER}:{password}@127.0.0.1:{tunnel_port}", "test")
    return start_proxies(
        two_proxy_target(tmp_path), run, upstream, mock_transport=transport, upstream_proxy=tunnel, all_hosts=all_hosts
    ), run


def test_http_exchange_goes_through_the_tunnel_with_credentials_on_connect_only(tmp_path, tunnel):
    tunnel_port, log = tunnel
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), HeaderEcho)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proxies, run = chained_proxies(tmp_path, tunnel_port, f"http://127.0.0.1:{upstream.server_port}/")
    # The credentials reach mitmdump through its environment: its argv is readable by every user (ps).
    argv = Path(f"/proc/{proxies.process.pid}/cmdline").read_bytes()
    assert b"127.0.0.1:%d" % tunnel_port not in argv and PASSWORD.encode() not in argv and USER.encode() not in argv
    try:
        status, _, body = post_json(
            proxies.urls["model"], "/v1/responses", {"model": "m"}, {"authorization": "Bearer agent-own-token"}
        )
    finally:
        proxies.stop()
        upstream.shutdown()
    assert status == 200 and json.loads(body)["id"] == "resp_echo"
    assert connects_to(log, upstream.server_port)  # the tunnel proxy's own log shows it carried the exchange
    [headers] = HeaderEcho.seen
    assert headers["authorization"] == "Bearer agent-own-token"  # never overwritten by proxy credentials
    assert "proxy-authorization" not in headers
    [entry] = read_traffic(run)
    assert entry["complete"] and entry["response"]["body"]["id"] == "resp_echo"
    assert dict(entry["request"]["headers"])["authorization"] == fingerprint("Bearer agent-own-token")
    for path in run.iterdir():
        assert PASSWORD.encode() not in path.read_bytes() and f"{USER}:".encode() not in path.read_bytes()


def test_websocket_exchange_goes_through_the_tunnel(tmp_path, tunnel):
    tunnel_port, log = tunnel
    proxies, run = chained_proxies(tmp_path, tunnel_port, "mock", transport="websocket")
    try:
        client = WebSocketClient(proxies.urls["model"], "/v1/responses")
        assert client.status == 101
        client.send(
            {"type": "response.create", "model": "m", "input": [{"type": "message", "role": "user", "content": "hi"}]}
        )
        events = client.until("response.completed")
        client.close()
        mock_port = int(proxies.upstreams["model"].rsplit(":", 1)[1].strip("/"))
    finally:
        proxies.stop()
    assert connects_to(log, mock_port)
    [entry] = read_traffic(run)
    assert entry["kind"] == "websocket" and entry["complete"]
    assert [frame["body"]["type"] for frame in entry["messages"][1:]] == [event["type"] for event in events]


def test_wrong_proxy_credentials_are_a_recorded_502(tmp_path, tunnel):
    tunnel_port, _ = tunnel
    proxies, run = chained_proxies(tmp_path, tunnel_port, "mock", password="wrong")
    try:
        status, _, _ = post_json(proxies.urls["model"], "/v1/responses", {"model": "m"})
    finally:
        proxies.stop()
    assert status == 502
    [entry] = read_traffic(run)
    assert entry["response"] is None and "407" in entry["error"]


def post_through_the_forward_channel(proxies) -> int:
    """A telemetry POST to a made-up host through the run's forward proxy, with its CA and credentials: the status."""
    host, port = proxies.forward.removeprefix("http://").split(":")
    context = ssl.create_default_context(cafile=str(proxies.ca))  # the run's CA, checks on
    connection = http.client.HTTPSConnection(host, int(port), timeout=30, context=context)
    credentials = base64.b64encode(proxies.forward_credentials.encode()).decode()
    connection.set_tunnel("telemetry.agent-example.test", 443, {"Proxy-Authorization": f"Basic {credentials}"})
    connection.request("POST", "/v1/batch", b'{"events": 1}', {"content-type": "application/json"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_forward_channel_of_all_hosts_goes_through_the_tunnel_too(tmp_path, tunnel):
    tunnel_port, log = tunnel
    # A model of this machine's that is no stand-in (a dead port: only the forward channel is used here).
    proxies, run = chained_proxies(tmp_path, tunnel_port, "http://127.0.0.1:9", all_hosts=True)
    try:
        status = post_through_the_forward_channel(proxies)
    finally:
        proxies.stop()
    assert status == 502  # the tunnel could not reach the made-up host either
    # The tunnel was asked to carry it, with the credentials it requires (else it would have answered 407).
    assert "error establishing server connection: " in log.read_text()
    [entry] = read_traffic(run)
    assert entry["proxy"] == "all-hosts" and entry["request"]["url"] == "https://telemetry.agent-example.test/v1/batch"
    assert entry["request"]["body"] == {"events": 1} and entry["response"] is None
    assert entry["error"] == f"Upstream proxy 127.0.0.1:{tunnel_port} refused HTTP CONNECT request: 502 Bad Gateway"


def test_against_the_mock_the_forward_channel_records_and_reaches_not_even_the_upstream_proxy(tmp_path, tunnel):
    """A run against a stand-in model sends nothing to other hosts: what the agent sends them is recorded whole and
    answered 403 by the forward proxy itself, which connects to nothing, the user's upstream proxy included."""
    tunnel_port, log = tunnel
    proxies, run = chained_proxies(tmp_path, tunnel_port, "mock", all_hosts=True)
    try:
        status = post_through_the_forward_channel(proxies)
    finally:
        proxies.stop()
    assert status == 403
    assert "telemetry.agent-example.test" not in log.read_text()  # the tunnel was never asked
    [entry] = read_traffic(run)
    assert entry["proxy"] == "all-hosts" and entry["request"]["url"] == "https://telemetry.agent-example.test/v1/batch"
    assert entry["request"]["body"] == {"events": 1} and entry["response"]["status"] == 403
    assert entry["error"] == OFFLINE


def test_choice_of_upstream_proxy(tmp_path):
    target = two_proxy_target(tmp_path)
    environ = {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "internal.example"}
    assert choose_upstream_proxy("none", target, environ).url is None
    assert choose_upstream_proxy("http://cli:1", target, environ).source == "--upstream-proxy"
    from_env = choose_upstream_proxy(None, target, environ)
    assert from_env.url == "http://corp:3128" and from_env.source == "HTTPS_PROXY"
    assert "internal.example" in from_env.no_proxy and "127.0.0.1" in from_env.no_proxy
    assert choose_upstream_proxy(None, target, {}).url is None
    assert choose_upstream_proxy(None, target, {}).describe() == "none"
    masked = UpstreamProxy("http://user7:p4ss@h:1", "x").describe()
    assert masked == f"http://{fingerprint('user7:p4ss')}@h:1 (from x)"  # neither name nor password shows


def test_bad_upstream_proxy_is_one_line():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.pipeline",
            "--target",
            "tests/data/itest.yaml",
            "--upstream",
            "mock",
            "--command",
            "true",
            "--upstream-proxy",
            "socks5://x:1",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: --upstream-proxy socks5://x:1: expected http://[user:pass@]host:port, or none"
    )
