"""Real mitmdump with the capture addon, our mock upstream, and plain HTTP and WebSocket clients."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, WebSocketClient, answer_with_chunked_sse, post_json, read_traffic, send_chunk

from probe.analysis import export
from probe.runs.targets import known_targets

SECRETS = (
    "sk-proj-" + "SECRETBEARER123456",
    "xapikey-SECRET-7890",
    "sessioncookie-SECRET-4242",
    "custom-SECRET-1",
    "sk-ant-api03-" + "BODYTOKEN12345",
    "AIza" + "SyURLPARAMSECRET1234567890",
)


def events_of(sse_body: bytes) -> list[dict]:
    return [json.loads(line[6:]) for line in sse_body.decode().splitlines() if line.startswith("data: ")]


def test_sse_exchange_is_captured_whole_and_matches_what_the_client_got(proxied):
    start, run = proxied
    proxies = start("mock", "http")
    request = {"model": "gpt-test", "input": [{"type": "message", "role": "user", "content": "hello"}], "stream": True}
    status, headers, body = post_json(proxies.urls["model"], "/v1/responses", request)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert events_of(body)[-1]["type"] == "response.completed"
    proxies.stop()
    [entry] = read_traffic(run)
    assert entry["proxy"] == "model" and entry["request"]["body"] == request
    assert entry["response"]["body"] == body.decode() and entry["complete"] is True
    assert entry["response"]["body_size"] == len(body)
    assert entry["timing"]["start"] <= entry["timing"]["first_byte"] <= entry["timing"]["end"]


class GatedStream(BaseHTTPRequestHandler):
    """Sends one SSE event, then holds the rest until the test has seen that event arrive."""

    protocol_version = "HTTP/1.1"
    gate = threading.Event()

    def do_POST(self):
        answer_with_chunked_sse(self)
        for index in range(3):
            send_chunk(self, f'data: {{"type": "tick", "n": {index}}}\n\n'.encode())
            self.wfile.flush()
            if index == 0:
                self.gate.wait(20)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def test_first_event_reaches_the_client_before_the_upstream_finishes(proxied):
    """A buffering proxy would hold event 0 until the stream ends, which here waits for event 0: deadlock."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), GatedStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{server.server_port}/")
    host, port = proxies.urls["model"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}")
        received = b""
        while b'"n": 0' not in received:
            data = client.recv(4096)
            assert data, "proxy closed the connection"
            received += data  # a socket.timeout here means the proxy buffered the stream
        GatedStream.gate.set()
        while b"0\r\n\r\n" not in received:
            received += client.recv(4096)
    server.shutdown()
    proxies.stop()
    [entry] = read_traffic(run)
    assert [event["n"] for event in events_of(entry["response"]["body"].encode())] == [0, 1, 2]
    assert len(entry["response"]["chunks"]) >= 2  # arrivals were recorded chunk by chunk


