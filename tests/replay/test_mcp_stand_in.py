"""The replay's stand-in for a stdio MCP server, driven by the official Python SDK's client (mcp 2.3.0) as an agent
would drive the server: it answers initialize, tools/list and each tools/call from a recorded mcp.jsonl written
here (ids the client's own, repeated calls in any order), names a call the recording does not hold as a divergence
with its server, method and diff, and reads a hostile recording (bad lines, huge lines) into notes, never a
traceback (that one driven by hand, as the tests without the SDK are: they run beside mitmproxy 11 too)."""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from mcp_recordings import INITIALIZED, SERVER, TOOLS, recorded_lines, write_recording
from mcp_sdk_client import a_session, stdio_stand_in
from own_loop import run_apart

from probe.common.errors import RunError
from probe.common.paths import display
from probe.replay.mcp_matching import McpMatcher
from probe.replay.mcp_recorded import read_recording
from probe.replay.mcp_servers import RecordedServer, start_stand_ins
from probe.replay.trust import NO_MCP_RECORD


def told(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def raw_session(recorded: Path, divergence: Path, messages: list) -> list[dict]:
    """The stand-in driven by hand: each message (an object, or bytes as they are) a line on its stdin, then its
    stdin closed; what it answered, a JSON object a line."""
    command = [sys.executable, "-m", "probe.replay.mcp_stand_in", "--recorded", str(recorded), "--server", SERVER]
    sent = b"".join((each if isinstance(each, bytes) else json.dumps(each).encode()) + b"\n" for each in messages)
    result = subprocess.run(command + ["--divergence", str(divergence)], input=sent, capture_output=True,
                            cwd=PROJECT_ROOT, timeout=60)  # fmt: skip
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.mcp_sdk
def test_the_sdk_client_gets_the_recorded_answers(tmp_path):
    recorded = write_recording(tmp_path / "run", recorded_lines())
    divergence = tmp_path / "told.jsonl"
    calls = [("list_directory", {"path": "."}), ("read_file", {"path": "todo.txt"}),
             ("read_file", {"path": "notes.txt"}), ("read_file", {"path": "notes.txt"})]  # fmt: skip
    got = run_apart(a_session(stdio_stand_in(recorded, divergence), calls))
    assert got["server"].name == INITIALIZED["serverInfo"]["name"] and got["server"].version == "9.9.9"
    assert got["instructions"] == "Recorded instructions of the filesystem server."
    assert got["tools"] == [tool["name"] for tool in TOOLS]
    # Asked in another order than recorded, and notes.txt once more than recorded: the same answer again.
    assert got["results"] == [
        (False, ["[FILE] notes.txt\n[FILE] todo.txt"]),
        (False, ["recorded todo: buy milk"]),
        (False, ["recorded notes: 42"]),
        (False, ["recorded notes: 42"]),
    ]
    (stopped,) = [line for line in told(divergence) if line["event"] == "stopped"]
    assert stopped == {"event": "stopped", "server": SERVER, "requests": 6, "served": 5, "repeated": 1,
                       "diverged": 0, "not_asked": []}  # fmt: skip


@pytest.mark.mcp_sdk
def test_a_call_the_recording_lacks_is_a_divergence_named(tmp_path):
    recorded = write_recording(tmp_path / "run", recorded_lines())
    divergence = tmp_path / "told.jsonl"
    got = run_apart(a_session(stdio_stand_in(recorded, divergence), [("read_file", {"path": "secret-plans.txt"})]))
    ((kind, code, message),) = got["results"]
    assert (
        kind == "error"
        and code == -32000
        and message.startswith("agent-probe replay: MCP server 'fs': call 3 (tools/call read_file)")
    )
    assert message.endswith("matches no recorded call; expected recorded call #3")
    (diverged,) = [line for line in told(divergence) if line["event"] == "diverged"]
    assert diverged["server"] == SERVER and diverged["method"] == "tools/call" and diverged["request"] == 3
    assert '| params.arguments.path | `"notes.txt"` | `"secret-plans.txt"` |' in diverged["diff"]
    (stopped,) = [line for line in told(divergence) if line["event"] == "stopped"]
    assert stopped["diverged"] == 1 and stopped["not_asked"] == [3, 4, 5]


def test_hostile_recordings_give_notes_not_a_traceback(tmp_path):
    lines = recorded_lines()
    lines.insert(3, {"server": SERVER, "from": "server", "message": {"jsonrpc": "2.0", "id": 77, "result": {}}})
    head = '{"jsonrpc": "2.0", "id": 4, "result": {"content": [{"type": "text", "text": "aaaa'
    lines[-1] = {"server": SERVER, "from": "server", "message": None, "cut": True, "size": 5_000_000, "head": head}
    lines.insert(3, {"server": SERVER, "from": "agent", "message": ["not", "an", "object"]})
    lines.insert(3, {"server": {"a": 1}, "from": "agent", "message": {"id": 1, "method": 5}})
    huge = b'{"server": "fs", "from": "agent", "message": "' + b"x" * (33 * 1024 * 1024) + b'"}\n'
    extra = b"not json at all\n[1, 2]\n\x00\xff\xfe\n" + huge + b'{"nested": ' * 100_000 + b"\n"
    recorded = write_recording(tmp_path / "run", lines, extra)
    recording = read_recording(recorded, SERVER)
    assert [call.method for call in recording.calls] == ["initialize", "tools/list", "tools/call", "tools/call",
                                                           "tools/call"]  # fmt: skip
    assert recording.calls[4].answer_cut and recording.calls[4].answer is None  # the cut answer of id 4
    assert recording.notes == [
        "line 5: its message is not a JSON-RPC object, left out",
        "line 6: an answer to no recorded request, left out",
        "line 17: not a JSON object, left out",
        "line 18: not a JSON object, left out",
        "line 19: not a JSON object, left out",
        f"line 20: {len(huge):,} bytes, over the 33,554,432-byte limit, left out",
        "line 21: not a JSON object, left out",
    ]
    divergence = tmp_path / "told.jsonl"
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}
    listing = {"jsonrpc": "2.0", "id": "two", "method": "tools/call", "params": {"name": "list_directory",
               "arguments": {"path": "."}, "_meta": {"progressToken": 99}}}  # fmt: skip
    answers = raw_session(recorded, divergence, [initialize, b"{not json", b"x" * (33 * 1024 * 1024), listing])
    assert answers == [
        {"jsonrpc": "2.0", "result": INITIALIZED, "id": 1},
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "agent-probe replay: not JSON"}},
        {"jsonrpc": "2.0", "id": None,
         "error": {"code": -32700, "message": "agent-probe replay: a message over the stand-in's size limit"}},
        {"jsonrpc": "2.0", "id": "two",
         "error": {"code": -32000, "message": "agent-probe replay: the recorded answer was too big to have been kept"}},
    ]  # fmt: skip
    notes = [line["note"] for line in told(divergence) if line["event"] == "note"]
    assert notes == recording.notes


