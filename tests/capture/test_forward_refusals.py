"""--all-hosts' forward proxy serves only the run's agent and reaches no service of this machine. For every spelling
of this machine (an IPv4 address in each form inet_aton reads, IPv6 and IPv4 mapped into it, the unspecified and
link-local addresses, names under `localhost`, names the resolver maps here such as this machine's own), by CONNECT
and by plain GET, without an upstream proxy, with one given (--upstream-proxy) and with one taken from HTTPS_PROXY
at the start, a loopback-only service that counts every connection is never reached: each is answered 403 and
recorded as refused. A client without the run's credentials gets 407 and nothing is forwarded."""

import base64
import os
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import read_traffic, two_proxy_target

from probe.capture import forward
from probe.capture.ports import free_port
from probe.capture.proxies import find_mitmdump, start_proxies
from probe.capture.recorder import forward as recorder_forward
from probe.capture.upstreams import UpstreamProxy, choose_upstream_proxy

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("forward-refusals")]


def this_machine_spellings(port: int) -> list[str]:
    """host:port for every spelling of this machine a client may give."""
    hosts = [
        "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "0177.1",
        "127.000.000.001", "127.0.0.2", "127.255.255.254", "0.0.0.0", "0", "0x0", "0.1.2.3",
        "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::]", "[::ffff:0.0.0.0]",
        "169.254.169.254", "[fe80::1]",
        "localhost", "localhost.", "LOCALHOST", "agent.localhost", "agent.localhost.",
    ]  # fmt: skip
    own_name = socket.gethostname()  # resolved by this machine's resolver (here /etc/hosts) to a loopback address
    if socket.gethostbyname(own_name).startswith("127."):
        hosts.append(own_name)
    return [f"{host}:{port}" for host in hosts]


class CountingHandler(socketserver.BaseRequestHandler):
    """Keeps what each connection sent first, and answers it with a 200."""

    def handle(self) -> None:
        self.request.settimeout(5)
        self.server.reached.append(self.request.recv(4096))
        self.request.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nreached")


