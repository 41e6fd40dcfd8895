"""A run's MCP record and join, built by hand as probe.read.mcp and probe.analyse.mcp would give them, beside the
Claude Code sample whose one tool call is renamed `mcp__fs__read_file`: a stdio server `fs` with a joined tools/call,
a resources/read, a sampling request the agent refused, a call never answered and a tools/list change; and an HTTP
server whose captured names are hostile."""

import json
import shutil
from pathlib import Path

from conftest import PROJECT_ROOT

from probe.analyse import run_summary
from probe.analyse.mcp import facts as facts_module
from probe.analyse.mcp.model import JoinedCall, McpFacts, ServerShare, ToolsChange
from probe.read.mcp.model import McpCall, McpRecording, McpSession, ToolsListing

SAMPLE = PROJECT_ROOT / "data" / "claude-code" / "20261125-122623-sample-mock"
CALL_ID = "toolu_37c0d2c0674849fea33fa197"  # the sample's one tool call (turn 1, answered in turn 2)
ASKED_AT, ANSWERED_AT = 1795609585.2261071, 1795609585.6744356
HOSTILE = "ev|il <img src=x onerror=alert(1)> `x`"


def mcp_run(data_dir: Path) -> Path:
    """The sample, copied, with its Bash tool renamed as Claude Code names an MCP server's tool."""
    run = data_dir / "claude-code" / SAMPLE.name
    run.mkdir(parents=True)
    traffic = (SAMPLE / "traffic.jsonl").read_text()
    for named in ('"name":"Bash"', '\\"name\\": \\"Bash\\"'):  # its definitions, and its call in the stream
        traffic = traffic.replace(named, named.replace("Bash", "mcp__fs__read_file"))
    (run / "traffic.jsonl").write_text(traffic)
    shutil.copy(SAMPLE / "manifest.json", run / "manifest.json")
    return run


def recording() -> McpRecording:
    read = McpCall("fs", "3", "tools/call", "agent", tool="read_file", arguments={"path": "/work/notes.txt"},
                   result={"content": [{"type": "text", "text": "hello"}]}, started=ASKED_AT + 0.1,
                   ended=ASKED_AT + 0.112, request_size=120, answer_size=300)  # fmt: skip
    resource = McpCall("fs", "4", "resources/read", "agent", arguments={"uri": "file:///work/a.txt"},
                       result={"contents": []}, started=ASKED_AT + 0.2, ended=ASKED_AT + 0.205)  # fmt: skip
    sampling = McpCall("fs", '"s1"', "sampling/createMessage", "server", arguments={"maxTokens": 10},
                       error={"code": -1, "message": "User rejected sampling request"}, started=ASKED_AT + 0.3,
                       ended=ASKED_AT + 0.301)  # fmt: skip
    lost = McpCall("fs", "5", "tools/call", "agent", tool="write_file", arguments={"path": "/work/b.txt"},
                   error={"message": "no answer"}, started=ANSWERED_AT + 1.0)  # fmt: skip
    listing = ToolsListing(ASKED_AT - 1, [{"name": "read_file"}, {"name": "list_directory"}, {"name": "write_file"}])
    fs = McpSession("fs", "stdio", command=["npx", "-y", "@modelcontextprotocol/server-filesystem", "/work"],
                    protocol_version="2025-06-18", server_info={"name": "secure-filesystem-server", "version": "0.2.0"},
                    started=ASKED_AT - 2, ended=ANSWERED_AT + 2, exit="exit code 0", listings=[listing],
                    calls=[read, resource, sampling, lost],
                    problems=["a line of stdout was not JSON: starting"])  # fmt: skip
    odd_call = McpCall(HOSTILE, "1", "tools/call", "agent", tool=HOSTILE, arguments={"q": HOSTILE},
                       result={"content": []}, started=ASKED_AT + 0.05, ended=ASKED_AT + 0.5)  # fmt: skip
    odd = McpSession(HOSTILE, "http", url="http://127.0.0.1:9/mcp", server_info={"name": HOSTILE}, calls=[odd_call])
    return McpRecording({"fs": fs, HOSTILE: odd})


def facts() -> McpFacts:
    joined = JoinedCall("fs", "read_file", "3", ASKED_AT + 0.1, ASKED_AT + 0.112, server_s=0.012,
                        model_tool="mcp__fs__read_file", call_id=CALL_ID, asked_in=1, asked_at=ASKED_AT,
                        answered_at=ANSWERED_AT, answered_in=2, agent_wait_s=0.4483, agent_own_s=0.4363,
                        result_sent="changed", result_chars=5, sent_chars=7, agent="main",
                        matched_by="name")  # fmt: skip
    lost = JoinedCall("fs", "write_file", "5", ANSWERED_AT + 1.0, None, server_s=None, error="no answer")
    share = ServerShare("fs", tools=3, names=["read_file", "list_directory", "write_file"], tokens=6210, share=0.23,
                        requests=2, every_request=True, calls=2, failed=1, server_s=0.012)  # fmt: skip
    deferred = ServerShare("docs", tools=14, names=[], deferred=True, deferred_tools=14, tokens=120, share=0.004,
                           requests=1)  # fmt: skip
    change = ToolsChange(2, "fs", added=["write_file"], notified_at=ASKED_AT + 0.4)
    return McpFacts(calls=[joined, lost], servers=[share, deferred], changes=[change], recording=recording())


def records(path: Path, kind: str) -> list[dict]:
    return [record for record in map(json.loads, path.read_text().splitlines()) if record["record"] == kind]


def join_as(monkeypatch, facts_of) -> None:
    """The analysis, and the diff's run summary, take `facts_of(folder)` as a run's MCP record joined."""

    def joined(folder, turns, setup):
        return facts_of(folder)

    monkeypatch.setattr(facts_module, "mcp_facts", joined)
    monkeypatch.setattr(run_summary, "mcp_facts", joined)
