"""stdio MCP servers recorded for gemini-cli and Qwen Code at their pinned versions, against the mock: given the
reference `server-filesystem` (npm, pinned) with --mcp-server, written into the private home's settings file's
mcpServers as the relay wrapping it; the relay records its messages into mcp.jsonl, the secret it reads masked."""

import json

import pytest
from mcp_servers_install import server_program
from test_e2e_mcp_stdio import (
    assert_file_read,
    assert_no_raw_secret,
    assert_server_started_and_listed,
    hashes,
    messages,
    pipeline,
    workdir,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("target", ["gemini", "qwen-code"])
def test_a_settings_file_agent_with_server_filesystem_is_recorded(tmp_path, request, target):
    agent = request.getfixturevalue("gemini_program" if target == "gemini" else "qwen_program")
    program = server_program("filesystem")
    work = workdir(tmp_path)
    run = pipeline(tmp_path, target, agent, work, "--mcp-server", f"fs={program} {work}")
    lines = messages(run)
    assert_server_started_and_listed(lines, program)
    assert_file_read(lines, work)
    assert lines[-1]["event"] == "exited"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["mcp"] == {
        "servers": [{"name": "fs", "transport": "stdio", "command": [str(program), str(work)], "from": "option"}],
        "wrapped": True,
    }
    assert_no_raw_secret(run)


def test_an_own_home_server_of_qwen_code_is_wrapped_by_a_system_settings_file_and_the_home_left_as_it_was(
    tmp_path, qwen_program
):
    program = server_program("filesystem")
    work = workdir(tmp_path)
    home = tmp_path / "home"
    (home / ".qwen").mkdir(parents=True)
    # Its own keys beside the command (timeout) go on with the wrapped entry, which replaces the whole of this one.
    own = {"fs": {"command": str(program), "args": [str(work)], "timeout": 60000}}
    # $version: 0.24.4 itself rewrites a settings file without it (with or without agent-probe), adding it.
    (home / ".qwen" / "settings.json").write_text(json.dumps({"mcpServers": own, "$version": 4}))
    before = hashes(home)
    environ = {"HOME": str(home), "OPENAI_API_KEY": "sk-mock-not-a-real-key", "OPENAI_MODEL": "gpt-4.1"}
    run = pipeline(tmp_path, "qwen-code", qwen_program, work, "--home", "own", env=environ)
    assert_server_started_and_listed(messages(run), program)
    assert_file_read(messages(run), work)
    assert_no_raw_secret(run)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["mcp"] == {
        "servers": [{"name": "fs", "transport": "stdio", "command": [str(program), str(work)], "from": "own-home"}],
        "wrapped": True,
    }
    assert manifest["agent"]["env"]["QWEN_CODE_SYSTEM_SETTINGS_PATH"].endswith("/mcp-settings.json")
    after = hashes(home)
    assert {path: after.get(path) for path in before} == before  # every file of the home as it was
