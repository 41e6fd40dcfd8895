"""A run's MCP servers in report.md, insight.jsonl and the SQL view `mcp_calls`: made from the record and join handed
to the analysis (built by hand in mcp_models), beside the Claude Code sample whose tool call is an MCP server's."""

import os
import shutil
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import mcp_models
import pytest
from conftest import serving
from mcp_models import CALL_ID, HOSTILE, facts, join_as, mcp_run, records
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from probe.analyse.mcp.model import JoinedCall, ServerShare, ToolsChange
from probe.analysis import export, sql
from probe.analysis.report import analyze_run
from probe.read.mcp.model import McpCall, McpSession, ToolsListing
from probe.runs import ledger
from probe.write.diff import diff_runs
from probe.write.mcp_records import error_text
from probe.write.mcp_section import call_row, change_line, share_line


@pytest.fixture
def analysed(private_data_dir, monkeypatch):
    run = mcp_run(private_data_dir)
    join_as(monkeypatch, lambda folder: facts())
    analyze_run(run)
    return run


def section(report: str, heading: str) -> str:
    return report.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_report_names_each_server_its_share_and_each_call_beside_the_models(analysed):
    report = (analysed / "report.md").read_text()
    servers = section(report, "## MCP servers")
    fs = servers.split("\n### `fs`\n", 1)[1].split("\n### ", 1)[0]
    assert "- MCP server `fs`: 3 tools, 6,210 tokens in every request (23 %)" in fs
    assert "- Transport: stdio, command `npx -y @modelcontextprotocol/server-filesystem /work`" in fs
    assert "- Server: `secure-filesystem-server` `0.2.0`, protocol `2025-06-18`" in fs
    assert "- Tools listed: 3 tools (`read_file`, `list_directory`, `write_file`)" in fs
    assert "- Ended: exit code 0" in fs
    assert "- Calls: 4 requests, 2 of them tools/call (1 failed)" in fs
    rows = [line for line in fs.splitlines() if line.startswith("| ")]
    assert rows[0] == "| turn | tool | arguments | server | agent's wait | result sent | failed |"
    assert rows[1] == (
        '| #1 | `read_file` (model: `mcp__fs__read_file`) | `{"path":"/work/notes.txt"}` | 12 ms | 448 ms | changed '
        "|  |"
    )
    assert rows[2] == '| not joined | `write_file` | `{"path":"/work/b.txt"}` | no answer |  | not sent | no answer |'
    assert rows[3:5] == ["| method | params | server | error |",
                         '| `resources/read` | `{"uri":"file:///work/a.txt"}` | 5 ms |  |']  # fmt: skip
    assert "- At turn #2: added `write_file` (after the server said its tools changed)" in fs
    assert ('- `sampling/createMessage` `{"maxTokens":10}`: refused: User rejected sampling request (code -1) in 1 ms'
            in fs)  # fmt: skip
    assert "Problems:\n\n- a line of stdout was not JSON: starting" in fs
    # A server seen only in the requests: its share, said deferred.
    docs = servers.split("\n### `docs`\n", 1)[1]
    assert docs.startswith(
        "\n- MCP server `docs`: 14 tools, deferred (only their names sent, for a tool search): 120 tokens in 1 "
        "request (0.4 %)\n- Not recorded: its tools were seen in the requests only"
    )
    # The context split names each server, and the tool-call tables give the server's time beside the agent's wait.
    context = section(report, "## Context")
    assert "- MCP server `fs`: 3 tools, 6,210 tokens in every request (23 %)" in context
    tools = section(report, "## Tool calls")
    header = "| tool | calls | answered | failed | mean wait | mean MCP server time | longest wait | result chars |"
    assert header in tools
    assert "| `mcp__fs__read_file` | 1 | 1 | 0 | 448 ms | 12 ms | 448 ms |" in tools
    assert "| #1 | #2 | `mcp__fs__read_file` | `main` | 448 ms | 12 ms |  |" in tools


def test_captured_names_stay_inert_in_the_report(analysed):
    servers = section((analysed / "report.md").read_text(), "## MCP servers")
    assert "<img" not in servers
    odd = servers.split("\n### `` ev|il <\u200bimg src=x onerror=alert(1)> `x` ``\n", 1)[1]
    assert "- Transport: http, url `http://127.0.0.1:9/mcp`" in odd
    row = next(line for line in odd.splitlines() if line.startswith("| not joined"))
    assert row.startswith("| not joined | `` ev\\|il <\u200bimg src=x onerror=alert(1)> `x` `` |")


