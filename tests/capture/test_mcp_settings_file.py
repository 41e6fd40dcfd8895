"""MCP servers given through a settings file's key (agent.mcp style settings: gemini-cli, Qwen Code): what is
written into the private home's settings file, and with --home own into a settings file of the run's that the agent
takes over the user's own; the user's files read, never written."""

import json
import sys
from pathlib import Path

import pytest

from probe.capture.mcp.switch import plan_mcp
from probe.capture.rules_cache import cache_arguments
from probe.common.errors import UsageError
from probe.runs.mcp_switch import parse_mcp
from probe.runs.target_checks import Checker
from probe.runs.targets import load_target

GEMINI, QWEN = load_target("gemini"), load_target("qwen-code")


def relay(run: Path, name: str, *command: str) -> dict:
    arguments = [
        "-m",
        "probe.capture.mcp.relay",
        str(run.resolve() / "mcp.jsonl"),
        name,
        *cache_arguments(),
        "--",
        *command,
    ]
    return {"command": sys.executable, "args": arguments}


def test_a_private_home_gets_the_servers_merged_into_the_settings_the_target_wrote(tmp_path):
    private = tmp_path / "private"
    (private / ".gemini").mkdir(parents=True)
    written = {"security": {"auth": {"selectedType": "gemini-api-key"}}, "mcpServers": {"mine": {"command": "x"}}}
    (private / ".gemini" / "settings.json").write_text(json.dumps(written))
    config = tmp_path / "servers.json"
    docs = {"type": "http", "url": "https://mcp.example/mcp", "headers": {"X-Key": "k"}}
    fs = {"command": "fs-server", "args": ["/d"], "env": {"FS_TOKEN": "t0k"}}
    config.write_text(json.dumps({"mcpServers": {"docs": docs, "fs": fs}}))
    plan = plan_mcp(GEMINI, ["memo=memo-server --here"], [str(config)], workdir=str(tmp_path), http=True)
    run = tmp_path / "run"
    proxied = {"docs": "http://127.0.0.1:18130/mcp"}
    assert plan.arguments(run, private, proxied) == []  # nothing on the command line
    assert plan.environment(run, private, proxied, {}) == {}
    settings = json.loads((private / ".gemini" / "settings.json").read_text())
    assert settings == {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "mcpServers": {
            "mine": {"command": "x"},  # the target's own entry stays
            "memo": relay(run, "memo", "memo-server", "--here"),
            "docs": {"httpUrl": "http://127.0.0.1:18130/mcp", "headers": {"X-Key": "k"}},
            "fs": relay(run, "fs", "fs-server", "/d") | {"env": {"FS_TOKEN": "t0k"}},
        },
    }
    # No trust added: a prompt run's --yolo runs their tools; an interactive session asks, as for any server.
    assert all("trust" not in entry for entry in settings["mcpServers"].values())
    assert oct((private / ".gemini" / "settings.json").stat().st_mode & 0o777) == "0o600"


def test_qwen_code_with_its_own_home_gets_its_servers_wrapped_in_a_system_settings_file_of_the_runs(tmp_path):
    work, home, private, run = tmp_path / "work", tmp_path / "home", tmp_path / "private", tmp_path / "run"
    (work / ".qwen").mkdir(parents=True)
    (home / ".qwen").mkdir(parents=True)
    private.mkdir()
    user = {"mcpServers": {"fs": {"command": "user-fs", "args": ["/a"], "env": {"ROOT": "$HOME"}, "trust": True,
                                  "timeout": 9000, "includeTools": ["read_text_file"]},
                           "web": {"httpUrl": "https://mcp.example/mcp", "headers": {"X-Key": "k"}}}}  # fmt: skip
    (home / ".qwen" / "settings.json").write_text(json.dumps(user))
    (work / ".qwen" / "settings.json").write_text(json.dumps({"mcpServers": {"proj": {"command": "proj-server"}}}))
    system = tmp_path / "etc-settings.json"
    system.write_text(json.dumps({"general": {"enableAutoUpdate": False}, "mcpServers": {"admin": {"command": "a"}}}))
    before = {path: path.read_bytes() for path in (home / ".qwen" / "settings.json", system)}
    environ = {"HOME": str(home), "QWEN_CODE_SYSTEM_SETTINGS_PATH": str(system)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        plan = plan_mcp(QWEN, home="own", workdir=str(work), environ=environ, http=True)
    proxied = {"web": "http://127.0.0.1:18130/mcp"}
    assert plan.arguments(run, private, proxied) == []
    said = plan.environment(run, private, proxied, environ)
    assert said == {"QWEN_CODE_SYSTEM_SETTINGS_PATH": str(private / "mcp-settings.json")}
    assert json.loads((private / "mcp-settings.json").read_text()) == {
        "general": {"enableAutoUpdate": False},  # the system file it takes the place of, kept
        "mcpServers": {
            "admin": {"command": "a"},
            # Their own keys go on: the entry replaces the whole of theirs.
            "fs": relay(run, "fs", "user-fs", "/a")
            | {
                "env": {"ROOT": "$HOME"},
                "trust": True,
                "timeout": 9000,
                "includeTools": ["read_text_file"],
            },
            "web": {"headers": {"X-Key": "k"}, "httpUrl": "http://127.0.0.1:18130/mcp"},
            "proj": relay(run, "proj", "proj-server"),
        },
    }
    assert {path: path.read_bytes() for path in before} == before
    assert [server["from"] for server in plan.manifest()["servers"]] == ["own-home"] * 3


def test_gemini_cli_with_its_own_home_leaves_its_servers_unrecorded_and_says_why(tmp_path):
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text('{"mcpServers": {"fs": {"command": "user-fs"}}}')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        plan = plan_mcp(GEMINI, home="own", workdir=str(tmp_path))
        with pytest.raises(UsageError) as raised:
            plan_mcp(GEMINI, ["fs=x"], home="own", workdir=str(tmp_path))
    assert plan.manifest() == {
        "servers": [{"name": "fs", "transport": "stdio", "command": ["user-fs"], "from": "own-home"}],
        "wrapped": False,
        "why": "your own servers are started by the agent itself, unrecorded: gemini-cli 0.61.0 takes servers only "
        "from settings files, and skips a system settings file of the run's (one not owned by root, in a folder "
        "others can write)",
    }
    assert plan.environment(tmp_path / "run", tmp_path, {}, {}) == {}
    assert str(raised.value).startswith("--mcp-server and --mcp-config with --home own: ")


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"file": "~/.gemini/settings.json", "key": ["mcpServers"], "url_key": "httpUrl", "no_override": "why"},
         "expected a .json file inside the private home"),
        ({"file": "s.json", "key": ["mcpServers"], "url_key": "httpUrl"}, "expected override, or no_override"),
        ({"file": "s.json", "key": ["mcpServers"], "url_key": "httpUrl", "override": "X"},
         "expected with override, and only with it"),
    ],
)  # fmt: skip
def test_a_bad_settings_switch_is_refused_where_the_target_is_read(settings, said):
    with pytest.raises(Exception) as raised:
        parse_mcp({"style": "settings", "settings": settings}, Checker("t.yaml"))
    assert said in str(raised.value)
    with pytest.raises(Exception) as raised:
        parse_mcp({"style": "codex", "settings": settings}, Checker("t.yaml"))
    assert "expected with style: settings, and only with it" in str(raised.value)