def test_websocket_exchanges_are_on_disk_while_the_socket_is_still_open(proxied):
    start, run = proxied
    proxies = start("mock", "websocket")
    client = WebSocketClient(proxies.urls["model"], "/v1/responses", {"authorization": f"Bearer {SECRETS[0]}"})
    assert client.status == 101
    client.send({"type": "response.create", "model": "m", "generate": False, "input": []})
    warmup = client.until("response.completed")
    client.send(
        {
            "type": "response.create",
            "model": "m",
            "previous_response_id": warmup[-1]["response"]["id"],
            "input": [{"type": "message", "role": "user", "content": "hi"}],
            "tools": [{"type": "function", "name": "sleep", "parameters": {"type": "object"}}],
        }
    )
    turn = client.until("response.completed")
    assert any(event["type"] == "response.function_call_arguments.done" for event in turn)
    deadline = time.monotonic() + 10
    while len(read_traffic(run)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Kill the proxy outright with the socket open: both finished exchanges must already be recorded.
    os.killpg(proxies.process.pid, signal.SIGKILL)
    proxies.process.wait()
    client.close()
    entries = read_traffic(run)
    assert [entry["seq"] for entry in entries] == [0, 1]
    assert all(entry["complete"] and entry["kind"] == "websocket" for entry in entries)
    assert entries[0]["messages"][0]["body"]["generate"] is False
    assert entries[1]["messages"][0]["body"]["previous_response_id"] == warmup[-1]["response"]["id"]
    assert [frame["body"]["type"] for frame in entries[1]["messages"][1:]] == [event["type"] for event in turn]
    assert SECRETS[0] not in (run / "traffic.jsonl").read_text()


def test_refused_upstream_is_recorded_and_the_client_gets_502(proxied):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        dead_port = probe_socket.getsockname()[1]
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{dead_port}/")
    status, _, _ = post_json(proxies.urls["model"], "/v1/responses", {"x": 1})
    assert status == 502
    proxies.stop()
    [entry] = read_traffic(run)
    assert entry["response"] is None and entry["complete"] is False
    assert "refused" in entry["error"].lower() or "connect" in entry["error"].lower()


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket, or any UDP socket, on this port (from /proc/net)."""
    found = set()
    for table, listen_state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", None), ("udp6", None)):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and (listen_state is None or fields[3] == listen_state):
                found.add(f"{table}:{address}")
    return found


def test_proxies_listen_on_loopback_only(proxied):
    start, _ = proxied
    proxies = start("mock", "http")
    for port in proxies.ports.values():
        assert listening_addresses(port) == {"tcp:0100007F"}  # 127.0.0.1, TCP, nothing else


CLIENT = """
import json, os, urllib.request
for name in ("MODEL", "BACKEND"):
    url = os.environ[f"PROBE_PROXY_{name}_URL"] + "/v1/responses?alt=sse&key=%s"
    body = {"model": "m", "input": "the key is %s, keep it safe"}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={
        "Authorization": "Bearer %s", "x-api-key": "%s", "Cookie": "session=%s", "x-custom-secret": "%s",
        "content-type": "application/json"})
    print(name, len(urllib.request.urlopen(request).read()))
