"""A replay serves a run's MCP servers from its recording: Claude Code is recorded against the mock with the real
server-filesystem (2026.8.31) over stdio, reading a file through it; then the server's program is replaced by one
that fails loudly and the file is removed, and the replay completes with the recorded answers, every request and
call matched, and no server started. A recording whose call differs from the agent's is the divergence the
replay names, with its server, method and diff. codex, calling the server from its exec script, replays the same
way. Claude Code with server-everything over streamable HTTP replays
with the server stopped: the stand-in answers in its place."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT
from mcp_servers_install import server_program

from probe.capture.ports import free_port

# Both tests replay the module's one recording: under xdist they go to one worker, which records it once.
pytestmark = pytest.mark.xdist_group("mcp-replay")
WORD = "PAPAYA-7731"
LOUD = '#!/bin/sh\necho "started: $*" >> "{marker}"\necho "the real server-filesystem was started" >&2\nexit 3\n'


def messages(run: Path) -> list[dict]:
    lines = [json.loads(line) for line in (run / "mcp.jsonl").read_text().splitlines()]
    return [line for line in lines if isinstance(line.get("message"), dict)]


def tool_calls(run: Path) -> list[tuple[str, dict]]:
    """Each tools/call the agent sent (its tool and arguments), with the text the server answered."""
    lines = messages(run)
    answers = {json.dumps(line["message"]["id"]): line["message"] for line in lines
               if line["from"] == "server" and {"result", "error"} & set(line["message"])}  # fmt: skip
    called = [
        line["message"] for line in lines if line["from"] == "agent" and line["message"].get("method") == "tools/call"
    ]
    return [
        (call["params"]["name"], call["params"]["arguments"], answers.get(json.dumps(call["id"]))) for call in called
    ]


def run_of(
    data: Path, arguments: list[str], program: str, timeout: int = 240, target: str = "claude-code"
) -> tuple[subprocess.CompletedProcess, Path]:
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    folder = data / target
    before = set(folder.iterdir()) if folder.is_dir() else set()
    result = subprocess.run([sys.executable, "-m", *arguments], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)  # fmt: skip
    [made] = sorted(set(folder.iterdir()) - before)
    return result, made


def any_port(folder: Path) -> Path:
    """Claude Code's target listening on any free port (its MCP tools are allowed by the run that names their
    server, the replay's stand-ins as the recording's servers)."""
    target = yaml.safe_load((PROJECT_ROOT / "targets" / "claude-code.yaml").read_text())
    for proxy in target["proxies"]:
        proxy["listen"] = 0
    target_file = folder / "claude-code.yaml"
    target_file.write_text(yaml.safe_dump(target))
    return target_file


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, claude_program):
    """A Claude Code run that read notes.txt through server-filesystem (its tools allowed, as in any prompt run), and
    the target file, the server's wrapper and the folder it served: the agent's own (the server takes the agent's
    roots, its working folder, over the folders its command names)."""
    folder = tmp_path_factory.mktemp("mcp-replay")
    allowed = folder / "allowed"
    allowed.mkdir()
    (allowed / "notes.txt").write_text(f"The word of the day is {WORD}.\n")
    wrapper = folder / "fs-server"
    wrapper.write_text(f'#!/bin/sh\nexec "{server_program("filesystem")}" "$@"\n')
    wrapper.chmod(0o755)
    target_file = any_port(folder)
    prompt = f"Read {allowed}/notes.txt and tell me what it says"
    result, run = run_of(folder / "data", ["probe.pipeline", "--target", str(target_file), "--upstream", "mock",
                         "--mock-transport", "http", "--prompt", prompt, "--workdir", str(allowed), "--timeout", "150",
                         "--quiet", "--mcp-server", f"fs={wrapper} {allowed}"], claude_program)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return run, target_file, wrapper, allowed


def test_a_replay_serves_the_recorded_mcp_answers_and_starts_no_server(recorded, claude_program, tmp_path):
    run, target_file, wrapper, allowed = recorded
    [(tool, arguments, answer)] = tool_calls(run)
    assert tool == "read_text_file" and arguments == {"path": f"{allowed}/notes.txt"}
    assert answer["result"]["content"][0]["text"] == f"The word of the day is {WORD}.\n"
    marker = tmp_path / "STARTED"
    original = wrapper.read_text()
    wrapper.write_text(LOUD.format(marker=marker))
    (allowed / "notes.txt").rename(allowed / "notes.moved")
    try:
        arguments = ["--target", str(target_file), "--workdir", str(allowed), "--quiet", "--timeout", "120"]
        result, replayed = run_of(run.parents[1], ["probe.replay.run", "--run", str(run), *arguments], claude_program)
    finally:
        wrapper.write_text(original)
        (allowed / "notes.moved").rename(allowed / "notes.txt")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not marker.exists()
    assert "replay: every request matched" in result.stderr
    # The replay's own record: the stand-in, wrapped like any server, gave the recorded answer.
    [(tool, arguments, answer)] = tool_calls(replayed)
    assert tool == "read_text_file" and answer["result"]["content"][0]["text"] == f"The word of the day is {WORD}.\n"
    manifest = json.loads((replayed / "manifest.json").read_text())
    [server] = manifest["mcp"]["servers"]
    assert (
        server["command"][1:4] == ["-m", "probe.replay.mcp_stand_in", "--server"]
        and str(wrapper) not in server["command"]
    )
    mcp = manifest["replay"]["mcp"]
    assert mcp["status"] == "every call matched" and mcp["servers"]["fs"]["diverged"] == 0
    assert mcp["servers"]["fs"]["not_asked"] == [] and mcp["servers"]["fs"]["served"] >= 3
    # The model got the recorded file's text as the tool's result.
    traffic = (replayed / "traffic.jsonl").read_text()
    assert traffic.count(WORD) >= 1


def test_a_call_that_differs_from_the_recording_is_the_divergence_named(recorded, claude_program, tmp_path):
    run, target_file, wrapper, allowed = recorded
    copy = tmp_path / "data" / "claude-code" / run.name
    shutil.copytree(run, copy)
    # The recorded call read another file: the agent's call, from the recorded model answer, is not in it.
    text = (copy / "mcp.jsonl").read_text().replace(f"{allowed}/notes.txt", "/elsewhere/notes.txt")
    (copy / "mcp.jsonl").write_text(text)
    # Still signed as recorded here, it replays by that signature only as it was: the edited record is refused.
    env = dict(os.environ, PROBE_DATA_DIR=str(copy.parents[1]))
    replay = [sys.executable, "-m", "probe.replay.run", "--run", str(copy), "--target", str(target_file)]
    refused = subprocess.run([*replay, "--workdir", str(allowed), "--quiet"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1] == (
        f"error: {copy / 'mcp.jsonl'} is not the capture recorded on this machine: it changed after the run was "
        "signed (replay it with --trust only if you trust whoever changed it)"
    )
    marker = tmp_path / "STARTED"
    original = wrapper.read_text()
    wrapper.write_text(LOUD.format(marker=marker))
    try:  # --trust: the user vouches for the edited record
        arguments = ["--target", str(target_file), "--workdir", str(allowed), "--quiet", "--timeout", "120", "--trust"]
        result, replayed = run_of(copy.parents[1], ["probe.replay.run", "--run", str(copy), *arguments], claude_program)
    finally:
        wrapper.write_text(original)
    assert result.returncode == 1, result.stderr[-3000:]
    assert not marker.exists()
    assert "replay: MCP server 'fs': call " in result.stderr
    mcp = json.loads((replayed / "manifest.json").read_text())["replay"]["mcp"]
    assert mcp["server"] == "fs" and mcp["method"] == "tools/call" and mcp["divergences"] == 1
    assert "(tools/call read_text_file) matches no recorded call" in mcp["first_divergence"]
    assert f'| params.arguments.path | `"/elsewhere/notes.txt"` | `"{allowed}/notes.txt"` |' in mcp["diff"]
    [(_, _, answer)] = tool_calls(replayed)
    assert answer["error"]["message"].startswith("agent-probe replay: MCP server 'fs': call ")


def test_a_codex_run_is_replayed_with_its_servers_recorded_answers_and_no_server_started(codex_program, tmp_path):
    """codex calls the server from its code-mode exec script; its replay is served the same answers offline."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "notes.txt").write_text(f"The word of the day is {WORD}.\n")
    wrapper = tmp_path / "fs-server"
    original = f'#!/bin/sh\nexec "{server_program("filesystem")}" "$@"\n'
    wrapper.write_text(original)
    wrapper.chmod(0o755)
    prompt = f"Read {allowed}/notes.txt and tell me what it says"
    result, run = run_of(tmp_path / "data", ["probe.pipeline", "--target", "codex", "--upstream", "mock", "--prompt",
                         prompt, "--workdir", str(allowed), "--timeout", "150", "--quiet", "--mcp-server",
                         f"fs={wrapper} {allowed}"], codex_program, target="codex")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [(tool, arguments, answer)] = tool_calls(run)
    assert tool == "read_text_file" and arguments == {"path": f"{allowed}/notes.txt"}
    assert answer["result"]["content"][0]["text"] == f"The word of the day is {WORD}.\n"
    marker = tmp_path / "STARTED"
    wrapper.write_text(LOUD.format(marker=marker))
    (allowed / "notes.txt").rename(allowed / "notes.moved")
    arguments = ["--target", "codex", "--workdir", str(allowed), "--quiet", "--timeout", "120"]
    result, replayed = run_of(run.parents[1], ["probe.replay.run", "--run", str(run), *arguments], codex_program,
                              target="codex")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert not marker.exists()
    assert "replay: every request matched" in result.stderr
    [(tool, _, answer)] = tool_calls(replayed)
    assert tool == "read_text_file" and answer["result"]["content"][0]["text"] == f"The word of the day is {WORD}.\n"
    mcp = json.loads((replayed / "manifest.json").read_text())["replay"]["mcp"]
    assert mcp["status"] == "every call matched" and mcp["servers"]["fs"]["diverged"] == 0
    assert WORD in (replayed / "traffic.jsonl").read_text()


