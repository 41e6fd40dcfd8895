"""The mock drives a real MCP server: Claude Code and codex, pinned, run a prompt against the mock with
`@modelcontextprotocol/server-filesystem` over stdio. Both defer the server's tools (names only), so the mock loads
the file reader through each agent's own tool search (Claude Code's ToolSearch, codex's code-mode `exec` listing
ALL_TOOLS), calls it with the file the prompt names, and answers; the agent sends the file's text back."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, read_traffic
from mcp_servers_install import server_program

pytestmark = pytest.mark.e2e
NOTE = "The parcel courier is Zanzibar Quokka Express.\n"
READER = "mcp__fs__read_text_file"


def record(tmp_path: Path, name: str, program: str, transport: str) -> tuple[Path, Path]:
    """A prompt run of target `name` against the mock, given server-filesystem (named `fs`) on its working folder,
    asked to read a note there; its run folder and the note."""
    work = tmp_path / "work"
    work.mkdir()
    note = work / "notes.txt"
    note.write_text(NOTE)
    server = {"command": str(server_program("filesystem")), "args": [str(work)]}
    target = yaml.safe_load((PROJECT_ROOT / "targets" / f"{name}.yaml").read_text())
    for proxy in target["proxies"]:
        proxy["listen"] = 0
    agent = target["agent"]
    if name == "claude-code":
        # Its dontAsk mode denies an MCP tool not allowed outright.
        agent["command"] += ["--mcp-config", "{agent_home}/mcp.json", "--allowedTools", "mcp__fs"]
        agent["files"]["mcp.json"] = {"mcpServers": {"fs": server}}
    else:
        agent["command"][-1:-1] = ["-c", f"mcp_servers.fs.command={json.dumps(server['command'])}",
                                   "-c", f"mcp_servers.fs.args={json.dumps(server['args'])}"]  # fmt: skip
    target_file = tmp_path / f"{name}.yaml"
    target_file.write_text(yaml.safe_dump(target))
    data = tmp_path / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", str(target_file), "--upstream", "mock",
         "--mock-transport", transport, "--prompt", f"read {note}", "--workdir", str(work), "--timeout", "150",
         "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (data / target["name"]).iterdir()
    return run, note


def model_requests(run: Path) -> list[dict]:
    """Every request body the agent sent to the model, HTTP bodies and WebSocket frames alike."""
    bodies = []
    for entry in read_traffic(run):
        if entry["kind"] == "http" and isinstance(entry["request"].get("body"), dict):
            bodies.append(entry["request"]["body"])
        bodies += [frame["body"] for frame in entry.get("messages", []) if frame["from"] == "client"]
    return [body for body in bodies if isinstance(body, dict)]


def test_claude_code_loads_the_deferred_reader_with_tool_search_and_sends_back_the_files_text(tmp_path, claude_program):
    run, note = record(tmp_path, "claude-code", claude_program, "http")
    conversations = [body for body in model_requests(run) if body.get("tools")]
    first = conversations[0]
    # Deferred: no MCP tool in `tools`, the reader named for ToolSearch.
    assert not [tool for tool in first["tools"] if tool["name"].startswith("mcp__")]
    assert f"\n{READER}\n" in json.dumps(first["messages"], ensure_ascii=False).replace("\\n", "\n")
    last = conversations[-1]
    turns = [(message["role"], block) for message in last["messages"] if isinstance(message["content"], list)
             for block in message["content"] if block["type"] in ("tool_use", "tool_result")]  # fmt: skip
    [search, loaded, call, result] = [block for _, block in turns]
    assert (search["name"], search["input"]) == ("ToolSearch", {"query": f"select:{READER}", "max_results": 1})
    assert loaded["tool_use_id"] == search["id"]
    assert loaded["content"] == [{"type": "tool_reference", "tool_name": READER}]
    # Loaded, the reader is sent in full (marked defer_loading) and called with the prompt's file.
    [reader] = [tool for tool in last["tools"] if tool["name"] == READER]
    assert reader["defer_loading"] is True and reader["input_schema"]["required"] == ["path"]
    assert (call["name"], call["input"]) == (READER, {"path": str(note)})
    assert result["tool_use_id"] == call["id"] and not result.get("is_error")
    # Claude Code passes on the server's structured content, the note's text whole.
    assert json.loads(result["content"]) == {"content": NOTE}
    assert len(conversations) == 3  # search, call, answer: one MCP call, no loop


def test_codex_lists_the_deferred_namespace_in_exec_and_sends_back_the_files_text(tmp_path, codex_program):
    # codex's default transport, WebSocket: its follow-ups carry only the new items.
    run, note = record(tmp_path, "codex", codex_program, "websocket")
    items = [item for body in model_requests(run) for item in body.get("input") or [] if isinstance(item, dict)]
    developer = json.dumps([item for item in items if item.get("role") == "developer"])
    assert "Deferred tool namespaces:\\n- mcp__fs" in developer
    outputs = [item for item in items if item.get("type") == "custom_tool_call_output"]
    [listing, result] = ["".join(part["text"] for part in item["output"]) for item in outputs]
    # codex ran the mock's listing script: the server's fourteen tools, each with its TypeScript declaration.
    listed = json.loads(listing[listing.index("agent-probe tool listing\n") + 25 :])
    reader = next(tool["description"] for tool in listed if tool["name"] == READER)
    assert (
        len(listed) == 14 and f"declare const tools: {{ {READER}(args: {{" in reader and "\n  path: string;\n" in reader
    )
    # Then the call script read the note, and codex sent its text back.
    answer = json.loads(result[result.index("Output:\n") + 8 :])
    assert answer["content"] == [{"type": "text", "text": NOTE}]
    events = [frame["body"] for entry in read_traffic(run) for frame in entry.get("messages", [])
              if frame["from"] == "server" and isinstance(frame["body"], dict)]  # fmt: skip
    calls = [event["item"] for event in events if event.get("type") == "response.output_item.done"
             and event["item"]["type"] == "custom_tool_call"]  # fmt: skip
    assert [call["input"] for call in calls][1] == (
        f'const result = await tools["{READER}"]({json.dumps({"path": str(note)})});\ntext(JSON.stringify(result));\n'
    )
    assert len(calls) == 2