"""


def test_secrets_sent_by_a_command_agent_reach_no_file_of_the_run(tmp_path, private_data_dir):
    target = tmp_path / "itest.yaml"
    target.write_text((PROJECT_ROOT / "tests" / "data" / "itest.yaml").read_text())
    script = tmp_path / "client.py"
    script.write_text(CLIENT % (SECRETS[5], SECRETS[4], *SECRETS[:4]))
    # A corporate HTTP_PROXY in the environment must not divert the client's loopback hop to the proxies.
    env = dict(os.environ, HTTP_PROXY="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.pipeline",
            "--target",
            str(target),
            "--upstream",
            "mock",
            "--mock-transport",
            "http",
            "--command",
            f"{sys.executable} {script}",
            "--label",
            "secrets",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "MODEL" in result.stdout and "BACKEND" in result.stdout
    [run] = (private_data_dir / "itest").iterdir()
    assert not (run / "flows.mitm").exists()  # made on demand, from traffic.jsonl: exported here to be searched too
    assert export.main(["--run", str(run), "--format", "mitm"]) == 0
    files = [path for path in run.rglob("*") if path.is_file()]
    assert {"traffic.jsonl", "flows.mitm", "report.md", "manifest.json"} <= {path.name for path in files}
    for path in files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, f"{secret} leaked into {path.name}"
    entries = read_traffic(run)
    assert sorted(entry["proxy"] for entry in entries) == ["backend", "model"]
    headers = {name.lower(): value for name, value in entries[0]["request"]["headers"]}
    assert all(
        headers[name].startswith("[REDACTED sha256:")
        for name in ("authorization", "x-api-key", "cookie", "x-custom-secret")
    )
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["exchanges"] == 2


def test_busy_port_gives_one_clear_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "probe.pipeline",
                "--target",
                "codex",
                "--upstream",
                "mock",
                "--command",
                "true",
                "--port",
                f"model={port}",
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: port {port} for proxy 'model' is busy; choose another with --port model=PORT (0 picks a free one)"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--target", "nope", "--prompt", "x"],
            f'error: unknown target "nope" (known targets: {", ".join(known_targets())})',
        ),
        (
            ["--target", "tests/data/garbage.yaml", "--prompt", "x"],
            "error: tests/data/garbage.yaml: line 3: invalid YAML: did not find expected ',' or ']'",
        ),
    ],
)
def test_bad_input_gives_one_line_and_no_traceback(argv, message):
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", *argv], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_pipeline_reports_a_failing_agent_and_exits_with_its_code(private_data_dir):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "pipeline",
            "--target",
            "tests/data/itest.yaml",
            "--upstream",
            "mock",
            "--command",
            "echo partial work; exit 3",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3
    [run] = (private_data_dir / "itest").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "agent-failed" and manifest["agent_exit_code"] == 3
    assert manifest["agent"]["argv"] == ["/bin/sh", "-c", "echo partial work; exit 3"]
    report = (run / "report.md").read_text()
    assert "status **agent-failed**, agent exit code 3" in report and "- Totals: 0 exchanges" in report
    assert "report: " in result.stdout and "partial work" in result.stdout


def test_proxies_script_records_until_stopped(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "probe.record",
            "proxies",
            "--target",
            "tests/data/itest.yaml",
            "--upstream",
            "mock",
            "--mock-transport",
            "http",
            "--run",
            str(run),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    model, backend = process.stdout.readline(), process.stdout.readline()
    assert model.startswith("model  http://127.0.0.1:") and " -> http://127.0.0.1:" in model
    assert backend.startswith("backend  http://127.0.0.1:")
    assert process.stdout.readline().startswith("recording into ")
    status, _, body = post_json(model.split()[1], "/v1/responses", {"model": "m", "input": "hi", "stream": True})
    assert status == 200 and b"response.completed" in body
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    [entry] = read_traffic(run)
    assert entry["proxy"] == "model" and entry["request"]["body"] == {"model": "m", "input": "hi", "stream": True}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["exchanges"] == 1


def test_timeout_bounds_the_agent(private_data_dir):
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
            "sleep 30",
            "--timeout",
            "1",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 124
    [run] = (private_data_dir / "itest").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["note"] == "agent stopped after the 1 s timeout"


class CountingStream(BaseHTTPRequestHandler):
    """Answers every request with a whole SSE stream, except `{"hold": true}`, which it never finishes."""

    protocol_version = "HTTP/1.1"
    served = 0

    def do_POST(self):
        body = json.loads(answer_with_chunked_sse(self))
        send_chunk(self, f'data: {{"type": "response.created", "n": {body["n"]}}}\n\n'.encode())
        self.wfile.flush()
        if body.get("hold"):
            time.sleep(30)
            return
        send_chunk(self, b'data: {"type": "response.completed", "response": {"id": "r"}}\n\n')
        self.wfile.write(b"0\r\n\r\n")
        CountingStream.served += 1

    def log_message(self, *args):
        pass


def test_sigkill_mid_stream_keeps_every_completed_exchange(proxied):
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingStream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start, run = proxied
    proxies = start(f"http://127.0.0.1:{server.server_port}/")
    for n in range(5):
        assert post_json(proxies.urls["model"], "/v1/responses", {"n": n})[0] == 200
    host, port = proxies.urls["model"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as held:
        body = b'{"n": 99, "hold": true}'
        held.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        received = b""
        while b"response.created" not in received:  # the sixth stream is now in the middle
            received += held.recv(65536)
        os.killpg(proxies.process.pid, signal.SIGKILL)
        proxies.process.wait()
    server.shutdown()
    entries = read_traffic(run)  # raises if any line is not valid JSON
    assert len(entries) == CountingStream.served == 5
    assert sorted(entry["request"]["body"]["n"] for entry in entries) == [0, 1, 2, 3, 4]
    assert all(entry["complete"] for entry in entries)


def test_run_folder_is_private_and_the_prompt_is_masked(private_data_dir):
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
            "--label",
            "../../escape",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "itest").iterdir()
    assert run.name.endswith("-escape") and stat.S_IMODE(run.stat().st_mode) == 0o700
    for path in run.iterdir():  # (a folder: the analysis's saved reading, probe.analysis.resume)
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path.name


def test_prompt_tokens_are_masked_in_the_manifest():
    from probe.capture.session import open_run
    from probe.runs.targets import load_target

    recording = open_run(load_target("tests/data/itest.yaml"), None, "", "use sk-proj-ABCDEFGHIJKL now", None, None)
    assert "sk-proj-" + "ABCDEFGHIJKL" not in (recording.run / "manifest.json").read_text()


EVERY_KIND_CLIENT = r"""
import base64, gzip, json, os, sys, urllib.request, zstandard
secrets = json.load(open(sys.argv[1]))
base = os.environ["PROBE_PROXY_MODEL_URL"]

