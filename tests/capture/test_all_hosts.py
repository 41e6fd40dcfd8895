"""--all-hosts: a client written without agent-probe (all_hosts_client.py: the standard library, certificate checks
on) runs through the forward proxy beside the reverse one. Every host it talks to is recorded, masked, with the error
of a host it cannot reach; loopback destinations are refused; a client that does not trust the CA is recorded and the
run goes on; the proxy listens on 127.0.0.1 only; the run's CA is private, outside the run folder, and gone after it;
no trust store of the user's is touched."""

import base64
import dataclasses
import hashlib
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, WebSocketClient, read_traffic, two_proxy_target
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from secret_oracles import leaks, scanners_findings

from probe.capture.forward import forward_environment
from probe.capture.proxies import start_proxies
from probe.capture.recorder.forward import OFFLINE
from probe.common.errors import TargetError
from probe.runs.logins import choose_login
from probe.runs.targets import load_target, parse_target

CLIENT = Path(__file__).with_name("all_hosts_client.py")
sys.path.insert(0, str(CLIENT.parent))
from all_hosts_client import OTLP_LOGS, SESSION, TOKEN  # noqa: E402 (the client is a script beside this module)

TELEMETRY = "https://telemetry.agent-example.test/v1/batch"
UPDATE_CHECK = "https://updates.agent-example.test/latest.json?channel=stable"
TRUST_STORES = [Path("/etc/ssl/certs/ca-certificates.crt"), Path.home() / ".mitmproxy"]


def fingerprints(paths: list[Path]) -> dict[str, str | None]:
    """Each file's SHA-256 (every file of a folder), None for what does not exist."""
    found: dict[str, str | None] = {}
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
    return found


@dataclasses.dataclass
class Run:
    folder: Path
    output: str  # what the client printed
    lines: list[dict]
    manifest: dict
    stores_before: dict
    stores_after: dict

    def line(self, method: str, url: str) -> dict:
        [found] = [line for line in self.lines if (line["request"]["method"], line["request"]["url"]) == (method, url)]
        return found


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    data = tmp_path_factory.mktemp("all-hosts-data")
    before = fingerprints(TRUST_STORES)
    steps = "model loopback distrust listening ca otlp"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(CLIENT))} {steps}"
    argv = ["--target", "openai-compatible", "--upstream", "mock", "--all-hosts", "--quiet", "--command", command]
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", *argv],
        cwd=PROJECT_ROOT, env={**os.environ, "PROBE_DATA_DIR": str(data)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [folder] = (data / "openai-compatible").iterdir()
    lines = [json.loads(text) for text in (folder / "traffic.jsonl").read_text().splitlines()]
    manifest = json.loads((folder / "manifest.json").read_text())
    return Run(folder, result.stdout, lines, manifest, before, fingerprints(TRUST_STORES))


def printed(run: Run, name: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in run.output.splitlines() if line.startswith(f"{name}: ")]


def test_other_hosts_are_recorded_whole_with_the_token_masked_and_refused_in_a_mock_run(run):
    telemetry = run.line("POST", TELEMETRY)
    assert telemetry["proxy"] == "all-hosts"
    body = telemetry["request"]["body"]
    assert body["batch"][0]["event"] == "session_start"
    assert body["api_key"].startswith("[REDACTED sha256:")
    assert body["batch"][0]["properties"]["authorization"].startswith("[REDACTED sha256:")
    # A run against the mock sends nothing to other hosts: the request is kept whole, answered 403 by the forward
    # proxy itself, with why.
    assert telemetry["response"]["status"] == 403 and telemetry["error"] == OFFLINE
    update = run.line("GET", UPDATE_CHECK)
    assert (update["proxy"], update["response"]["status"], update["error"]) == ("all-hosts", 403, OFFLINE)
    assert printed(run, "telemetry") == ["HTTP 403"] and printed(run, "update-check") == ["HTTP 403"]
    assert TOKEN not in (run.folder / "traffic.jsonl").read_text()


def test_a_cookie_in_an_otlp_protobuf_string_is_masked_as_in_otlp_json(run):
    """A log record with its body only: its bytes, tags and lengths included, are all printable (`*4\\n2Cookie: …`),
    so that it reads as text too, where no line starts with the header's name."""
    [protobuf, as_json] = [line for line in run.lines if line["request"]["url"] == OTLP_LOGS]
    # (All UTF-8, tags and lengths included, it is kept as text.)
    assert protobuf["request"]["body_format"] == "text" and as_json["request"]["body_format"] == "json"
    export = ExportLogsServiceRequest.FromString(protobuf["request"]["body"].encode())
    text = export.resource_logs[0].scope_logs[0].log_records[0].body.string_value
    [record] = as_json["request"]["body"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert text == record["body"]["stringValue"]
    assert text.startswith("Cookie: [REDACTED sha256:")
    assert SESSION not in (run.folder / "traffic.jsonl").read_text()


def test_the_model_call_goes_through_the_reverse_proxy_and_is_read_as_a_turn(run):
    [model] = [line for line in run.lines if line["proxy"] == "api"]
    assert (model["request"]["path"], model["response"]["status"]) == ("/v1/chat/completions", 200)
    assert printed(run, "answer")[0].startswith('Here is my answer to "Say hello."')
    turn = json.loads((run.folder / "turns.jsonl").read_text().splitlines()[0])
    texts = [part["text"] for value in turn["new"]["values"] for part in value.get("parts", []) if part.get("text")]
    assert texts[0] == "Say hello." and "agent-probe mock model" in texts[1]
    assert run.manifest["all_hosts"] is True and run.manifest["status"] == "complete"


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is this machine"),
        ("localhost", "refused: localhost is this machine"),
        ("2130706433", "refused: 2130706433 is this machine"),  # 127.0.0.1 as one number
        ("127.1", "refused: 127.1 is this machine"),
    ],
)
def test_a_connect_to_this_machine_is_refused_and_recorded(run, host, why):
    refused = run.line("CONNECT", f"https://{host}:9")
    assert refused["response"]["status"] == 403 and refused["error"].startswith(why)
    assert refused["complete"] is False and refused["proxy"] == "all-hosts"
    assert printed(run, f"connect {host}") == ["failed: Tunnel connection failed: 403 Forbidden"]


