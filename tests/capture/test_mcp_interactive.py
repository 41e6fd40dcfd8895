"""An interactive session is given the run's MCP servers too: a stand-in agent in a tmux terminal, whose target takes
servers as codex does (-c mcp_servers.<name>.command and .args), starts the one given with --mcp-server through the
relay and talks to it; the run's mcp.jsonl holds what they said."""

import json
import os
import shlex
import sys

from conftest import PROJECT_ROOT
from terminal_session import TerminalSession

MCP_SERVER = PROJECT_ROOT / "tests" / "data" / "mcp_server.py"
# A stand-in agent's UI: it starts each server its -c options name, asks it initialize and tools/list, and shows the
# tools it got.
CLIENT = """
import json, subprocess, sys
options = dict(arg.split("=", 1) for arg in sys.argv[1:] if arg.startswith("mcp_servers."))
for key, value in options.items():
    if key.endswith(".command"):
        name = key.split(".")[1]
        server = subprocess.Popen([json.loads(value), *json.loads(options[f"mcp_servers.{name}.args"])],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        server.stdin.write(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}\\n')
        server.stdin.write(b'{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}\\n')
        server.stdin.flush()
        server.stdout.readline()
        tools = json.loads(server.stdout.readline())["result"]["tools"]
        print(name, "offers", ",".join(tool["name"] for tool in tools))
        server.stdin.close()
        server.wait()
input("agent> ")
"""
TARGET = """
name: mcp-stand-in
description: a stand-in agent that takes MCP servers as codex does
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.openai.com/"}
agent:
  command: [PYTHON, CLIENT, "{prompt}"]
  interactive: [PYTHON, CLIENT]
  env:
    OPENAI_BASE_URL: "{proxy.api}/v1"
  mcp:
    style: codex
"""


def test_an_interactive_session_is_given_the_runs_servers_through_the_relay(tmp_path, private_data_dir):
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    target = tmp_path / "stand-in.yaml"
    target.write_text(TARGET.replace("PYTHON", sys.executable).replace("CLIENT", str(client)))
    capture = [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--upstream", "mock",
               "--workdir", str(tmp_path), "--mcp-server", f"parcels={sys.executable} {MCP_SERVER}"]  # fmt: skip
    script = tmp_path / "session.sh"
    script.write_text(
        f"export PYTHONPATH={shlex.quote(str(PROJECT_ROOT))} PROBE_DATA_DIR={shlex.quote(str(private_data_dir))}\n"
        f'{shlex.join(capture)}\necho "probe exited $?"\n'
    )
    session = TerminalSession(["bash", str(script)], tmp_path, dict(os.environ))
    try:
        session.wait_for("parcels offers lookup_order,add_numbers,echo_text")
        session.wait_for("agent> ")
        session.type_line("", settle=0)
        session.wait_for("probe exited 0")
    finally:
        session.close()
    [run] = (private_data_dir / "mcp-stand-in").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["session"] == "interactive" and manifest["mcp"]["wrapped"] is True
    lines = [json.loads(line) for line in (run / "mcp.jsonl").read_text().splitlines()]
    said = [(line["from"], line["message"].get("method") or sorted(line["message"]["result"])) for line in lines
            if "message" in line]  # fmt: skip
    # Both asked before either answer came back: the two directions interleave as they were read.
    answers = [("server", ["capabilities", "protocolVersion", "serverInfo"]), ("server", ["tools"])]
    assert sorted(said) == sorted([("agent", "initialize"), ("agent", "tools/list"), *answers])
    assert [line["event"] for line in lines if "event" in line] == ["started", "exited"]