def post(path, body, headers):
    request = urllib.request.Request(base + path, data=body, headers=headers)
    try:
        print(path.split("?")[0], urllib.request.urlopen(request).status)
    except urllib.error.HTTPError as error:
        print(path.split("?")[0], error.code)

escaped = "".join("\\u%04x" % ord(c) for c in secrets["escaped"])
body = ('{"model": "m", "input": "use %s", "password": "%s", "client_secret": "%s"}'
        % (escaped, secrets["password"], secrets["client_secret"])).encode()
post("/v1/files/%s/content?key=%s&alt=sse" % (secrets["path"], secrets["query"]), body, {
    "content-type": "application/json", "api-key": secrets["api-key"], "x-auth-token": secrets["x-auth-token"],
    "anthropic-api-key": secrets["anthropic-api-key"], "openai-project": secrets["openai-project"],
    "x-forwarded-for-user": "Bearer " + secrets["bearer"],
    "authorization": "Basic " + base64.b64encode(secrets["basic"].encode()).decode()})
post("/v1/responses", gzip.compress(json.dumps({"model": "m", "input": "k " + secrets["gzip"]}).encode()),
     {"content-type": "application/json", "content-encoding": "gzip"})
zstd_body = json.dumps({"model": "m", "input": secrets["zstd"]}).encode()
post("/v1/responses", zstandard.ZstdCompressor().compress(zstd_body),
     {"content-type": "application/json", "content-encoding": "zstd"})
multipart = (b'--XyZ\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n' + secrets["multipart"].encode()
             + b'\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n\x00\xff'
             + secrets["binary"].encode() + b"\x00\r\n--XyZ--\r\n")
post("/v1/uploads", multipart, {"content-type": "multipart/form-data; boundary=XyZ"})
post("/oauth/token", ("grant_type=refresh_token&refresh_token=" + secrets["form"]).encode(),
     {"content-type": "application/x-www-form-urlencoded"})
