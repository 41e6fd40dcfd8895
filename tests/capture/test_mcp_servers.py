"""Where a run's MCP servers come from (--mcp-server, --mcp-config, the user's own configuration with --home own, read
and never written) and how each agent is given them, wrapped in the relay; bad input is one line before anything
starts."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from probe.capture.mcp.servers import McpServer, given_servers, own_servers
from probe.capture.mcp.switch import plan_mcp
from probe.common.errors import UsageError
from probe.runs.targets import load_target

CLAUDE, CODEX = load_target("claude-code"), load_target("codex")
CAPTURE_CACHE = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def test_a_server_option_is_a_command_line_or_a_url():
    [fs, remote] = given_servers(["fs=npx -y 'server filesystem' /tmp/a b", "remote=https://mcp.example.com/mcp"], [])
    assert fs == McpServer("fs", "stdio", ("npx", "-y", "server filesystem", "/tmp/a", "b"), origin="option")
    assert remote == McpServer("remote", "http", url="https://mcp.example.com/mcp", origin="option")


def test_a_config_file_gives_stdio_and_http_servers(tmp_path):
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"mcpServers": {
        "fs": {"command": "node", "args": ["server.js", "/data"], "env": {"ROOT": "/data"}},
        "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer x"}},
    }}))  # fmt: skip
    fs, web = given_servers([], [str(config)])
    assert fs == McpServer("fs", "stdio", ("node", "server.js", "/data"), {"ROOT": "/data"}, origin="config")
    assert (web.transport, web.url, web.headers, web.origin) == (
        "http",
        "http://127.0.0.1:9/mcp",
        {"Authorization": "Bearer x"},
        "config",
    )


@pytest.mark.parametrize(
    "options, files, said",
    [
        (["fs"], [], "--mcp-server fs: expected NAME=COMMAND or NAME=URL"),
        (["my server=node x.js"], [], "--mcp-server my server=node x.js: server name 'my server': expected letters"),
        (["fs=node 'x.js"], [], "--mcp-server fs=node 'x.js: No closing quotation"),
        (["fs=node a.js", "fs=node b.js"], [], "MCP server 'fs' is given twice"),
        ([], ["{missing}"], "--mcp-config {missing}: no such file"),
        ([], ["{bad}"], "--mcp-config {bad}: not valid JSON: Expecting"),
        ([], ["{flat}"], '--mcp-config {flat}: expected {{"mcpServers": {{NAME:'),
        (["fs=node a.js"], ["{fs}"], "MCP server 'fs' is given twice"),
        ([], ["{sse}"], "--mcp-config {sse}: server 'old': its transport 'sse' is not recorded (stdio and http are)"),
    ],
)
def test_bad_input_is_one_line(tmp_path, options, files, said):
    paths = {"missing": tmp_path / "none.json", "bad": tmp_path / "bad.json", "flat": tmp_path / "flat.json"}
    paths |= {"fs": tmp_path / "fs.json", "sse": tmp_path / "sse.json"}
    paths["bad"].write_text('{"mcpServers": ')
    paths["flat"].write_text('{"fs": {"command": "node"}}')
    paths["fs"].write_text('{"mcpServers": {"fs": {"command": "node"}}}')
    paths["sse"].write_text('{"mcpServers": {"old": {"type": "sse", "url": "http://127.0.0.1:9/sse"}}}')
    files = [name.format(**paths) for name in files]
    with pytest.raises(UsageError) as raised:
        given_servers(options, files)
    assert str(raised.value).startswith(said.format(**paths)) and "\n" not in str(raised.value)


def own_home(tmp_path: Path, work: Path) -> Path:
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps({
        "mcpServers": {"fs": {"command": "user-fs"}, "memo": {"command": "memo-server", "env": {"MEMO": "1"}}},
        "projects": {str(work): {"mcpServers": {"fs": {"command": "local-fs", "args": ["--here"]}}},
                     "/elsewhere": {"mcpServers": {"other": {"command": "other"}}}},
    }))  # fmt: skip
    (work / ".mcp.json").write_text(json.dumps({"mcpServers": {"memo": {"command": "project-memo"}}}))
    (home / ".codex" / "config.toml").write_text(
        '[mcp_servers.fs]\ncommand = "codex-fs"\nargs = ["/data"]\nenv = { ROOT = "/data" }\n\n'
        '[mcp_servers.off]\ncommand = "x"\nenabled = false\n'
    )
    return home


def test_the_users_own_configuration_is_read_with_each_agents_scopes(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    home = own_home(tmp_path, work)
    environ = {"HOME": str(home)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        claude = own_servers(CLAUDE.mcp, str(work), environ)
        # Claude Code's local scope wins over its project's, which wins over the user's.
        assert {server.name: server.command for server in claude} == {
            "fs": ("local-fs", "--here"),
            "memo": ("project-memo",),
        }
        assert {server.origin for server in claude} == {"own-home"}
        # Without a known working folder (a fresh one) only the user scope is read.
        assert [server.command for server in own_servers(CLAUDE.mcp, None, environ)] == [("user-fs",), ("memo-server",)]
        [fs] = own_servers(CODEX.mcp, str(work), environ)
        assert fs == McpServer("fs", "stdio", ("codex-fs", "/data"), {"ROOT": "/data"}, origin="own-home")
        moved = tmp_path / "moved"
        moved.mkdir()
        (moved / ".claude.json").write_text('{"mcpServers": {"moved": {"command": "m"}}}')
        (moved / "config.toml").write_text('[mcp_servers.elsewhere]\ncommand = "e"\n')
        assert [
            server.name for server in own_servers(CLAUDE.mcp, None, environ | {"CLAUDE_CONFIG_DIR": str(moved)})
        ] == ["moved"]
        assert [server.name for server in own_servers(CODEX.mcp, None, environ | {"CODEX_HOME": str(moved)})] == [
            "elsewhere"
        ]


def test_claude_code_is_given_every_server_wrapped_in_one_private_file(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    home = own_home(tmp_path, work)
    private = tmp_path / "private"
    private.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        plan = plan_mcp(CLAUDE, ["extra=python3 -m server"], [], home="own", workdir=str(work))
    run = tmp_path / "run"
    arguments = plan.arguments(run, private, {})
    assert arguments == ["--mcp-config", str(private / "mcp-servers.json"), "--strict-mcp-config"]
    assert oct((private / "mcp-servers.json").stat().st_mode & 0o777) == "0o600"
    entries = json.loads((private / "mcp-servers.json").read_text())["mcpServers"]
    relay = [sys.executable, "-m", "probe.capture.mcp.relay", str(run.resolve() / "mcp.jsonl")]
    cache = ["--cache", CAPTURE_CACHE]  # the capture's, where the secret rules are kept compiled
    assert entries == {
        "fs": {"command": relay[0], "args": [*relay[1:], "fs", *cache, "--", "local-fs", "--here"]},
        "memo": {"command": relay[0], "args": [*relay[1:], "memo", *cache, "--", "project-memo"]},
        "extra": {"command": relay[0], "args": [*relay[1:], "extra", *cache, "--", "python3", "-m", "server"]},
    }
    assert plan.manifest() == {"servers": [
        {"name": "fs", "transport": "stdio", "command": ["local-fs", "--here"], "from": "own-home"},
        {"name": "memo", "transport": "stdio", "command": ["project-memo"], "from": "own-home"},
        {"name": "extra", "transport": "stdio", "command": ["python3", "-m", "server"], "from": "option"},
    ], "wrapped": True}  # fmt: skip


def test_a_prompt_run_allows_the_tools_of_the_servers_named_for_it_and_your_own_keep_your_permissions(tmp_path):
    """Claude Code's don't-ask mode refuses an MCP tool not allowed outright: a prompt run's calls all came back
    refused. An interactive session asks, as usual; codex's target allows nothing."""
    work = tmp_path / "work"
    work.mkdir()
    home = own_home(tmp_path, work)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        plan = plan_mcp(CLAUDE, ["extra=python3 -m server", "ev=http://127.0.0.1:9/mcp"], [], home="own",
                        workdir=str(work), http=True)  # fmt: skip
    private = tmp_path / "private"
    private.mkdir()
    urls = {"ev": "http://127.0.0.1:8/mcp"}
    assert plan.arguments(tmp_path / "run", private, urls, prompt_run=True) == [
        "--allowedTools", "mcp__extra", "--allowedTools", "mcp__ev",
        "--mcp-config", str(private / "mcp-servers.json"), "--strict-mcp-config",
    ]  # fmt: skip
    assert plan.arguments(tmp_path / "run", private, urls) == [
        "--mcp-config", str(private / "mcp-servers.json"), "--strict-mcp-config",
    ]  # fmt: skip
    codex = plan_mcp(CODEX, ["fs=fs-server"], [], workdir=str(tmp_path))
    assert "--allowedTools" not in codex.arguments(tmp_path / "run", private, {}, prompt_run=True)


