"""The set-up the agent sent, recorded for real: Claude Code, codex, gemini-cli and Qwen Code run against the mock
with a memory file in their private home and in their working folder, and an MCP server of three tools
(tests/data/mcp_server.py); the report's `## Set-up sent` names both files with their tokens and first lines, and
the server with its tools and the tokens of their definitions, each recounted here from the capture."""

import json
import os
import subprocess
import sys
from pathlib import Path

import bpe_openai
import pytest
import yaml
from conftest import PROJECT_ROOT, read_traffic

pytestmark = pytest.mark.e2e
MCP_SERVER = PROJECT_ROOT / "tests" / "data" / "mcp_server.py"
HOME_MEMORY = "Always greet the user as Captain Periwinkle of the violet lighthouse.\nSecond line.\n"
PROJECT_MEMORY = "Project rule: the parcel courier is called Zanzibar Quokka Express.\n"
TOOLS = ("add_numbers", "echo_text", "lookup_order")
ENCODER = bpe_openai.get_encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODER.encode_ordinary(text))


def mcp_command() -> dict:
    return {"command": sys.executable, "args": [str(MCP_SERVER)]}


def claude_code(target: dict) -> tuple[str, str]:
    agent = target["agent"]
    # Its state folder in the private home, so that the memory file can be written there before it starts; its MCP
    # tools sent in full (by default it defers them to its ToolSearch tool).
    agent["private_env"]["CLAUDE_CONFIG_DIR"] = "{agent_home}/.claude"
    agent["env"]["ENABLE_TOOL_SEARCH"] = "false"
    agent["command"] += ["--mcp-config", "{agent_home}/mcp.json"]
    agent["files"] = {".claude/CLAUDE.md": HOME_MEMORY, "mcp.json": {"mcpServers": {"parcels": mcp_command()}}}
    return ".claude/CLAUDE.md", "CLAUDE.md"


def codex(target: dict) -> tuple[str, str]:
    server = mcp_command()
    target["agent"]["command"][-1:-1] = ["-c", f"mcp_servers.parcels.command={json.dumps(server['command'])}",
                                         "-c", f"mcp_servers.parcels.args={json.dumps(server['args'])}"]  # fmt: skip
    target["agent"]["files"] = {"AGENTS.md": HOME_MEMORY}
    return "AGENTS.md", "AGENTS.md"


def gemini(target: dict) -> tuple[str, str]:
    files = target["agent"]["files"]
    files[".gemini/settings.json"]["mcpServers"] = {"parcels": {**mcp_command(), "trust": True}}
    files[".gemini/GEMINI.md"] = HOME_MEMORY
    return ".gemini/GEMINI.md", "GEMINI.md"


def qwen_code(target: dict) -> tuple[str, str]:
    files = target["agent"]["files"]
    files[".qwen/settings.json"]["mcpServers"] = {"parcels": {**mcp_command(), "trust": True}}
    files[".qwen/QWEN.md"] = HOME_MEMORY
    return ".qwen/QWEN.md", "QWEN.md"


def record(tmp_path: Path, name: str, program: str, prepare) -> tuple[Path, str]:
    """Record a prompt run of target `name` set up by `prepare`; its run folder and report."""
    target = yaml.safe_load((PROJECT_ROOT / "targets" / f"{name}.yaml").read_text())
    for proxy in target["proxies"]:
        proxy["listen"] = 0
    _, project_file = prepare(target)
    target_file = tmp_path / f"{name}.yaml"
    target_file.write_text(yaml.safe_dump(target))
    work = tmp_path / "work"
    work.mkdir()
    (work / project_file).write_text(PROJECT_MEMORY)
    data = tmp_path / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", str(target_file), "--upstream", "mock",
         "--mock-transport", "http", "--prompt", "say hi", "--workdir", str(work), "--timeout", "150", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (data / target["name"]).iterdir()
    return run, (run / "report.md").read_text()


def section(report: str) -> str:
    return report[report.index("## Set-up sent") : report.index("## Endpoints")]


def setup_record(run: Path) -> dict:
    lines = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    return next(line for line in lines if line["record"] == "setup")


