"""stdio MCP servers recorded for real: Claude Code and codex at their pinned versions, against the mock, given the
reference `server-filesystem` (npm, pinned) with --mcp-server, or finding it in the user's own codex configuration
with --home own; the relay records its messages into mcp.jsonl, and a secret in a file the server reads reaches no
file of the run raw."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from mcp_servers_install import server_program

pytestmark = pytest.mark.e2e
SECRET = "sk-proj-Zq8XvT4mN2pL7wR9kJ3hF6dS1aG5cB0eYuIoPzXcVbNm"


def pipeline(tmp_path: Path, target: str, program: str, work: Path, *options: str, env: dict | None = None) -> Path:
    """`pipeline` against the mock with the agent's pinned program first on PATH, reading a file of `work`; the run."""
    environ = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), **(env or {}))
    environ["PATH"] = f"{Path(program).parent}{os.pathsep}{environ['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", "mock", "--prompt",
         f"read {work / 'notes.txt'}", "--workdir", str(work), "--timeout", "150", "--quiet", *options],
        cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "data" / target).iterdir()
    return run


def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text(f"the deploy key is {SECRET}\n")
    return work


def messages(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "mcp.jsonl").read_text().splitlines()]


def methods(lines: list[dict], side: str = "agent") -> list[str]:
    return [line["message"].get("method") for line in lines if line.get("from") == side and "method" in line["message"]]


def assert_no_raw_secret(run: Path) -> None:
    found = [path for path in run.rglob("*") if path.is_file() and SECRET.encode() in path.read_bytes()]
    assert found == []


def assert_server_started_and_listed(lines: list[dict], program: Path) -> None:
    assert all(line["server"] == "fs" and line["transport"] == "stdio" for line in lines)
    assert lines[0]["event"] == "started" and lines[0]["command"][0] == str(program)
    asked = methods(lines)
    assert "initialize" in asked and "tools/list" in asked and asked.index("initialize") < asked.index("tools/list")
    listing = next(
        line for line in lines if line.get("from") == "server" and "tools" in line["message"].get("result", {})
    )
    assert "read_text_file" in [tool["name"] for tool in listing["message"]["result"]["tools"]]
    initialized = next(line for line in lines if line.get("from") == "server" and "serverInfo" in str(line["message"]))
    assert initialized["message"]["result"]["serverInfo"]["name"] == "secure-filesystem-server"


def assert_file_read(lines: list[dict], work: Path) -> None:
    """One tools/call read the note, and its answer is recorded with the secret in it masked."""
    [call] = [line for line in lines if line.get("from") == "agent" and line["message"].get("method") == "tools/call"]
    assert call["message"]["params"]["name"] == "read_text_file"
    assert call["message"]["params"]["arguments"] == {"path": str(work / "notes.txt")}
    [answer] = [
        line for line in lines if line.get("from") == "server" and line["message"].get("id") == call["message"]["id"]
    ]
    text = answer["message"]["result"]["content"][0]["text"]
    assert text.startswith("the deploy key is [REDACTED sha256:") and answer["size"] > len(text)


def test_claude_code_with_server_filesystem_is_recorded_and_the_secret_it_reads_is_masked(tmp_path, claude_program):
    program = server_program("filesystem")
    work = workdir(tmp_path)
    # A tool of an MCP server needs approval, which nobody gives in a prompt run (dontAsk): the run allows the
    # tools of the servers named for it.
    run = pipeline(tmp_path, "claude-code", claude_program, work, "--mcp-server", f"fs={program} {work}")
    lines = messages(run)
    assert_server_started_and_listed(lines, program)
    assert_file_read(lines, work)
    assert lines[-1]["event"] == "exited"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["mcp"] == {
        "servers": [{"name": "fs", "transport": "stdio", "command": [str(program), str(work)], "from": "option"}],
        "wrapped": True,
    }
    assert "--strict-mcp-config" in manifest["agent"]["argv"]
    assert (run / "mcp" / "fs.stderr").read_text().startswith("Secure MCP Filesystem Server running on stdio")
    assert_no_raw_secret(run)


def test_codex_with_server_filesystem_is_recorded(tmp_path, codex_program):
    program = server_program("filesystem")
    work = workdir(tmp_path)
    run = pipeline(tmp_path, "codex", codex_program, work, "--mcp-server", f"fs={program} {work}")
    lines = messages(run)
    assert_server_started_and_listed(lines, program)
    assert_file_read(lines, work)
    argv = json.loads((run / "manifest.json").read_text())["agent"]["argv"]
    assert f"mcp_servers.fs.command={json.dumps(sys.executable)}" in argv
    assert_no_raw_secret(run)


def hashes(folder: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*") if path.is_file()}


def test_an_own_home_server_of_codex_is_wrapped_and_the_home_left_as_it_was(tmp_path, codex_program):
    program = server_program("filesystem")
    work = workdir(tmp_path)
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(
        f"[mcp_servers.fs]\ncommand = {json.dumps(str(program))}\nargs = [{json.dumps(str(work))}]\n"
    )
    before = hashes(home)
    run = pipeline(tmp_path, "codex", codex_program, work, "--home", "own", env={"HOME": str(home)})
    assert_server_started_and_listed(messages(run), program)
    assert_file_read(messages(run), work)
    assert_no_raw_secret(run)
    mcp = json.loads((run / "manifest.json").read_text())["mcp"]
    assert mcp == {
        "servers": [{"name": "fs", "transport": "stdio", "command": [str(program), str(work)], "from": "own-home"}],
        "wrapped": True,
    }
    after = hashes(home)
    assert {path: after.get(path) for path in before} == before  # every file of the home as it was


def test_an_own_home_server_of_claude_code_is_wrapped_and_the_home_left_as_it_was(tmp_path, claude_program):
    """The user's own server (user scope, in ~/.claude.json) and their own permission for its tools, both read and
    neither written: the server is started through the relay, and its call is allowed by the user's settings."""
    program = server_program("filesystem")
    work = workdir(tmp_path)
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    servers = {"fs": {"command": str(program), "args": [str(work)]}}
    (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True, "mcpServers": servers}))
    (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["mcp__fs"]}}))
    before = hashes(home)
    # The user's own login: an API key in their environment (the mock's stand-in, which no real API takes).
    own = {"HOME": str(home), "ANTHROPIC_API_KEY": "sk-ant-mock-not-a-real-key"}
    run = pipeline(tmp_path, "claude-code", claude_program, work, "--home", "own", env=own)
    assert_server_started_and_listed(messages(run), program)
    assert_file_read(messages(run), work)
    assert_no_raw_secret(run)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["mcp"] == {
        "servers": [{"name": "fs", "transport": "stdio", "command": [str(program), str(work)], "from": "own-home"}],
        "wrapped": True,
    }
    assert "--allowedTools" not in manifest["agent"]["argv"]  # your own server keeps the permissions you gave it
    after = hashes(home)
    # Claude Code rewrites its own state file (start counts, tips) as it always does; its servers stay as written,
    # and every other file of the home is as it was.
    state = str(home / ".claude.json")
    assert {path: after.get(path) for path in before if path != state} == {
        path: digest for path, digest in before.items() if path != state
    }
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == servers