def test_codex_is_given_each_server_with_c_options_and_its_env_through_a_private_file(tmp_path):
    config = tmp_path / "servers.json"
    config.write_text('{"mcpServers": {"fs": {"command": "fs-server", "args": ["/d"], "env": {"FS_TOKEN": "t0k"}}}}')
    plan = plan_mcp(CODEX, [], [str(config)], workdir=str(tmp_path))
    run, private = tmp_path / "run", tmp_path
    relay = [sys.executable, "-m", "probe.capture.mcp.relay", str(run.resolve() / "mcp.jsonl"), "fs"]
    server = ["--env", str(private / "mcp-env-fs.json"), "--cache", CAPTURE_CACHE, "--", "fs-server", "/d"]
    assert plan.arguments(run, private, {}) == [
        "-c", f"mcp_servers.fs.command={json.dumps(sys.executable)}",
        "-c", f"mcp_servers.fs.args={json.dumps([*relay[1:], *server])}",
        "-c", "mcp_servers.fs.required=true",  # codex waits for it before its first request
    ]  # fmt: skip
    assert json.loads((private / "mcp-env-fs.json").read_text()) == {"FS_TOKEN": "t0k"}
    assert oct((private / "mcp-env-fs.json").stat().st_mode & 0o777) == "0o600"


