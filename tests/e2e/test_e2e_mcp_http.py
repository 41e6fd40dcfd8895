"""Claude Code against the mock with server-everything over streamable HTTP, given as `--mcp-server ev=URL`: the
agent reaches the server through the run's MCP proxy, and mcp.jsonl holds its initialize, tools/list and the
tools/call the mock asks for, with the answer the model then got; none of it is taken for a model exchange."""

import json

import mcp_http_fixtures
import pytest
from conftest import pipeline_against_mock, read_traffic
from mcp_http_fixtures import mcp_lines

pytestmark = pytest.mark.e2e
everything_url = mcp_http_fixtures.everything_url
ECHOED = "Echo: agent-probe MCP call"  # the mock's echo call (probe/mock/mcp_calls.py), as the server answers it


def test_claude_code_through_the_http_mcp_proxy(tmp_path, claude_program, everything_url):
    result, run = pipeline_against_mock(
        "claude-code", claude_program, tmp_path, "say hello", "--port", "api=0", "--mcp-server", f"ev={everything_url}"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "proxy mcp ev  http://127.0.0.1:" in result.stderr and f"/mcp -> {everything_url}" in result.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["mcp"]["servers"] == [{"name": "ev", "transport": "http", "url": everything_url, "from": "option"}]

    lines = mcp_lines(run)
    assert lines[0] | {"t": 0} == {
        "t": 0,
        "server": "ev",
        "transport": "http",
        "event": "started",
        "url": everything_url,
    }
    # Requests by the agent and answers by the server (the server asks the agent too, with ids of its own).
    asked = [line for line in lines if line.get("from") == "agent" and "id" in line.get("message", {})]
    answers = {
        line["message"]["id"]: line
        for line in lines
        if line.get("from") == "server" and {"result", "error"} & set(line.get("message") or {})
    }
    by_method = {line["message"]["method"]: line for line in asked if "method" in line["message"]}
    initialize = by_method["initialize"]
    assert initialize["message"]["params"]["clientInfo"]["name"] == "claude-code"
    started = answers[initialize["message"]["id"]]
    assert started["message"]["result"]["serverInfo"]["name"] == "mcp-servers/everything"
    session = started["http"]["session"]
    assert session and started["http"]["status"] == 200
    listed = answers[by_method["tools/list"]["message"]["id"]]
    assert "echo" in [tool["name"] for tool in listed["message"]["result"]["tools"]]
    call = by_method["tools/call"]
    assert call["message"]["params"]["name"] == "echo" and call["http"]["session"] == session
    answer = answers[call["message"]["id"]]["message"]["result"]
    assert answer["content"] == [{"type": "text", "text": ECHOED}]
    # The model got that answer as the tool's result; the model API's proxy carried only model exchanges.
    traffic = read_traffic(run)
    assert {line["proxy"] for line in traffic} == {"api"}
    assert ECHOED in json.dumps(traffic[-1]["request"]["body"])