@pytest.fixture(scope="module")
def service():
    """A service on 127.0.0.1 only that counts each connection it accepts (`reached`)."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), CountingHandler) as server:
        server.reached, server.port = [], server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server
        server.shutdown()


@pytest.fixture(scope="module")
def upstream_proxy(tmp_path_factory, service):
    """A real upstream proxy (mitmdump, tunnelling without looking) that carries whatever it is asked to, this
    machine's services included: what it is not asked to carry, the forward proxy refused."""
    port = free_port()
    log = tmp_path_factory.mktemp("upstream") / "upstream.log"
    with open(log, "wb") as output:
        argv = [find_mitmdump(), "--mode", f"regular@{port}", "--listen-host", "127.0.0.1", "--ignore-hosts", ".*"]
        process = subprocess.Popen([*argv, "--set", "termlog_verbosity=debug"], stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while "proxy listening" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    # It reaches the service when asked directly, whatever the spelling: so the refusals below are the forward
    # proxy's own.
    assert ask(("127.0.0.1", port), None, "GET", f"127.1:{service.port}") == 200 and len(service.reached) == 1
    service.reached.clear()
    yield f"http://127.0.0.1:{port}", log
    process.terminate()
    process.wait(timeout=10)


def ask(proxy: tuple[str, int], credentials: str | None, method: str, authority: str) -> int:
    """One request through the proxy, as a client sends it: a CONNECT to `authority` then a GET inside the tunnel,
    or a plain GET of http://authority/; the status of the proxy's answer (or of the tunnel's)."""
    auth = f"Proxy-Authorization: Basic {base64.b64encode(credentials.encode()).decode()}\r\n" if credentials else ""
    target = authority if method == "CONNECT" else f"http://{authority}/"
    with socket.create_connection(proxy, timeout=30) as connection:
        connection.sendall(f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\n{auth}\r\n".encode())
        answer = connection.makefile("rb")
        status = int(answer.readline().split()[1])
        if method == "CONNECT" and status == 200:
            while answer.readline() not in (b"\r\n", b""):
                pass
            connection.sendall(f"GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
            status = int(answer.readline().split()[1])
        return status


MODES = ("no upstream proxy", "--upstream-proxy", "HTTPS_PROXY at the start")


@pytest.fixture(scope="module", params=MODES)
def proxies(request, tmp_path_factory, upstream_proxy):
    """One run's proxies with --all-hosts in each mode, recording into their own run folder."""
    folder = tmp_path_factory.mktemp("run")
    target = two_proxy_target(folder)
    url, _ = upstream_proxy
    chosen = {
        MODES[0]: UpstreamProxy(None, "none"),
        MODES[1]: choose_upstream_proxy(url, target, {}),
        MODES[2]: choose_upstream_proxy(None, target, {"HTTPS_PROXY": url, "NO_PROXY": "internal.example"}),
    }[request.param]
    assert (chosen.url is None) == (request.param == MODES[0])
    running = start_proxies(target, folder, None, upstream_proxy=chosen, all_hosts=True)
    yield running, folder
    running.stop()


def recorded(folder, count: int) -> list[dict]:
    """traffic.jsonl once it holds `count` lines (the last is written just after its answer went out)."""
    deadline = time.monotonic() + 10
    while len(lines := read_traffic(folder)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines


def address(running) -> tuple[str, int]:
    host, port = running.forward.removeprefix("http://").split(":")
    return host, int(port)


def test_no_spelling_of_this_machine_reaches_its_services_by_connect_or_plain_get(proxies, service):
    running, folder = proxies
    table = [(method, authority) for authority in this_machine_spellings(service.port) for method in ("CONNECT", "GET")]
    answers = {(method, authority): ask(address(running), running.forward_credentials, method, authority)
               for method, authority in table}  # fmt: skip
    not_refused = {cell: status for cell, status in answers.items() if status != 403}
    assert not not_refused and service.reached == []
    # Each is recorded as refused, with what the client named.
    lines = recorded(folder, len(table))
    refused = [line for line in lines if line["error"] and line["error"].startswith("refused: ")]
    assert len(refused) == len(table) == len(lines)
    assert all(line["response"]["status"] == 403 and line["proxy"] == "all-hosts" for line in refused)
    connects = sorted(line["request"]["url"] for line in refused if line["request"]["method"] == "CONNECT")
    assert connects == sorted(f"https://{authority}" for method, authority in table if method == "CONNECT")


def test_a_client_without_the_runs_credentials_gets_407_and_nothing_is_forwarded(proxies, upstream_proxy, service):
    running, folder = proxies
    _, log = upstream_proxy
    logged = log.stat().st_size
    before = len(read_traffic(folder))
    user = forward.PROXY_USER
    wrong = [None, f"{user}:wrong", f"{user}:{running.forward_credentials.split(':', 1)[1]}x", f"other:{user}"]
    for credentials in wrong:
        for method in ("CONNECT", "GET"):
            for authority in ("elsewhere.invalid:443", f"127.0.0.1:{service.port}"):
                status = ask(address(running), credentials, method, authority)
                assert status == 407, (credentials, method, authority, status)
    assert service.reached == []
    with open(log, "rb") as upstream_log:
        upstream_log.seek(logged)
        assert b"client connect" not in upstream_log.read()  # the upstream proxy was asked nothing
    lines = recorded(folder, before + len(wrong) * 4)[before:]
    assert len(lines) == len(wrong) * 4
    assert {line["error"] for line in lines} == {recorder_forward.NO_CREDENTIALS}
    assert {line["response"]["status"] for line in lines} == {407}
    # With them, a host elsewhere is forwarded (and fails: it does not exist), with the credentials taken off.
    assert ask(address(running), running.forward_credentials, "GET", "elsewhere.invalid") == 502
    [line] = recorded(folder, before + len(lines) + 1)[before + len(lines) :]
    assert line["request"]["url"] == "http://elsewhere.invalid/" and line["error"] and line["response"] is None
    assert "proxy-authorization" not in {name.lower() for name, _ in line["request"]["headers"]}


def test_the_credentials_are_handed_to_the_agent_only(proxies):
    running, folder = proxies
    password = running.forward_credentials.split(":", 1)[1]
    assert len(password) >= 32 and running.forward_credentials.startswith(f"{forward.PROXY_USER}:")
    assert running.agent_forward == f"http://{running.forward_credentials}@127.0.0.1:{address(running)[1]}"
    # Never in mitmdump's argv (every user reads it), never shown, never in the run folder.
    assert password.encode() not in Path(f"/proc/{running.process.pid}/cmdline").read_bytes()
    assert password not in "\n".join(running.describe()) and str(running.proxy_url_file) in running.describe()[-1]
    assert not [path for path in folder.rglob("*") if path.is_file() and password.encode() in path.read_bytes()]
    # For `proxies`' user: a file of the CA's private folder, its owner's only, gone with the run.
    assert running.proxy_url_file.parent == running.ca_folder
    assert running.proxy_url_file.read_text() == running.agent_forward + "\n"
    assert os.stat(running.proxy_url_file).st_mode & 0o777 == 0o600
    assert recorder_forward.FORWARD_AUTH_VARIABLE == forward.FORWARD_AUTH_VARIABLE