def test_insight_records_and_the_sql_view_hold_every_call_with_its_times(analysed, monkeypatch):
    insight = analysed / "insight.jsonl"
    servers = {record["server"]: record for record in records(insight, "mcp_server")}
    assert list(servers) == ["fs", HOSTILE, "docs"]
    assert servers["fs"]["tools"] == ["read_file", "list_directory", "write_file"]
    assert servers["fs"]["offered"]["tokens"] == 6210 and servers["fs"]["offered"]["share"] == 0.23
    [change] = servers["fs"]["changes"]
    assert (change["turn"], change["added"], change["removed"]) == (2, ["write_file"], [])
    assert change["notified_at"] == mcp_models.ASKED_AT + 0.4 and "server" not in change
    assert (servers["docs"]["transport"], servers["docs"]["offered"]["deferred"]) == (None, True)
    calls = records(insight, "mcp_call")
    assert [(c["server"], c["method"], c["request_id"]) for c in calls] == [
        (HOSTILE, "tools/call", "1"), ("fs", "tools/call", "3"), ("fs", "resources/read", "4"),
        ("fs", "sampling/createMessage", '"s1"'), ("fs", "tools/call", "5"),
    ]  # fmt: skip
    read = calls[1]
    assert (read["call_id"], read["asked_in"], read["answered_in"], read["agent"]) == (CALL_ID, 1, 2, "main")
    assert (read["server_seconds"], read["agent_wait_seconds"], read["result_sent"]) == (0.012, 0.4483, "changed")
    assert read["matched_by"] == "name"
    # The records come before the time model's: the Perfetto export reads the calls before it places the spans.
    kinds = [record["record"] for record in map(__import__("json").loads, insight.read_text().splitlines())]
    assert kinds.index("span") > max(index for index, kind in enumerate(kinds) if kind == "mcp_call")
    monkeypatch.setenv("PROBE_DATA_DIR", str(analysed.parents[1]))
    _, rows = sql.query([analysed], "SELECT server, method, tool, turn, seconds, server_seconds, agent_wait_seconds, "
                                    "result_sent, is_error, error FROM mcp_calls ORDER BY started")  # fmt: skip
    assert rows == [
        (HOSTILE, "tools/call", HOSTILE, None, 0.45, 0.45, None, None, False, None),
        ("fs", "tools/call", "read_file", 1, 0.012, 0.012, 0.4483, "changed", False, None),
        ("fs", "resources/read", None, None, 0.005, 0.005, None, None, False, None),
        ("fs", "sampling/createMessage", None, None, 0.001, 0.001, None, None, True,
         "User rejected sampling request (code -1)"),
        ("fs", "tools/call", "write_file", None, None, None, None, "not sent", True, "no answer"),
    ]  # fmt: skip
    names, rows = sql.query([analysed], "SELECT run_id, target FROM mcp_calls LIMIT 1")
    assert names == ["run_id", "target"] and rows[0][1] == "claude-code" and len(rows[0][0]) == 20