def test_a_plain_http_request_to_this_machine_is_refused_and_recorded(run):
    refused = run.line("GET", "http://127.0.0.1:9/admin")
    assert refused["response"]["status"] == 403 and refused["error"].startswith("refused: 127.0.0.1 is this machine")
    assert printed(run, "plain 127.0.0.1") == ["answered 403"]


def test_a_client_that_refuses_the_ca_is_recorded_by_host_and_the_run_goes_on(run):
    refused = run.line("CONNECT", "https://pinned.agent-example.test:443")
    assert refused["response"] is None and refused["complete"] is False
    assert refused["error"].startswith("tls: ") and "pinned.agent-example.test" in refused["error"]
    assert refused["request"]["body"] is None
    assert "CERTIFICATE_VERIFY_FAILED" in printed(run, "distrust")[0]
    assert printed(run, "listening")  # the client's next steps ran


def test_the_forward_proxy_listens_on_127_0_0_1_only(run):
    # /proc/net/tcp writes 127.0.0.1 as little-endian hex; nothing on IPv6, nothing on another address.
    assert printed(run, "listening") == ["/proc/net/tcp 0100007F"]


def test_the_ca_is_private_outside_the_run_folder_and_gone_after_the_run(run):
    [folder] = printed(run, "ca folder")
    path, mode = folder.rsplit(" ", 1)
    assert mode == "700" and not Path(path).exists()
    assert run.folder.resolve() not in Path(path).resolve().parents
    files = dict(line.rsplit(" ", 1) for line in printed(run, "ca file"))
    assert "mitmproxy-ca.pem" in files and set(files.values()) == {"600"}  # the key among them
    assert run.manifest["agent"]["env"]["SSL_CERT_FILE"] == f"{path}/mitmproxy-ca-cert.pem"
    for name in ("NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CODEX_CA_CERTIFICATE"):
        assert run.manifest["agent"]["env"][name] == f"{path}/mitmproxy-ca-cert.pem"
    for file in run.folder.rglob("*"):
        assert not file.is_file() or b"PRIVATE KEY" not in file.read_bytes(), file


def test_no_trust_store_of_the_users_is_touched(run):
    assert run.stores_after == run.stores_before


def test_the_secret_scanners_find_no_token_in_the_run_folder(run, tmp_path):
    files = [path for path in run.folder.rglob("*") if path.is_file()]
    assert len(files) >= 5  # traffic, manifest, the reports, turns
    assert leaks(scanners_findings(files, tmp_path), [TOKEN]) == []


def test_the_agent_gets_the_proxy_the_ca_and_its_targets_all_hosts_env_its_login_laid_over(tmp_path):
    target = parse_target(
        """
name: client
description: d
renderer: probe.apis.openai_chat.report
proxies: [{name: api, listen: 0, upstream: "https://api.example.com/"}]
agent:
  all_hosts_env: {GIT_SSL_CAINFO: "{ca}", CLIENT_PROXY: "{forward}", SSL_CERT_FILE: "{agent_home}/bundle.pem"}
  logins:
    first: {description: d, all_hosts_env: {CLIENT_PROXY: "login {forward}"}}
""",
        "client.yaml",
    )
    env = forward_environment(
        choose_login(target, None), Path("/ca/cert.pem"), "http://127.0.0.1:1", {"agent_home": "/h"}
    )
    assert env == {
        **dict.fromkeys(("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"), "http://127.0.0.1:1"),
        **dict.fromkeys(("NO_PROXY", "no_proxy"), "127.0.0.1,localhost,::1"),
        **dict.fromkeys(("NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CODEX_CA_CERTIFICATE"), "/ca/cert.pem"),
        "SSL_CERT_FILE": "/h/bundle.pem",
        "GIT_SSL_CAINFO": "/ca/cert.pem",
        "CLIENT_PROXY": "login http://127.0.0.1:1",
    }
    assert forward_environment(load_target("openai-compatible"), None, None, {}) == {}  # without --all-hosts


