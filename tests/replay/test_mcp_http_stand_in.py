"""The replay's stand-ins for HTTP MCP servers, driven by the official Python SDK's streamable HTTP client (mcp
2.3.0): each server of the recording gets a port of its own on 127.0.0.1 answering from the recorded mcp.jsonl,
as JSON or as Server-Sent Events as the recording had it, with the recorded session id; a call the recording does
not hold is a divergence named with its server."""

import http.client
import json
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT
from mcp_recordings import INITIALIZED, TOOLS, recorded_lines, write_recording
from mcp_sdk_client import a_session
from own_loop import run_apart
from test_mcp_stand_in import told


def started(recorded, divergence, *servers: str) -> tuple[subprocess.Popen, dict]:
    command = [sys.executable, "-m", "probe.replay.mcp_http_stand_in", "--recorded", str(recorded)]
    command += [part for server in servers for part in ("--server", server)]
    process = subprocess.Popen(
        command + ["--divergence", str(divergence), "--until-stdin-closes"],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return process, json.loads(process.stdout.readline())["listening"]


def stopped(process: subprocess.Popen) -> None:
    process.stdin.close()
    assert process.wait(timeout=30) == 0


@pytest.mark.mcp_sdk
def test_json_and_sse_servers_answer_the_sdk_client_from_the_recording(tmp_path):
    lines = recorded_lines("everything", "http", sse=True) + recorded_lines("plain", "http", sse=False)
    recorded = write_recording(tmp_path / "run", lines)
    divergence = tmp_path / "told.jsonl"
    process, urls = started(recorded, divergence, "everything", "plain")
    try:
        assert sorted(urls) == ["everything", "plain"] and urls["everything"] != urls["plain"]
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
        calls = [("read_file", {"path": "notes.txt"}), ("read_file", {"path": "other.txt"})]
        for name in ("everything", "plain"):
            got = run_apart(a_session(urls[name] + "/mcp", calls))
            assert got["server"].name == INITIALIZED["serverInfo"]["name"]
            assert got["tools"] == [tool["name"] for tool in TOOLS]
            assert got["results"][0] == (False, ["recorded notes: 42"])
            kind, code, message = got["results"][1]
            assert kind == "error" and code == -32000
            assert message.startswith(f"agent-probe replay: MCP server '{name}': call 4 (tools/call read_file)")
    finally:
        stopped(process)
    said = told(divergence)
    diverged = [(line["server"], line["method"], line["request"]) for line in said if line["event"] == "diverged"]
    assert diverged == [("everything", "tools/call", 4), ("plain", "tools/call", 4)]
    summaries = {line["server"]: line for line in said if line["event"] == "stopped"}
    assert summaries["plain"]["served"] == 3 and summaries["plain"]["not_asked"] == [4, 5]


def test_the_answer_keeps_the_recorded_framing_and_session(tmp_path):
    recorded = write_recording(tmp_path / "run", recorded_lines("everything", "http", sse=True))
    process, urls = started(recorded, tmp_path / "told.jsonl", "everything")
    try:
        port = int(urls["everything"].rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        initialize = {"jsonrpc": "2.0", "id": "first", "method": "initialize", "params": {}}
        connection.request("POST", "/any/path", json.dumps(initialize), {"content-type": "application/json"})
        answer = connection.getresponse()
        body = answer.read().decode()
        assert answer.status == 200 and answer.getheader("content-type") == "text/event-stream"
        assert answer.getheader("mcp-session-id") == "s-1"
        event, data = body.split("\n")[:2]
        assert event == "event: message" and json.loads(data.removeprefix("data: ")) == {
            "jsonrpc": "2.0", "result": INITIALIZED, "id": "first"}  # fmt: skip
        connection.request("POST", "/any/path", json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        accepted = connection.getresponse()
        assert accepted.status == 202 and accepted.read() == b""
        connection.request("GET", "/any/path")
        refused = connection.getresponse()
        assert refused.status == 405 and refused.getheader("allow") == "POST, DELETE" and refused.read() == b""
    finally:
        stopped(process)