def test_what_a_run_without_servers_or_without_a_switch_records():
    assert plan_mcp(CODEX).manifest() == {"servers": [], "wrapped": False, "why": "no MCP server in this run"}
    said = plan_mcp(CLAUDE, home="own", no_mcp=True).manifest()
    assert said == {"servers": [], "wrapped": False, "why": said["why"]} and said["why"].startswith("--no-mcp: ")
    opencode = load_target("opencode")
    assert plan_mcp(opencode).why == "opencode's target file declares no agent.mcp"
    for options, asked in ((["fs=x"], dict(target=opencode)), (["fs=x"], dict(target=CODEX, no_mcp=True)),
                           (["fs=x"], dict(target=CODEX, agent=False))):  # fmt: skip
        with pytest.raises(UsageError):
            plan_mcp(options=options, **asked)


def hashes(folder: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    "option, said",
    [
        ("--mcp-server=bad name=x", "error: --mcp-server bad name=x: server name 'bad name': expected letters"),
        ("--mcp-config=/nonexistent/servers.json", "error: --mcp-config /nonexistent/servers.json: no such file"),
        (
            "--mcp-server=far=https://mcp.example.com/mcp",
            "error: --mcp-server far: an HTTP server off this machine is "
            "not reached in a run against the mock or a replay (give one on 127.0.0.1, or --upstream a real API)\n",
        ),
    ],
)
def test_the_command_says_bad_input_in_one_line_before_anything_starts(tmp_path, option, said):
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "codex", "--upstream", "mock", "--prompt", "hi", option],
        cwd=PROJECT_ROOT, env=dict(os.environ, PROBE_DATA_DIR=str(data)), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith(said) and result.stderr.count("\n") == 1
    assert not data.exists()  # no run folder: nothing started