def test_a_target_may_not_name_a_proxy_all_hosts():
    text = "name: t\ndescription: d\nrenderer: r.m\nproxies: [{name: all-hosts, listen: 0, upstream: 'https://a.b/'}]\n"
    with pytest.raises(TargetError, match=r"proxies\[0\]\.name: all-hosts is the name of the forward proxy"):
        parse_target(text + "agent: {}\n", "t.yaml")


def proxy_authorization(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def this_machines_address() -> str:
    """This machine's address on its network (not loopback), the one a packet to elsewhere would leave from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # UDP: nothing is sent
        return probe.getsockname()[0]


@pytest.fixture
def mock_elsewhere():
    """The mock model, listening on this machine's network address: a host the forward proxy lets through."""
    process = subprocess.Popen(
        [sys.executable, "-m", "probe.mock", "--host", this_machines_address(), "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    assert line.startswith("mock listening on "), line
    yield line.removeprefix("mock listening on ").strip().rstrip("/")
    process.terminate()
    process.wait(timeout=10)


def test_sse_and_websockets_through_the_forward_proxy_are_recorded_as_through_a_reverse_one(tmp_path, mock_elsewhere):
    run = tmp_path / "run"
    run.mkdir()
    proxies = start_proxies(two_proxy_target(tmp_path), run, mock_elsewhere, all_hosts=True)
    try:
        host, port = proxies.forward.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        question = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        credentials = {"Proxy-Authorization": proxy_authorization(proxies.forward_credentials)}
        connection.request("POST", f"{mock_elsewhere}/v1/chat/completions", json.dumps(question).encode(), credentials)
        streamed = connection.getresponse().read()
        connection.close()
        client = WebSocketClient(proxies.forward, f"{mock_elsewhere}/v1/responses", credentials)
        assert client.status == 101
        message = {"type": "message", "role": "user", "content": "hi"}
        client.send({"type": "response.create", "model": "m", "input": [message]})
        events = client.until("response.completed")
        client.close()
    finally:
        proxies.stop()
    assert b"data: [DONE]" in streamed
    sse, socket_line = read_traffic(run)
    assert (sse["proxy"], sse["kind"], sse["complete"]) == ("all-hosts", "http", True)
    assert sse["request"]["url"] == f"{mock_elsewhere}/v1/chat/completions"
    assert sse["response"]["body"] == streamed.decode()
    assert (socket_line["proxy"], socket_line["kind"], socket_line["complete"]) == ("all-hosts", "websocket", True)
    assert [frame["body"]["type"] for frame in socket_line["messages"][1:]] == [event["type"] for event in events]


PLACEHOLDER_TARGET = """
name: client
description: a client whose settings name the run's CA and forward proxy
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  env: {SEEN: "{run}/seen", CLIENT_CA: "{ca}"}
  private_env: {HOME: "{agent_home}"}
  files:
    settings.json: {proxy: "{forward}"}
"""


def test_ca_and_forward_fill_the_targets_variables_and_files_too(tmp_path, private_data_dir):
    target = tmp_path / "client.yaml"
    target.write_text(PLACEHOLDER_TARGET)
    script = 'cat "$HOME/settings.json" > "$SEEN.json"; test -s "$CLIENT_CA" && echo "$CLIENT_CA" > "$SEEN.ca"'
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--all-hosts", "--quiet",
         "--command", script],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "client").iterdir()
    env = json.loads((run / "manifest.json").read_text())["agent"]["env"]
    # The proxy URL with the run's credentials (in the run folder, the password is masked; in the manifest, both).
    [proxy] = json.loads((run / "seen.json").read_text()).values()
    assert proxy.startswith("http://agent-probe:[REDACTED sha256:")
    assert env["HTTPS_PROXY"].startswith("http://[REDACTED sha256:")
    assert proxy.rsplit("@", 1)[1] == env["HTTPS_PROXY"].rsplit("@", 1)[1]  # 127.0.0.1:PORT
    assert (run / "seen.ca").read_text().strip() == env["SSL_CERT_FILE"] == env["CLIENT_CA"]
