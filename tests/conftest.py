"""Shared fixtures: real proxies in a temporary run folder, clients for HTTP and WebSocket, the agent."""

import base64
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from probe.capture import agents
from probe.capture.proxies import start_proxies
from probe.runs.targets import load_target, parse_target

# a skip fails the nox test sessions; which test runs where; one Chromium per worker for the viewer tests; xdist
# groups hold under pytest 9.2; how many examples a property test tries; one PostgreSQL per worker for the lake
pytest_plugins = ["no_skips", "placement", "browser", "xdist_groups", "search_budget", "postgres_server", "s3_server"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OLDER_CODEX = "0.166.0"  # a version before the pinned one, to compare with (.ci/run installs it too)
# agent-probe's own cache (compiled secret rules), kept where it is for a test that gives a run another HOME: else
# each process of that run lists and compiles the rules again, seconds each.
SHARED_CACHE = {"XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")}


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory):
    """The state folder, and in it the key that signs saved readings and the runs recorded here, is one of the
    session's own, never the user's: the same for every test and fixture, as it is on one machine (a run recorded
    by a session-wide fixture is recorded here for every test that replays it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """Every test records under its own temporary data/ folder, never into the checkout's."""
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session")
def codex_program():
    """The pinned codex in .agents/, installed from npm if it is missing: the mock is faithful to that version."""
    return str(agents.ensure_installed(load_target("codex")))


@pytest.fixture(scope="session")
def older_codex_program():
    """codex 0.166.0 in .agents/, beside the pinned one, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("codex"), OLDER_CODEX))


@pytest.fixture(scope="session")
def claude_program():
    """The pinned Claude Code in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("claude-code")))


@pytest.fixture(scope="session")
def opencode_program():
    """The pinned opencode in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("opencode")))


@pytest.fixture(scope="session")
def kilo_program():
    """The pinned Kilo in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("kilo")))


@pytest.fixture(scope="session")
def qwen_program():
    """The pinned Qwen Code in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("qwen-code")))


@pytest.fixture(scope="session")
def gemini_program():
    """The pinned gemini-cli in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("gemini")))


@pytest.fixture(scope="session")
def copilot_program():
    """The pinned GitHub Copilot CLI in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("copilot")))


@pytest.fixture(scope="session")
def continue_program():
    """The pinned Continue CLI (`cn`) in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("continue")))


@pytest.fixture(scope="session")
def pi_program():
    """The pinned pi in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("pi")))


@pytest.fixture(scope="session")
def vibe_program():
    """The pinned Mistral Vibe in its own virtualenv in .agents/ (made by a Python 3.12 or newer), installed from
    PyPI if it is missing."""
    return str(agents.ensure_installed(load_target("mistral-vibe")))


@pytest.fixture(scope="session")
def kimi_program():
    """The pinned Kimi CLI in .agents/, installed from PyPI (with Python 3.13 or newer) if it is missing."""
    return str(agents.ensure_installed(load_target("kimi-cli")))


@pytest.fixture(scope="session")
def grok_program():
    """The pinned Grok CLI (`grok`) in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("grok-cli")))


@pytest.fixture(scope="session")
def openhands_program():
    """The pinned OpenHands CLI in .agents/, installed from PyPI (with Python 3.12) if it is missing."""
    return str(agents.ensure_installed(load_target("openhands")))


