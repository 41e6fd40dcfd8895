"""What a replay makes of its MCP stand-ins: the servers of the recorded manifest it stands in for (a name or
transport it cannot give an agent left out, with a warning), the stand-ins it starts (a command for each stdio one,
a URL with the recorded path for each HTTP one, never the recorded command or host), and the `mcp` entry of the
new run's `replay` record, read from what the stand-ins told, two sessions of one server counted together."""

import sys

import pytest
from mcp_recordings import recorded_lines, write_recording
from mcp_sdk_client import a_session, stdio_command
from own_loop import run_apart

from probe.replay.mcp_outcome import mcp_outcome
from probe.replay.mcp_servers import RecordedServer, recorded_servers, start_stand_ins


def test_the_recorded_servers_a_replay_stands_in_for(capsys):
    manifest = {"mcp": {"servers": [
        {"name": "fs", "transport": "stdio", "command": ["rm", "-rf", "/"]},
        {"name": "everything", "transport": "http", "url": "http://evil.example:9/mcp?key=<masked>"},
        {"name": "../../x", "transport": "stdio"},
        {"name": "fs", "transport": "http", "url": "http://a/b"},
        {"name": "ws", "transport": "websocket"},
        "not an entry",
    ]}}  # fmt: skip
    assert recorded_servers(manifest) == [
        RecordedServer("fs", "stdio", "/"),
        RecordedServer("everything", "http", "/mcp?key=<masked>"),
    ]
    warned = capsys.readouterr().err.splitlines()
    assert len(warned) == 3 and all("is not one a replay can stand in for" in line for line in warned)
    assert "'../../x'" in warned[0] and "'websocket'" in warned[1] and "'not an entry'" in warned[2]
    assert recorded_servers({"mcp": "nonsense"}) == [] and recorded_servers({}) == []


@pytest.mark.mcp_sdk
def test_stand_ins_serve_two_sessions_and_the_record_counts_them(tmp_path):
    run = tmp_path / "run"
    write_recording(run, recorded_lines("fs", "stdio") + recorded_lines("everything", "http", sse=True), b"{]\n")
    servers = [RecordedServer("fs", "stdio"), RecordedServer("everything", "http", "/mcp")]
    stand_ins = start_stand_ins(run, servers, tmp_path)
    try:
        command = stand_ins.commands["fs"]
        assert command[:4] == [sys.executable, "-m", "probe.replay.mcp_stand_in", "--server"] and "npx" not in command
        assert stand_ins.urls["everything"].startswith("http://127.0.0.1:")
        assert stand_ins.urls["everything"].endswith("/mcp")
        stdio = stdio_command(command)
        first = run_apart(a_session(stdio, [("read_file", {"path": "notes.txt"})]))
        second = run_apart(a_session(stdio, [("read_file", {"path": "todo.txt"}), ("read_file", {"path": "x"})]))
        http = run_apart(a_session(stand_ins.urls["everything"], [("list_directory", {"path": "."})]))
        assert first["results"] == [(False, ["recorded notes: 42"])]
        assert second["results"][0] == (False, ["recorded todo: buy milk"]) and second["results"][1][0] == "error"
        assert http["results"] == [(False, ["[FILE] notes.txt\n[FILE] todo.txt"])]
        stand_ins.stop()
        record = mcp_outcome(stand_ins.told, ["fs", "everything"])
    finally:
        stand_ins.remove()
    assert not stand_ins.told.parent.exists()
    assert record["servers"] == {
        "fs": {"requests": 7, "served": 6, "repeated": 0, "diverged": 1, "not_asked": [5]},
        "everything": {"requests": 3, "served": 3, "repeated": 0, "diverged": 0, "not_asked": [3, 4]},
    }
    assert record["status"] == "diverged at call 4 of fs" and record["server"] == "fs"
    assert record["method"] == "tools/call" and record["divergences"] == 1 and record["consequences"] == []
    assert record["first_divergence"].startswith("MCP server 'fs': call 4 (tools/call read_file) matches no")
    assert '| params.arguments.path | `"notes.txt"` | `"x"` |' in record["diff"]
    # Told by each stand-in that read the line (fs twice), kept once.
    assert sorted(record["notes"]) == [
        "everything: line 27: not a JSON object, left out",
        "fs: line 27: not a JSON object, left out",
    ]


def test_no_servers_no_record(tmp_path):
    assert mcp_outcome(tmp_path / "none.jsonl", []) is None
    assert mcp_outcome(tmp_path / "none.jsonl", ["fs"]) == {
        "servers": {"fs": {"requests": 0, "served": 0, "repeated": 0, "diverged": 0, "not_asked": []}},
        "status": "every call matched",
    }