class Receiver(BaseHTTPRequestHandler):
    """A stand-in OTLP receiver that keeps the bodies it was sent."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self):
        Receiver.bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_otlp_sends_each_mcp_call_as_a_child_of_the_tool_span_that_caused_it(analysed, monkeypatch, capsys):
    monkeypatch.setenv("PROBE_DATA_DIR", str(analysed.parents[1]))
    join_as(monkeypatch, lambda folder: facts())  # (if refreshed)
    Receiver.bodies = []
    with serving(Receiver) as url:
        assert export.main(["--run", str(analysed), "--otlp", url]) == 0
    assert ", 1 tool spans, 0 sub-agent spans, 5 MCP spans and 0 other spans sent to" in capsys.readouterr().out
    spans = [span for body in Receiver.bodies
             for resource in ExportTraceServiceRequest.FromString(body).resource_spans
             for scope in resource.scope_spans for span in scope.spans]  # fmt: skip
    attributes = {id(span): {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in span.attributes}
                  for span in spans}  # fmt: skip
    [tool] = [span for span in spans if attributes[id(span)].get("gen_ai.operation.name") == "execute_tool"
              and "mcp.method.name" not in attributes[id(span)]]  # fmt: skip
    [root] = [span for span in spans if not span.parent_span_id]
    assert attributes[id(tool)]["gen_ai.tool.call.id"] == CALL_ID and tool.parent_span_id == root.span_id
    mcp = {
        attributes[id(span)]["jsonrpc.request.id"]: span for span in spans if "mcp.method.name" in attributes[id(span)]
    }
    assert sorted(mcp) == ['"s1"', "1", "3", "4", "5"]
    read = mcp["3"]
    assert (read.name, read.parent_span_id, read.kind) == ("tools/call read_file", tool.span_id, Span.SPAN_KIND_CLIENT)
    assert attributes[id(read)] == {
        "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file",
        "jsonrpc.request.id": "3", "mcp.protocol.version": "2025-06-18", "network.transport": "pipe",
        "gen_ai.tool.call.id": CALL_ID, "agent_probe.mcp.server": "fs", "agent_probe.mcp.asked_by": "agent",
        "agent_probe.mcp.model_tool": "mcp__fs__read_file", "agent_probe.mcp.server_seconds": 0.012,
        "agent_probe.mcp.agent_wait_seconds": 0.4483, "agent_probe.mcp.result_sent": "changed",
        "agent_probe.asked_in": 1,
    }  # fmt: skip
    assert read.end_time_unix_nano - read.start_time_unix_nano == pytest.approx(12_000_000, abs=1000)
    # Calls no tool call of the model's caused sit under the run's span; a refused one is an error.
    assert {span.parent_span_id for key, span in mcp.items() if key != "3"} == {root.span_id}
    sampling = mcp['"s1"']
    assert (sampling.name, sampling.status.code) == ("sampling/createMessage", Status.STATUS_CODE_ERROR)
    assert attributes[id(sampling)]["error.type"] == "User rejected sampling request (code -1)"
    assert attributes[id(mcp["1"])]["network.transport"] == "tcp"


def test_the_diff_names_the_tools_a_server_added_or_removed_and_the_servers_only_one_run_had(
    private_data_dir, monkeypatch
):
    first = mcp_run(private_data_dir)
    second = first.with_name(first.name + "-b")
    shutil.copytree(first, second)
    changed = facts()
    fs = changed.recording.sessions["fs"]
    fs.listings.append(ToolsListing(fs.listings[-1].at + 1, [{"name": "read_file"}, {"name": "search_files"},
                                                            {"name": "list_directory"}]))  # fmt: skip
    changed.recording.sessions["git"] = McpSession("git", listings=[ToolsListing(0, [{"name": "git_log"}])])
    changed.servers = [share for share in changed.servers if share.server != "docs"]
    join_as(monkeypatch, lambda folder: changed if folder == second else facts())
    text, _ = diff_runs(first, second)
    section = text.split("\n## MCP servers\n", 1)[1].split("\n## ", 1)[0]
    assert section == (
        "\n- Only in A: `docs` (14 tools)\n- Only in B: `git` (1 tool)\n"
        "- `fs`: added `search_files`; removed `write_file` in B\n"
    )
    assert (
        "- Structural changes: " in text and "MCP servers" in text.split("- Structural changes: ", 1)[1].split("\n")[0]
    )


def test_a_record_of_mcp_servers_newer_than_the_report_has_it_made_again(analysed):
    assert ledger.out_of_date(analysed, ledger.REPORT) is None
    (analysed / "mcp.jsonl").write_text("")
    later = max((analysed / name).stat().st_mtime_ns for name in ledger.REPORT.outputs) + 1_000_000_000
    os.utime(analysed / "mcp.jsonl", ns=(later, later))
    assert ledger.out_of_date(analysed, ledger.REPORT).startswith("mcp.jsonl is newer than ")


def test_a_server_some_of_whose_tools_are_deferred_and_a_change_the_agent_made_are_said_so():
    share = ServerShare("fs", tools=14, deferred=True, deferred_tools=13, tokens=480, share=0.021, requests=3)
    assert share_line(share) == (
        "MCP server `fs`: 14 tools, 13 of them deferred (only named, for a tool search): 480 tokens in 3 requests "
        "(2.1 %)"
    )
    assert change_line(ToolsChange(3, "fs", added=["read_text_file"])) == (
        "- At turn #3: added `read_text_file` (the server had not said its tools changed: the agent changed what it "
        "offered)"
    )


def test_a_servers_error_is_one_line_of_at_most_500_characters_with_its_code():
    said = error_text({"code": -32603, "message": "Traceback:\n" + "  frame\n" * 10_000})
    assert said.startswith("Traceback: frame frame") and said.endswith("… (code -32603)")
    assert len(said) == 500 + len(" (code -32603)")


def test_a_server_only_named_and_listed_through_the_agents_exec_is_said_so_not_none_offered():
    """codex names the server as a deferred tool namespace and the model lists its tools through exec."""
    share = ServerShare("fs", deferred=True, named_tokens=5, named_in=2, listed_to_model=14,
                        listed_through="functions.exec", listed_in=3)  # fmt: skip
    assert share_line(share) == (
        "MCP server `fs`: deferred: only the server named to the model (5 tokens, first sent in turn #2), its "
        "tools' definitions not sent; 14 tools listed to the model through `functions.exec` (its result sent in "
        "turn #3)"
    )
    unlisted = ServerShare("fs", deferred=True)
    assert share_line(unlisted) == (
        "MCP server `fs`: deferred, its tools' definitions not sent; no listing of its tools seen in what the agent "
        "sent the model"
    )
    assert share_line(ServerShare("fs")) == "MCP server `fs`: none of its tools was offered to the model"


def test_a_call_row_says_where_the_wait_started_early_and_the_answer_was_stamped_late():
    call = McpCall("fs", "2", "tools/call", "agent", "read_text_file", {"path": "a"}, started=10.0, ended=10.194)
    joined = JoinedCall("fs", "read_text_file", "2", 10.0, 10.194, 0.028, model_tool="functions.exec", asked_in=3,
                        agent_wait_s=0.033, agent_own_s=0.005, result_sent="same", stamped_late_s=0.166,
                        wait_from="call")  # fmt: skip
    assert call_row(call, joined) == [
        "#3",
        "`read_text_file` (model: `functions.exec`)",
        '`{"path":"a"}`',
        "≤ 28 ms (recorded 194 ms¹)",
        "33 ms (from the call's start²)",
        "same",
        "",
    ]