"""


def test_every_kind_of_secret_a_client_sends_reaches_no_file_of_the_run(tmp_path, private_data_dir):
    from mitmproxy import io as flow_io

    secrets = {
        "path": "ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
        "query": "plain-query-key-1",
        "api-key": "plain-api-key-2",
        "x-auth-token": "plain-auth-token-3",
        "anthropic-api-key": "plain-anthropic-4",
        "openai-project": "proj_5plain",
        "bearer": "bearer0123456789plain",
        "basic": "alice:basic-password-6",
        "escaped": "sk-ant-api03-" + "Xy7Zq9Wv2Uu4Tt6",
        "password": "plain-password-7",
        "client_secret": "plain-client-secret-8",
        "gzip": "AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv",
        "zstd": "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDf",
        "multipart": "plain-multipart-9",
        "binary": "xoxb-" + "123456789012-1234567890123-AbCdEf",
        "form": "plain-refresh-10",
        "label": "sk-" + "label0123456789abcd",
    }
    secrets_file = tmp_path / "secrets.json"  # the client reads them here, so no command line holds them
    secrets_file.write_text(json.dumps(secrets))
    script = tmp_path / "client.py"
    script.write_text(EVERY_KIND_CLIENT)
    labelled = os.environ | {"PROBE_MACHINE": "rec-box", "PROBE_USER": "ana", "PROBE_REPOSITORY": "agent-probe",
                             "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.pipeline",
            "--target",
            "tests/data/itest.yaml",
            "--upstream",
            "mock",
            "--mock-transport",
            "http",
            "--command",
            f"{sys.executable} {script} {secrets_file}",
            "--label",
            secrets["label"],
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=labelled,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(" 200") + result.stdout.count(" 404") == 5
    [run] = (private_data_dir / "itest").iterdir()
    assert secrets["label"] not in run.name and run.name.endswith("-REDACTED-sha256-" + run.name[-8:])
    assert not (run / "flows.mitm").exists()  # made on demand, from traffic.jsonl
    assert export.main(["--run", str(run), "--format", "mitm"]) == 0
    stored = [path.read_bytes() for path in run.rglob("*") if path.is_file()]
    with open(run / "flows.mitm", "rb") as file:
        flows = list(flow_io.FlowReader(file).stream())
    for flow in flows:  # a body kept as sent is still compressed: read it decoded too
        for message in (flow.request, flow.response):
            stored += [message.get_content(strict=False) or b"", message.raw_content or b""]
        stored.append(flow.request.url.encode())
    assert [flow.request.url for flow in flows] == [entry["request"]["url"] for entry in read_traffic(run)]
    import base64

    forms = {name: {value.encode(), base64.b64encode(value.encode())} for name, value in secrets.items()}
    forms["escaped"].add("".join(f"\\u{ord(c):04x}" for c in secrets["escaped"]).encode())
    for name, encodings in forms.items():
        for content in stored:
            for form in encodings:
                assert form not in content, f"the {name} secret reached the run folder"
    from probe.redact.masking import RULES_VERSION

    # The manifest names the rules the capture was masked with: its report then needs no second pass.
    assert json.loads((run / "manifest.json").read_text())["redaction"] == RULES_VERSION
    # ... and whose run it is, as the recording's environment labelled it (what a team lake credits it to)
    assert json.loads((run / "manifest.json").read_text())["labels"] == {
        "machine": "rec-box", "user": "ana", "team": None, "project": None, "repository": "agent-probe",
        "whose": "recorder",
    }  # fmt: skip
    entries = read_traffic(run)
    assert len(entries) == 5 and sum(entry["request"].get("redacted_tokens", 0) for entry in entries) >= 7
    first = entries[0]["request"]
    assert first["url"].startswith("http://127.0.0.1:") and "alt=sse" in first["url"]
    assert first["body"]["model"] == "m"  # the rest of the body is as sent


def test_a_websocket_turn_cut_short_by_the_next_request_is_recorded_incomplete(proxied):
    start, run = proxied
    proxies = start("mock", "websocket")
    client = WebSocketClient(proxies.urls["model"], "/v1/responses")
    client.send(
        {"type": "response.create", "model": "m", "input": [{"type": "message", "role": "user", "content": "first"}]}
    )
    assert client.receive()["type"] == "response.created"  # the first answer has begun, not ended
    client.send(
        {"type": "response.create", "model": "m", "input": [{"type": "message", "role": "user", "content": "second"}]}
    )
    deadline = time.monotonic() + 10
    while len(read_traffic(run)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    client.close()
    proxies.stop()
    first = read_traffic(run)[0]
    assert first["ended_by"] == "next-client-message" and first["complete"] is False
    assert first["messages"][0]["body"]["input"][0]["content"] == "first"