def test_an_http_server_goes_to_its_proxy_of_the_run_where_the_proxies_take_one(tmp_path):
    with pytest.raises(UsageError, match="HTTP MCP servers are not recorded by this version"):
        plan_mcp(CLAUDE, ["web=https://mcp.example.com/mcp"])
    plan = plan_mcp(CLAUDE, ["web=https://mcp.example.com/mcp"], http=True)
    assert plan.http_upstreams() == {"web": "https://mcp.example.com/mcp"}
    plan.arguments(tmp_path / "run", tmp_path, {"web": "http://127.0.0.1:4242/mcp"})
    entries = json.loads((tmp_path / "mcp-servers.json").read_text())["mcpServers"]
    assert entries == {"web": {"type": "http", "url": "http://127.0.0.1:4242/mcp"}}
    codex = plan_mcp(CODEX, ["web=https://mcp.example.com/mcp"], http=True)
    assert codex.arguments(tmp_path, tmp_path, {"web": "http://127.0.0.1:4242/mcp"}) == [
        "-c", 'mcp_servers.web.url="http://127.0.0.1:4242/mcp"', "-c", "mcp_servers.web.required=true"
    ]  # fmt: skip


def test_a_run_against_a_stand_in_model_reaches_no_http_server_off_this_machine(tmp_path, capsys):
    """Your own HTTP server on another host, with your headers, would be reached through the run's proxy in a run
    against the mock or a replay: left out, with a warning and the manifest's word; one named with --mcp-server is an
    error (above). On this machine, or against a real API, it is given as before."""
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"mcpServers": {
        "far": {"type": "http", "url": "https://mcp.example.com/mcp?key=k3y", "headers": {"Authorization": "Bearer t"}},
        "near": {"type": "http", "url": "http://127.0.0.1:8123/mcp"},
        "local": {"type": "http", "url": "http://localhost:8124/mcp"},
        "fs": {"command": "fs-server"},
    }}))  # fmt: skip
    plan = plan_mcp(CLAUDE, [], [str(config)], http=True, stand_in=True)
    assert [server.name for server in plan.servers] == ["near", "local", "fs"]
    assert plan.http_upstreams() == {"near": "http://127.0.0.1:8123/mcp", "local": "http://localhost:8124/mcp"}
    why = "an HTTP server off this machine is not reached in a run against the mock or a replay"
    [left_out] = plan.manifest()["left_out"]
    assert left_out["name"] == "far" and left_out["from"] == "config" and left_out["why"] == why
    assert left_out["url"].startswith("https://mcp.example.com/mcp") and "k3y" not in json.dumps(plan.manifest())
    warned = capsys.readouterr().err.splitlines()
    assert len(warned) == 1 and warned[0].startswith("warning: MCP server far (https://mcp.example.com/mcp")
    assert warned[0].endswith(f") left out: {why}") and "k3y" not in warned[0]
    alone = tmp_path / "alone.json"
    alone.write_text(json.dumps({"mcpServers": {"far": {"type": "http", "url": "https://mcp.example.com/mcp"}}}))
    said = plan_mcp(CLAUDE, [], [str(alone)], http=True, stand_in=True).manifest()
    assert (
        said["wrapped"] is False and said["why"] == "no MCP server in this run" and said["left_out"][0]["name"] == "far"
    )
    assert [server.name for server in plan_mcp(CLAUDE, [], [str(config)], http=True).servers] == [
        "far", "near", "local", "fs"
    ]  # fmt: skip
