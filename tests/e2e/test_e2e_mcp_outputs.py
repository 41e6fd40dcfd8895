"""A real MCP server in every output: Claude Code runs against the mock with the reference server-filesystem over stdio
(its tools sent in full, its tools allowed), the mock calls one of them, and the report's `## MCP servers`, the SQL
view `mcp_calls` and the Perfetto trace (read back by speedscope) give that call joined to the model's, with the
figures recounted here from mcp.jsonl and insight.jsonl."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT
from mcp_servers_install import server_program
from perfetto_reading import expected_lanes, read_back

from probe.analysis import export, sql

pytestmark = pytest.mark.e2e
NOTE = "The lighthouse keeper's cat is called Periwinkle.\n"


@pytest.fixture(scope="module")
def mcp_run(tmp_path_factory, claude_program):
    folder = tmp_path_factory.mktemp("mcp-outputs")
    work = folder / "work"
    work.mkdir()
    (work / "notes.txt").write_text(NOTE)
    data = folder / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data), ENABLE_TOOL_SEARCH="false")
    env["PATH"] = f"{os.path.dirname(claude_program)}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "claude-code", "--upstream", "mock",
         "--prompt", f"Read {work / 'notes.txt'} and tell me what it says", "--workdir", str(work),
         "--mcp-server", f"fs={server_program('filesystem')} {work}", "--timeout", "150", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (data / "claude-code").iterdir()
    return run


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_call_is_joined_in_the_report_and_the_sql_view_with_its_recorded_times(mcp_run, monkeypatch):
    recorded = lines(mcp_run / "mcp.jsonl")
    [asked] = [line for line in recorded if (line.get("message") or {}).get("method") == "tools/call"]
    [answer] = [line for line in recorded if line.get("from") == "server"
                and (line.get("message") or {}).get("id") == asked["message"]["id"]]  # fmt: skip
    server_s = round(answer["t"] - asked["t"], 6)
    assert NOTE.strip() in json.dumps(answer["message"]["result"])
    [tool_call] = [record for record in lines(mcp_run / "insight.jsonl") if record["record"] == "tool_call"]
    assert tool_call["tool"] == f"mcp__fs__{asked['message']['params']['name']}"
    report = (mcp_run / "report.md").read_text()
    fs = report.split("\n### `fs`\n", 1)[1].split("\n## ", 1)[0]
    assert "- MCP server `fs`: 14 tools, " in fs and " tokens in every request (" in fs
    assert "- Server: `secure-filesystem-server` `0.2.0`" in fs
    [row] = [line for line in fs.splitlines() if line.startswith(f"| #{tool_call['asked_in']} |")]
    tool = asked["message"]["params"]["name"]
    assert row.startswith(f"| #1 | `{tool}` (model: `mcp__fs__{tool}`) | ")
    # The agent's wait from the recorded times themselves: insight's wait_ms is rounded to 0.1 ms first, which moves
    # a wait of 587.46 ms to 587.5 ms and so to 588 ms once more.
    wait_ms = (tool_call["answered_at"] - tool_call["asked_at"]) * 1000
    assert row.endswith(f" | {wait_ms:,.0f} ms | same |  |")
    monkeypatch.setenv("PROBE_DATA_DIR", str(mcp_run.parents[1]))
    _, rows = sql.query([mcp_run], "SELECT method, tool, turn, server_seconds, agent_wait_seconds, result_sent, "
                                   "is_error FROM mcp_calls WHERE method = 'tools/call'")  # fmt: skip
    assert rows == [("tools/call", tool, 1, server_s, pytest.approx(tool_call["wait_ms"] / 1000, abs=1e-3), "same",
                     False)]  # fmt: skip
    names, _ = sql.query([mcp_run], "SELECT * FROM mcp_calls")
    assert names[:4] == ["run", "server", "transport", "method"] and names[-1] == "labels_from"


def test_the_perfetto_trace_has_the_servers_lane_and_speedscope_reads_the_agents(mcp_run):
    assert export.main(["--run", str(mcp_run), "--format", "perfetto"]) == 0
    trace = mcp_run / "trace.perfetto.json"
    assert read_back(trace) == expected_lanes(mcp_run / "insight.jsonl")
    events = json.loads(trace.read_bytes())["traceEvents"]
    [pid] = [e["pid"] for e in events if e["ph"] == "M" and e["args"].get("name") == "MCP server fs"]
    calls = [record for record in lines(mcp_run / "insight.jsonl") if record["record"] == "mcp_call"]
    pairs = [(e["ph"], e["name"]) for e in events if e.get("cat") == "mcp" and e["pid"] == pid]
    assert pairs == [(phase, f"{call['method']} {call['tool']}" if call["tool"] else call["method"])
                     for call in calls for phase in "be"]  # fmt: skip