def definition_tokens(run: Path, names: list[str]) -> dict[str, int]:
    """Each named tool's definition as the first request sent it, recounted: its name, description and schema."""
    found: dict[str, int] = {}
    for entry in read_traffic(run):
        body = entry["request"].get("body")
        if not isinstance(body, dict):
            continue
        for group in body.get("tools") or []:
            for tool in group.get("functionDeclarations", [group]):
                tool = tool.get("function", tool)  # Chat Completions wraps each tool
                if tool.get("name") in names and tool["name"] not in found:
                    schema = next(tool[key] for key in ("input_schema", "parameters", "parametersJsonSchema")
                                  if key in tool)  # fmt: skip
                    text = f"{tool['name']}\n{tool.get('description', '')}\n{json.dumps(schema, separators=(',', ':'))}"
                    found[tool["name"]] = tokens(text)
    return found


def assert_memory_files(run: Path, report: str, home_file: str, project_path: str) -> None:
    text = section(report)
    record = setup_record(run)
    files = {file["first_line"]: file for file in record["memory_files"]}
    home = files["Always greet the user as Captain Periwinkle of the violet lighthouse."]
    project = files["Project rule: the parcel courier is called Zanzibar Quokka Express."]
    assert home["path"].endswith(home_file) and project["path"].endswith(project_path)
    assert home["tokens"] == tokens(HOME_MEMORY.rstrip("\n")) and home["characters"] == len(HOME_MEMORY) - 1
    assert project["tokens"] == tokens(PROJECT_MEMORY.rstrip("\n"))
    for file in (home, project):
        assert f"| `{file['path']}` | {file['tokens']} | {file['characters']} | `{file['first_line']}` |" in text


def test_claude_code_sends_both_memory_files_and_the_mcp_tools_in_full(tmp_path, claude_program):
    run, report = record(tmp_path, "claude-code", claude_program, claude_code)
    assert_memory_files(run, report, "/.claude/CLAUDE.md", "/work/CLAUDE.md")
    counted = definition_tokens(run, [f"mcp__parcels__{tool}" for tool in TOOLS])
    assert len(counted) == 3
    [server] = setup_record(run)["mcp_servers"]
    assert server["name"] == "parcels" and not server["deferred"]
    assert {tool["name"]: tool["tokens"] for tool in server["tools"]} == {
        name.removeprefix("mcp__parcels__"): count for name, count in counted.items()
    }
    names = ", ".join(f"`{tool}`" for tool in TOOLS)
    assert f"| `parcels` | {names} | {sum(counted.values()):,} (3 tools) |" in section(report)


def test_codex_sends_its_agents_md_and_defers_the_mcp_server(tmp_path, codex_program):
    run, report = record(tmp_path, "codex", codex_program, codex)
    [file] = setup_record(run)["memory_files"]
    # codex sends the user's AGENTS.md and the project's as one block, for the folder it works in.
    both = f"{HOME_MEMORY}\n--- project-doc ---\n\n{PROJECT_MEMORY}"
    assert file["path"] == f"AGENTS.md instructions for {tmp_path / 'work'}"
    assert file["tokens"] == tokens(both.rstrip("\n")) and file["agent"] == "codex"
    assert f"| `AGENTS.md instructions for {tmp_path / 'work'}` | {file['tokens']} |" in section(report)
    [server] = setup_record(run)["mcp_servers"]
    assert server == {"name": "parcels", "tools": [], "tokens": 0, "deferred": True, "more_tools": 0}
    assert "| `parcels` | tools not named: deferred, loaded when the model asks for them | none sent" in report


def test_gemini_cli_sends_both_memory_files_and_the_mcp_tools_in_full(tmp_path, gemini_program):
    run, report = record(tmp_path, "gemini", gemini_program, gemini)
    assert_memory_files(run, report, "/.gemini/GEMINI.md", "/work/GEMINI.md")
    counted = definition_tokens(run, [f"mcp_parcels_{tool}" for tool in TOOLS])
    [server] = setup_record(run)["mcp_servers"]
    assert {tool["name"]: tool["tokens"] for tool in server["tools"]} == {
        name.removeprefix("mcp_parcels_"): count for name, count in counted.items()
    }
    assert len(counted) == 3 and server["tokens"] == sum(counted.values())


