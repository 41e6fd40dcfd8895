"""MCP calls joined to the conversation, recorded for real: Claude Code 2.1.330 runs a prompt against the mock with
tests/data/mcp_server.py given by --mcp-server (started through the recording relay), its tools in full and, by
default, deferred to its ToolSearch; the mock calls one. The reader's sessions and the join's facts are recomputed
here from traffic.jsonl and mcp.jsonl: which model call caused the server's call, its times, the result as sent,
and what the server's tools cost in the requests. codex (pinned) calls it from its exec script: joined by time."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import bpe_openai
import pytest
import yaml
from conftest import PROJECT_ROOT, read_traffic

from probe.analyse.run_totals import Totals
from probe.analysis.report import stream_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.openai_responses import report as responses
from probe.read.mcp.reader import read_mcp

pytestmark = pytest.mark.e2e
MCP_SERVER = PROJECT_ROOT / "tests" / "data" / "mcp_server.py"
TOOLS = ["add_numbers", "echo_text", "lookup_order"]
ENCODER = bpe_openai.get_encoding("o200k_base")


def record(tmp_path: Path, program: str, deferred: bool) -> Path:
    target = yaml.safe_load((PROJECT_ROOT / "targets" / "claude-code.yaml").read_text())
    for proxy in target["proxies"]:
        proxy["listen"] = 0
    if not deferred:
        target["agent"]["env"]["ENABLE_TOOL_SEARCH"] = "false"
    target_file = tmp_path / "claude-code.yaml"
    target_file.write_text(yaml.safe_dump(target))
    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", str(target_file), "--upstream", "mock",
         "--mock-transport", "http", "--mcp-server", f"parcels={sys.executable} {MCP_SERVER}",
         "--prompt", "say hi", "--workdir", str(work), "--timeout", "150", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (data / "claude-code").iterdir()
    return run


def insight_of(run: Path):
    totals = Totals()
    stream_report(io.StringIO(), run / "traffic.jsonl", anthropic_messages, None, frozenset(), None, totals, [])
    return totals.insight


def mcp_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "mcp.jsonl").read_text().splitlines()]


def model_call(exchanges: list[dict]) -> tuple[dict, int, dict, int]:
    """The model's call of an MCP tool and the exchange whose answer asked for it (numbered from 1), and the result
    the agent sent and the exchange whose request carried it, from the requests' histories."""
    asked = answered = None
    for number, exchange in enumerate(exchanges, 1):
        for message in exchange["request"]["body"]["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("type") == "tool_use" and block["name"].startswith("mcp__parcels__") and asked is None:
                    asked = (block, number - 1)
                if asked and block.get("type") == "tool_result" and block["tool_use_id"] == asked[0]["id"]:
                    answered = answered or (block, number)
    assert asked and answered
    return asked[0], asked[1], answered[0], answered[1]


def definition_tokens(tool: dict) -> int:
    schema = json.dumps(tool["input_schema"], separators=(",", ":"))
    return len(ENCODER.encode_ordinary(f"{tool['name']}\n{tool.get('description', '')}\n{schema}"))


@pytest.mark.parametrize("deferred", [False, True], ids=["in-full", "deferred"])
def test_claude_codes_mcp_call_is_joined_to_the_model_call_and_its_result(tmp_path, claude_program, deferred):
    run = record(tmp_path, claude_program, deferred)
    exchanges, lines = read_traffic(run), mcp_lines(run)
    # The record: initialize, the listing and the call, read into the server's session.
    session = read_mcp(run).sessions["parcels"]
    assert (session.protocol_version, session.server_info) == ("2025-11-25", {"name": "parcels", "version": "1.0.0"})
    assert session.client_info["name"] == "claude-code" and session.exit == "killed by SIGINT"
    assert sorted(session.listings[-1].names()) == TOOLS and session.problems == []

    use, asked_in, sent, answered_in = model_call(exchanges)
    request = next(line for line in lines if line.get("message", {}).get("method") == "tools/call")
    answer = next(line for line in lines if line.get("from") == "server"
                  and line["message"].get("id") == request["message"]["id"])  # fmt: skip
    assert request["message"]["params"]["name"] == use["name"].removeprefix("mcp__parcels__")
    assert request["message"]["params"]["arguments"] == use["input"]
    texts = [block["text"] for block in answer["message"]["result"]["content"]]

    facts = insight_of(run).mcp_facts
    [call] = facts.calls
    assert (call.server, call.tool, call.model_tool, call.call_id) == ("parcels", request["message"]["params"]["name"],
                                                                       use["name"], use["id"])  # fmt: skip
    assert (call.asked_in, call.answered_in, facts.unmatched) == (asked_in, answered_in, 0)
    asked_at = exchanges[asked_in - 1]["timing"]["end"]
    answered_at = exchanges[answered_in - 1]["timing"]["start"]
    server_s = max(answer["t"] - request["t"], 0.0)  # the answer's line may be written first, stamped earlier
    assert call.agent_wait_s == round(answered_at - asked_at, 6)
    assert call.server_s == round(server_s, 6)
    assert call.agent_own_s == round(round(answered_at - asked_at, 6) - round(server_s, 6), 6)
    # Claude Code sends the server's text blocks as they were: the result is the same.
    assert [block["text"] for block in sent["content"]] == texts and call.result_sent == "same"
    assert (call.result_chars, call.sent_chars) == (sum(map(len, texts)), len("\n\n".join(texts)))

    [server] = facts.servers
    assert (server.server, server.names, server.tools, server.tools_listed, server.calls) == ("parcels", TOOLS, 3, 3, 1)
    offered = [[tool for tool in exchange["request"]["body"]["tools"] if tool["name"].startswith("mcp__parcels__")]
               for exchange in exchanges]  # fmt: skip
    most = max(range(len(offered)), key=lambda index: sum(map(definition_tokens, offered[index])))
    counted = sum(map(definition_tokens, offered[most]))
    split = {split.number: split for split in insight_of(run).context.kept}[most + 1]
    assert server.tokens == round(counted * split.scaled_to / split.counted)
    assert server.share == counted / split.counted and 0 < server.share < 0.05
    if deferred:
        # Only named at first; the tool search loaded the one called, the others were never sent in full.
        assert offered[0] == [] and [tool["name"] for tool in offered[-1]] == [use["name"]]
        assert (server.deferred, server.deferred_tools, server.every_request) == (True, 2, False)
        [change] = facts.changes
        assert (change.turn, change.added, change.removed, change.notified_at) == (asked_in, [use["name"].removeprefix(
            "mcp__parcels__")], [], None)  # fmt: skip
    else:
        assert (server.deferred, server.every_request, facts.changes) == (False, True, [])
        assert sorted(tool["name"] for tool in offered[0]) == [f"mcp__parcels__{tool}" for tool in TOOLS]


def walk(value):
    """Every dict in a JSON value, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def record_codex(folder: Path, program: str, server: Path) -> Path:
    work, data = folder / "work", folder / "data"
    work.mkdir(parents=True)
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "codex", "--upstream", "mock",
         "--mcp-server", f"parcels={sys.executable} {server}", "--prompt", "say hi",
         "--workdir", str(work), "--timeout", "150", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (data / "codex").iterdir()
    return run


def test_codexs_mcp_call_from_its_exec_script_is_joined_by_time(tmp_path, codex_program):
    """codex (pinned) calls the MCP tools from its code-mode exec script, over WebSocket: the server's call is
    joined to the exec call that was running and names the tool. The server is tests/data/mcp_server.py with its
    tools marked read-only (codex asks approval for others, which a prompt run never gives), and a second slow to
    start: codex waits for a server named for the run (required) before its first request, so the mock sees its
    tools whatever the machine's load (before, it listed them too early about one run in two, and a server this slow
    was never called)."""
    read_only = tmp_path / "read_only_server.py"
    read_only.write_text(f"import sys, time\ntime.sleep(1)\nsys.path.insert(0, {str(MCP_SERVER.parent)!r})\n"
                         "import mcp_server\nfor tool in mcp_server.TOOLS:\n"
                         "    tool['annotations'] = {'readOnlyHint': True}\nmcp_server.main()\n")  # fmt: skip
    run = record_codex(tmp_path, codex_program, read_only)
    lines = mcp_lines(run)
    [request] = [line for line in lines if line.get("message", {}).get("method") == "tools/call"]
    answer = next(line for line in lines if line.get("from") == "server"
                  and line["message"].get("id") == request["message"]["id"])  # fmt: skip
    tool = request["message"]["params"]["name"]
    execs = {found["call_id"] for exchange in read_traffic(run) for found in walk(exchange)
             if found.get("type") == "custom_tool_call"
             and f"mcp__parcels__{tool}" in str(found.get("input"))}  # fmt: skip
    assert len(execs) == 1
    totals = Totals()
    stream_report(io.StringIO(), run / "traffic.jsonl", responses, None, frozenset(), None, totals, [])
    facts = totals.insight.mcp_facts
    [call] = facts.calls
    exec_id = execs.pop()
    assert (call.tool, call.call_id, call.model_tool, call.matched_by) == (tool, exec_id, "functions.exec", "time")
    # The exec's output went back as a list of text blocks, holding the server's result as the script printed it.
    exchanges = read_traffic(run)
    [(answered_at, output)] = [(exchange["timing"]["start"], found["output"]) for exchange in exchanges
                               for found in walk(exchange) if found.get("type") == "custom_tool_call_output"
                               and found.get("call_id") == exec_id]  # fmt: skip
    printed = "\n".join(block["text"] for block in output)
    content = json.dumps(answer["message"]["result"]["content"], separators=(",", ":"), ensure_ascii=False)
    assert content in printed  # the script printed JSON.stringify(result)
    assert call.result_sent == "same"
    # The server's time within the agent's wait: bounded by the request that carried its result, which mcp.jsonl
    # may stamp the answer after (its line is written once masked).
    assert call.server_s == round(max(min(answer["t"], answered_at) - request["t"], 0.0), 6)
    assert call.answered_in == call.asked_in + 1 and call.agent_wait_s >= call.server_s and call.agent_own_s >= 0
    [server] = facts.servers
    assert (server.server, server.deferred, server.tools_listed, server.calls) == ("parcels", True, 3, 1)
    # Only named to the model, as codex's deferred tool namespace; its tools listed to the model through exec.
    assert (server.tools, server.named_tokens) == (0, len(ENCODER.encode_ordinary("- mcp__parcels")))
    assert (server.listed_to_model, server.listed_through) == (3, "functions.exec")