def test_a_recording_that_is_not_a_file_serves_nothing_and_says_so(tmp_path):
    recording = read_recording(tmp_path, SERVER)
    assert recording.calls == [] and recording.notes == [
        f"{tmp_path.name}: not a regular file, nothing recorded to serve"
    ]
    matcher = McpMatcher(recording)
    answer = matcher.reply({"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {}})
    assert answer["id"] == "a" and "matches no recorded call; expected nothing recorded" in answer["error"]["message"]
    assert matcher.reply({"jsonrpc": "2.0", "id": 9, "method": "ping"}) == {"jsonrpc": "2.0", "id": 9, "result": {}}
    assert matcher.reply([{"jsonrpc": "2.0", "method": "notifications/initialized"}]) is None
    assert matcher.reply("text")["error"]["code"] == -32600


def test_a_recording_signed_as_recorded_here_is_served_only_as_it_was_signed(tmp_path):
    """The stand-in of a run replayed by its signature reads the mcp.jsonl it was signed with, or refuses in one line;
    so does the replay, before its agent starts."""
    recorded = write_recording(tmp_path / "run", recorded_lines())
    digest = hashlib.sha256(recorded.read_bytes()).hexdigest()
    assert [call.method for call in read_recording(recorded, SERVER, digest).calls][:2] == ["initialize", "tools/list"]
    start_stand_ins(recorded.parent, [RecordedServer(SERVER, "stdio")], tmp_path, digest).remove()
    recorded.write_text(recorded.read_text().replace("list_directory", "delete_everything"))
    said = f"{display(recorded)} is not the capture recorded on this machine: it changed after the run was signed"
    with pytest.raises(RunError, match=re.escape(said)):
        read_recording(recorded, SERVER, digest)
    with pytest.raises(RunError, match=re.escape(said)):
        start_stand_ins(recorded.parent, [RecordedServer(SERVER, "stdio")], tmp_path, digest)
    # A run signed with no MCP record serves none that was added since.
    with pytest.raises(RunError, match=re.escape(said)):
        start_stand_ins(recorded.parent, [RecordedServer(SERVER, "stdio")], tmp_path, NO_MCP_RECORD)
    stand_in = subprocess.run(
        [sys.executable, "-m", "probe.replay.mcp_stand_in", "--recorded", str(recorded), "--server", SERVER,
         "--mcp-sha256", digest], input=b"", capture_output=True, cwd=PROJECT_ROOT, timeout=60,
    )  # fmt: skip
    assert stand_in.returncode != 0 and said in stand_in.stderr.decode() and stand_in.stdout == b""