def test_qwen_code_sends_both_memory_files_and_names_the_deferred_mcp_tools(tmp_path, qwen_program):
    run, report = record(tmp_path, "qwen-code", qwen_program, qwen_code)
    assert_memory_files(run, report, "/.qwen/QWEN.md", "QWEN.md")
    [server] = setup_record(run)["mcp_servers"]
    assert server["name"] == "parcels" and [tool["name"] for tool in server["tools"]] == list(TOOLS)
    assert all(tool["tokens"] is None for tool in server["tools"])
    names = ", ".join(f"`{tool}` (deferred)" for tool in TOOLS)
    assert f"| `parcels` | {names} | none sent (deferred) |" in section(report)


def test_an_own_home_run_of_codex_reports_the_users_agents_md_and_mcp_server(tmp_path, codex_program):
    """`--home own`: codex reads the user's own ~/.codex (here a prepared home), and the report names what it sent."""
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "AGENTS.md").write_text("Own home rule: call me Admiral Tangerine.\n")
    server = mcp_command()
    (home / ".codex" / "config.toml").write_text(
        f"[mcp_servers.parcels]\ncommand = {json.dumps(server['command'])}\nargs = {json.dumps(server['args'])}\n"
    )
    before = {path.name: path.read_bytes() for path in (home / ".codex").iterdir()}
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), HOME=str(home))
    env["PATH"] = f"{Path(codex_program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "codex", "--upstream", "mock", "--mock-transport", "http",
         "--home", "own", "--prompt", "say hi", "--workdir", str(work), "--timeout", "150", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "data" / "codex").iterdir()
    assert json.loads((run / "manifest.json").read_text())["home"] == "own"
    [file] = setup_record(run)["memory_files"]
    # With the user's own AGENTS.md alone, codex's heading names no folder.
    assert (
        file["path"] == "AGENTS.md instructions" and file["first_line"] == "Own home rule: call me Admiral Tangerine."
    )
    assert file["tokens"] == tokens("Own home rule: call me Admiral Tangerine.")
    text = section((run / "report.md").read_text())
    assert f"| `AGENTS.md instructions` | {file['tokens']} | 41 | `Own home rule: call me Admiral Tangerine.` |" in text
    assert "| `parcels` | tools not named: deferred" in text
    assert {name: (home / ".codex" / name).read_bytes() for name in before} == before  # the user's files untouched


def test_claude_code_by_default_names_its_mcp_tools_deferred(tmp_path, claude_program):
    """Left to itself, Claude Code sends no MCP tool definition: it lists the tools' names for its ToolSearch. The
    mock loads one (echo_text) through ToolSearch to call it, and from then on Claude Code sends that one in full."""

    def deferring(target: dict) -> tuple[str, str]:
        files = claude_code(target)
        del target["agent"]["env"]["ENABLE_TOOL_SEARCH"]
        return files

    run, report = record(tmp_path, "claude-code", claude_program, deferring)
    assert_memory_files(run, report, "/.claude/CLAUDE.md", "/work/CLAUDE.md")
    first = next(entry for entry in read_traffic(run) if isinstance(entry["request"].get("body"), dict))
    assert "mcp__parcels__" not in json.dumps(first["request"]["body"].get("tools"))
    counted = definition_tokens(run, [f"mcp__parcels__{tool}" for tool in TOOLS])
    assert list(counted) == ["mcp__parcels__echo_text"]
    [server] = setup_record(run)["mcp_servers"]
    loaded = counted["mcp__parcels__echo_text"]
    assert (
        server["tools"] == [{"name": tool, "tokens": loaded if tool == "echo_text" else None} for tool in TOOLS]
        and server["tokens"] == loaded
    )
    names = "`add_numbers` (deferred), `echo_text`, `lookup_order` (deferred)"
    assert f"| `parcels` | {names} | {loaded} (1 tool) |" in section(report)