def pipeline_against_mock(
    target: str, program: str, data_dir: Path, prompt: str, *options: str, agent_args: tuple[str, ...] = ()
):
    """`invoke pipeline --target T --upstream mock` with the agent's pinned program first on PATH, in a fresh
    working folder (as the samples are recorded: the agent sees the same surroundings in every run, and never
    this repository); returns the finished process and the run folder. `options` replace the default
    `--port api=0`; `agent_args` go to the agent, after `--`."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "pipeline", "-t", target, "-u", "mock", "-p", prompt,
         *(options or ("--port", "api=0")), "--workdir", "fresh", "--timeout", "120",
         *(("--", *agent_args) if agent_args else ())],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    [run] = (data_dir / target).iterdir()
    return result, run


# The group of every test that reads the session's fresh runs (fresh_runs, subagent_runs): under xdist a session
# fixture is each worker's own, so the tests that share its runs go to one worker, which starts each agent once.
FRESH_RUNS = pytest.mark.xdist_group("fresh-runs")


@pytest.fixture(scope="session")
def fresh_pipelines(tmp_path_factory, codex_program, claude_program) -> dict:
    """The finished pipelines behind fresh_runs, by target: (the process, the run folder). The end-to-end modules
    of codex (over HTTP) and Claude Code check these same runs, made once for them and the readers of fresh_runs."""
    data_dir = tmp_path_factory.mktemp("fresh-runs")
    prompt = "write a hello world function"
    codex = ("--port", "model=0", "--port", "backend=0", "--mock-transport", "http")
    return {
        "codex": pipeline_against_mock("codex", codex_program, data_dir, prompt, *codex),
        "claude-code": pipeline_against_mock("claude-code", claude_program, data_dir, prompt),
    }


@pytest.fixture(scope="session")
def fresh_runs(fresh_pipelines):
    """A data folder holding a fresh codex run (HTTP transport) and a fresh Claude Code run against the mock, for
    the tests that read runs back (SQL, OTLP) and compare with their traffic.jsonl. Read them; do not change them."""
    for result, _ in fresh_pipelines.values():
        assert result.returncode == 0, result.stderr[-2000:]
    (_, codex_run), (_, claude_run) = fresh_pipelines["codex"], fresh_pipelines["claude-code"]
    return codex_run.parents[1], codex_run, claude_run


def claude_and_codex(data_dir: Path, prompt: str, claude_program: str, codex_program: str) -> dict:
    """Claude Code, then codex over WebSocket (the mock's default), given one prompt against the mock, by target:
    (the process, the run folder)."""
    codex = ("--port", "model=0", "--port", "backend=0")
    return {
        "claude-code": pipeline_against_mock("claude-code", claude_program, data_dir, prompt),
        "codex": pipeline_against_mock("codex", codex_program, data_dir, prompt, *codex),
    }


@pytest.fixture(scope="session")
def subagent_pipelines(tmp_path_factory, codex_program, claude_program) -> dict:
    """The finished pipelines behind subagent_runs, by target: (the process, the run folder). The end-to-end
    module of sub-agents checks these same runs (codex's over WebSocket, the mock's default)."""
    prompt = "spawn a sub-agent to write a hello world function"
    return claude_and_codex(tmp_path_factory.mktemp("subagent-runs"), prompt, claude_program, codex_program)


@pytest.fixture(scope="session")
def parallel_pipelines(tmp_path_factory, codex_program, claude_program) -> dict:
    """Claude Code and codex (over WebSocket) told to spawn two sub-agents, which the mock has them start side by
    side (probe/mock/subagents.py), by target: (the process, the run folder). Made once for the time checks."""
    prompt = "spawn two sub-agents to write a hello world function"
    return claude_and_codex(tmp_path_factory.mktemp("parallel-runs"), prompt, claude_program, codex_program)


@pytest.fixture(scope="session")
def subagent_runs(subagent_pipelines):
    """A data folder holding a fresh Claude Code run and a fresh codex run (over WebSocket) in which the mock made
    the main agent spawn a child, and the child a grandchild (probe/mock/subagents.py). Read them; do not change
    them."""
    for result, _ in subagent_pipelines.values():
        assert result.returncode == 0, result.stderr[-2000:]
    runs = [run for _, run in subagent_pipelines.values()]
    return runs[0].parents[1], runs


def two_proxy_target(tmp_path) -> object:
    text = """
name: itest
description: two proxies for integration tests
renderer: probe.apis.openai_responses.report
proxies:
  - {name: model, listen: 0, upstream: "https://api.openai.com/"}
  - {name: backend, listen: 0, upstream: "https://chatgpt.com/"}
agent:
  command: ["true"]
redact_headers: [x-custom-secret]
"""
    path = tmp_path / "itest.yaml"
    path.write_text(text)
    return parse_target(text, str(path), path)


@pytest.fixture
def proxied(tmp_path):
    """Start real proxies recording into a run folder; yields a starter taking (upstream, transport)."""
    started = []
    run = tmp_path / "run"
    run.mkdir()

    def start(upstream="mock", transport="http"):
        proxies = start_proxies(two_proxy_target(tmp_path), run, upstream, mock_transport=transport)
        started.append(proxies)
        return proxies

    yield start, run
    for proxies in started:
        proxies.stop()


def captured_exchange(
    path: str = "/v1/responses",
    request_body=None,
    response_body="",
    *,
    host: str = "https://api.openai.com",
    request_headers=(("content-type", "application/json"),),
    response_headers=(("content-type", "text/event-stream"),),
    status: int = 200,
    timing: dict | None = None,
    **fields,
) -> dict:
    """One HTTP exchange as traffic.jsonl holds it (schema 1), the shape every test that writes a capture starts
    from: a JSON request body, a response body kept as text (an SSE stream) or as JSON. `fields` replace the
    record's own top-level fields."""
    record = {
        "schema": 1,
        "kind": "http",
        "id": "f1",
        "proxy": "model",
        "complete": True,
        "error": None,
        "timing": timing or {"start": 1000.0, "first_byte": 1000.005, "end": 1000.25},
        "request": {
            "method": "POST",
            "url": host + path,
            "path": path,
            "headers": [list(header) for header in request_headers],
            "body": request_body,
            "body_format": "json",
        },
        "response": {
            "status": status,
            "headers": [list(header) for header in response_headers],
            "body": response_body,
            "body_format": "text" if isinstance(response_body, str) else "json",
        },
    }
    return record | fields


def run_manifest(target: str = "codex", status: str = "complete", **fields) -> dict:
    """A run's manifest.json as the capture writes it, with what the tests read of it."""
    return {"schema": 1, "target": target, "status": status, "agent_exit_code": 0, "exchanges": 0} | fields


def run_with_traffic(data_dir: Path, lines: list, name: str = "20260101-000000-odd", tail: str = "") -> Path:
    """A codex run folder under `data_dir` holding only a traffic.jsonl of these lines (a string is written as it
    is: a damaged line), then `tail` (a last line cut off, say)."""
    run = data_dir / "codex" / name
    run.mkdir(parents=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (run / "traffic.jsonl").write_text(text + tail)
    return run


def read_traffic(run: Path) -> list[dict]:
    path = run / "traffic.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def post_json(base_url: str, path: str, body: dict, headers: dict | None = None, timeout: float = 30):
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    connection.request("POST", path, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


class WebSocketClient:
    """A minimal blocking WebSocket client over wsproto, enough to speak codex's protocol."""

    def __init__(self, base_url: str, path: str, headers: dict | None = None):
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"{extra}\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        self.status = int(head.split(b" ", 2)[1])
        self.connection = Connection(ConnectionType.CLIENT)
        self.pending: list[str] = []
        self.partial = ""

    def send(self, payload: dict) -> None:
        self.sock.sendall(self.connection.send(TextMessage(data=json.dumps(payload))))

    def receive(self) -> dict:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("socket closed")
            self.connection.receive_data(data)
            for event in self.connection.events():
                if isinstance(event, TextMessage):
                    self.partial += event.data
                    if event.message_finished:
                        self.pending.append(self.partial)
                        self.partial = ""
        return json.loads(self.pending.pop(0))

    def until(self, event_type: str) -> list[dict]:
        events = []
        while not events or events[-1].get("type") != event_type:
            events.append(self.receive())
        return events

    def close(self) -> None:
        self.sock.close()


def wait_for(condition, timeout: float = 30.0, interval: float = 0.05):
    """What `condition()` returns once it is true, checked every `interval` seconds; its last answer after
    `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


class Rendering:
    """Renders request and response bodies through a renderer module the way the analyzer does: each is read
    into the conversation model first, one report's state kept across calls."""

    def __init__(self, renderer) -> None:
        from probe.apis.turns import TurnBuilder

        self.renderer, self.builder, self.state, self.turns = renderer, TurnBuilder(renderer), {}, {}

    def turn(self, label: str):
        from probe.read.conversation import Turn

        number = int(label.lstrip("#"))
        return self.turns.setdefault(
            label,
            Turn(
                number=number,
                line=number,
                kind="http",
                proxy="p",
                method="POST",
                path="/",
                status=200,
                complete=True,
                api=self.renderer.API,
            ),
        )

    def request(self, body, label: str = "#1"):
        turn = self.turn(label)
        self.builder.request(turn, body, [])
        if turn.input or turn.previous_response_id:
            self.state["last_context"] = (turn.number, self.builder.contexts_of[turn.number], [])
        return self.renderer.render_request(turn, label, self.state)

    def response(self, events, body=None, label: str = "#1"):
        turn = self.turn(label)
        self.builder.response(turn, events, body, [])
        if turn.input or turn.previous_response_id:
            self.state["last_context"] = (turn.number, self.builder.last_context[1], turn.output)
        return self.renderer.render_response(turn, label, self.state)

    def epilogue(self):
        return self.renderer.render_epilogue(self.state)


@contextlib.contextmanager
def serving(handler):
    """A threaded HTTP server for a test's request handler on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def answer_with_chunked_sse(handler) -> bytes:
    """For a test upstream's do_POST: read the request's body, send the headers of a chunked SSE answer, and
    return the body read."""
    body = handler.rfile.read(int(handler.headers["content-length"]))
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    return body


def send_chunk(handler, data: bytes) -> None:
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def tokens_line(turns: list[dict[str, int | None]]) -> str:
    """The report's token line for turns' normalised counts, worked out here from the API's own fields: a kind
    every turn reported is summed, one some reported says how many, one none reported is named."""
    words = {"input": "input", "cache_read": "cache read", "cache_write": "cache write", "output": "output",
             "reasoning": "reasoning"}  # fmt: skip
    shown, missing = [], []
    for kind, word in words.items():
        counts = [turn[kind] for turn in turns if turn.get(kind) is not None]
        if not counts:
            missing.append(word)
            continue
        some = f" ({len(counts)} of the {len(turns)})" if len(counts) < len(turns) else ""
        shown.append(f"{word} {sum(counts):,}{some}")
    line = f"- Tokens: {len(turns)} turns with usage: {', '.join(shown)}"
    return line + (f"; not reported: {', '.join(missing)}" if missing else "")