def everything_on(port: int) -> subprocess.Popen:
    """server-everything serving streamable HTTP on `port`, once it listens."""
    command = [str(server_program("everything")), "streamableHttp"]
    server = subprocess.Popen(command, env=os.environ | {"PORT": str(port)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "server-everything did not listen"
            time.sleep(0.1)


def test_an_http_server_is_replayed_from_the_recording_with_the_server_gone(claude_program, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    target_file = any_port(tmp_path)
    server = everything_on(port)
    try:
        result, run = run_of(tmp_path / "data", ["probe.pipeline", "--target", str(target_file), "--upstream", "mock",
                             "--mock-transport", "http", "--prompt", "say hello", "--workdir", "fresh", "--timeout",
                             "150", "--quiet", "--mcp-server", f"ev={url}"], claude_program)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    echoed = "Echo: agent-probe MCP call"
    [(tool, _, answer)] = tool_calls(run)
    assert tool == "echo" and answer["result"]["content"] == [{"type": "text", "text": echoed}]
    # Nothing listens on the recorded URL now: what the agent gets can come from the recording only.
    arguments = ["--target", str(target_file), "--quiet", "--timeout", "120"]
    result, replayed = run_of(run.parents[1], ["probe.replay.run", "--run", str(run), *arguments], claude_program)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replay: every request matched" in result.stderr
    manifest = json.loads((replayed / "manifest.json").read_text())
    [server] = manifest["mcp"]["servers"]
    assert server["transport"] == "http" and server["url"].startswith("http://127.0.0.1:") and server["url"] != url
    assert server["url"].endswith("/mcp")
    [(tool, _, answer)] = tool_calls(replayed)
    assert tool == "echo" and answer["result"]["content"] == [{"type": "text", "text": echoed}]
    mcp = manifest["replay"]["mcp"]
    assert mcp["status"] == "every call matched" and mcp["servers"]["ev"]["diverged"] == 0
    assert echoed in (replayed / "traffic.jsonl").read_text()
