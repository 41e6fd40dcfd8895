"""read_mcp: a run's mcp.jsonl into each server's session, and a hostile one read with notes, never a traceback."""

import json
import os

from probe.read.mcp import session as session_module
from probe.read.mcp.reader import LINE_LIMIT, read_mcp

T0 = 1_700_000_000.0


def line(at, sender, message, server="fs", transport="stdio", **extra):
    size = len(json.dumps(message).encode())
    return {"t": T0 + at, "server": server, "transport": transport, "from": sender, "size": size,
            "message": message, **extra}  # fmt: skip


def write(run, records):
    run.mkdir(exist_ok=True)
    with (run / "mcp.jsonl").open("w") as file:
        for record in records:
            file.write(record if isinstance(record, str) else json.dumps(record))
            file.write("\n")
    return run


TOOLS = [
    {"name": "read_file", "description": "Read a file.", "inputSchema": {"type": "object"}},
    {"name": "list_directory", "description": "List a folder.", "inputSchema": {"type": "object"}},
]


def session_lines():
    return [
        {"t": T0, "server": "fs", "transport": "stdio", "event": "started", "command": ["npx", "server-fs", "/tmp/w"],
         "pid": 4242},
        line(0.1, "agent", {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                            "params": {"protocolVersion": "2025-06-18", "capabilities": {"roots": {}},
                                       "clientInfo": {"name": "claude-code", "version": "2.1.330"}}}),
        line(0.3, "server", {"jsonrpc": "2.0", "id": 0, "result": {
            "protocolVersion": "2025-06-18", "capabilities": {"tools": {"listChanged": True}},
            "serverInfo": {"name": "secure-filesystem-server", "version": "2026.8.31"},
            "instructions": "Use absolute paths."}}),
        line(0.31, "agent", {"jsonrpc": "2.0", "method": "notifications/initialized"}),
        line(0.4, "agent", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        line(0.5, "server", {"jsonrpc": "2.0", "id": 1, "result": {"tools": TOOLS[:1], "nextCursor": "p2"}}),
        line(0.6, "agent", {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"cursor": "p2"}}),
        line(0.7, "server", {"jsonrpc": "2.0", "id": 2, "result": {"tools": TOOLS[1:]}}),
        # the server asks the client back: roots/list, with an id the agent's own requests also use
        line(0.8, "server", {"jsonrpc": "2.0", "id": 1, "method": "roots/list"}),
        line(0.9, "agent", {"jsonrpc": "2.0", "id": 1, "result": {"roots": [{"uri": "file:///tmp/w"}]}}),
        line(2.0, "agent", {"jsonrpc": "2.0", "id": "3", "method": "tools/call",
                            "params": {"name": "read_file", "arguments": {"path": "/tmp/w/a.txt"},
                                       "_meta": {"progressToken": 7}}}),
        line(2.5, "server", {"jsonrpc": "2.0", "method": "notifications/progress",
                             "params": {"progressToken": 7, "progress": 1, "total": 2, "message": "half"}}),
        line(3.25, "server", {"jsonrpc": "2.0", "id": "3", "result": {"content": [{"type": "text", "text": "hello"}]}}),
        line(4.0, "agent", {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                            "params": {"name": "read_file", "arguments": {"path": "/nope"}}}),
        line(4.5, "server", {"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "ENOENT"}],
                                                                   "isError": True}}),
        line(5.0, "server", {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        line(5.1, "agent", {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
        line(5.2, "server", {"jsonrpc": "2.0", "id": 4, "result": {"tools": TOOLS[:1]}}),
        line(5.5, "server", {"jsonrpc": "2.0", "id": 5, "method": "sampling/createMessage",
                             "params": {"messages": [], "maxTokens": 10}}),
        line(6.0, "agent", {"jsonrpc": "2.0", "id": 5, "error": {"code": -32600, "message": "sampling refused"}}),
        line(6.5, "agent", {"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {"uri": "file:///x"}}),
        {"t": T0 + 7, "server": "fs", "transport": "stdio", "event": "exited", "code": None, "signal": "SIGTERM"},
    ]  # fmt: skip


def test_a_session_is_read_whole(tmp_path):
    recording = read_mcp(write(tmp_path / "run", session_lines()))
    assert recording.notes == []
    session = recording.sessions["fs"]
    assert session.command == ["npx", "server-fs", "/tmp/w"]
    assert session.protocol_version == "2025-06-18"
    assert session.server_info == {"name": "secure-filesystem-server", "version": "2026.8.31"}
    assert session.capabilities == {"tools": {"listChanged": True}}
    assert session.instructions == "Use absolute paths."
    assert session.client_info == {"name": "claude-code", "version": "2.1.330"}
    assert (session.started, session.ended, session.exit) == (T0, T0 + 7, "killed by SIGTERM")
    # two pages joined into one listing, then the listing after list_changed
    assert [(round(listing.at - T0, 6), listing.names()) for listing in session.listings] == [
        (0.7, ["read_file", "list_directory"]), (5.2, ["read_file"])]  # fmt: skip
    by = {(call.asked_by, call.request_id): call for call in session.calls}
    read = by[("agent", '"3"')]
    assert (read.method, read.tool, read.arguments) == ("tools/call", "read_file", {"path": "/tmp/w/a.txt"})
    assert read.result == {"content": [{"type": "text", "text": "hello"}]}
    assert (read.seconds, read.is_error, read.error) == (1.25, False, None)
    assert read.progress == [{"t": T0 + 2.5, "progress": 1, "total": 2, "message": "half"}]
    failed = by[("agent", "3")]  # the id 3 is not the id "3"
    assert (failed.is_error, failed.seconds, failed.arguments) == (True, 0.5, {"path": "/nope"})
    roots = by[("server", "1")]
    assert (roots.method, roots.result, roots.seconds) == ("roots/list", {"roots": [{"uri": "file:///tmp/w"}]}, 0.1)
    assert by[("agent", "1")].method == "tools/list"
    sampling = by[("server", "5")]
    assert sampling.error == {"code": -32600, "message": "sampling refused"}
    unanswered = by[("agent", "6")]
    assert (unanswered.error, unanswered.ended, unanswered.arguments) == ({"message": "no answer"}, None,
                                                                          {"uri": "file:///x"})  # fmt: skip
    assert [(note["from"], note["method"]) for note in session.notifications] == [
        ("agent", "notifications/initialized"), ("server", "notifications/tools/list_changed")]  # fmt: skip
    assert session.problems == ["agent request 6 (resources/read) never answered"]
    assert session.bytes_in > 0 and session.messages == 20


def test_problems_of_a_server_are_recorded(tmp_path):
    records = [
        {"t": T0, "server": "bad", "transport": "stdio", "event": "failed", "error": "npx: not found\nmore"},
        {"t": T0, "server": "noisy", "transport": "stdio", "event": "started", "command": ["srv"], "pid": 1},
        {"t": T0 + 1, "server": "noisy", "transport": "stdio", "from": "server", "not_json": "Server running",
         "size": 15},
        line(2, "server", {"jsonrpc": "2.0", "id": 99, "result": {}}, server="noisy"),
        line(3, "agent", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x"}}, server="noisy"),
        line(3.5, "agent", {"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 1, "reason": "timed out"}}, server="noisy"),
        {"t": T0 + 4, "server": "noisy", "transport": "stdio", "event": "exited", "code": 1, "signal": None},
    ]  # fmt: skip
    recording = read_mcp(write(tmp_path / "run", records))
    assert recording.sessions["bad"].exit == "failed: npx: not found more"
    assert recording.sessions["bad"].problems == ["could not start: npx: not found more"]
    noisy = recording.sessions["noisy"]
    assert noisy.problems == [
        "the server wrote a line that is not JSON: Server running",
        "the server ended: exit code 1",
        "an answer from the server to no request: id 99",
    ]
    assert noisy.calls[0].error == {"message": "cancelled: timed out"} and noisy.calls[0].seconds == 0.5
    assert noisy.exit == "exit code 1"


def test_a_cut_message_answers_its_request_by_the_id_its_head_shows(tmp_path):
    records = [
        line(0, "agent", {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "read_file"}}),
        {"t": T0 + 2, "server": "fs", "transport": "stdio", "from": "server", "size": 5_000_000, "message": None,
         "cut": True, "head": '{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"aaaa'},
    ]  # fmt: skip
    call = read_mcp(write(tmp_path / "run", records)).sessions["fs"].calls[0]
    assert (call.cut, call.seconds, call.answer_size, call.result, call.error) == (True, 2.0, 5_000_000, None, None)


def test_an_http_servers_sessions_are_named(tmp_path):
    http = {"method": "POST", "status": 200, "content_type": "text/event-stream", "session": "abc-1"}
    event = {"t": T0 + 1, "server": "ev", "transport": "http"}
    records = [
        event | {"t": T0, "event": "started", "url": "http://127.0.0.1:3001/mcp"},
        line(0, "agent", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, server="ev", transport="http", http=http),
        line(0.2, "server", {"jsonrpc": "2.0", "id": 1, "result": {}}, server="ev", transport="http", http=http),
        event | {"event": "failed", "error": "connection reset"},
        event | {"event": "closed", "by": "agent"},
        event | {"event": "session-ended"},
    ]
    session = read_mcp(write(tmp_path / "run", records)).sessions["ev"]
    assert (session.transport, session.http_sessions, session.calls[0].http_session) == ("http", ["abc-1"], "abc-1")
    assert (session.url, session.exit, session.problems) == ("http://127.0.0.1:3001/mcp", None,
                                                             ["an HTTP exchange failed: connection reset"])  # fmt: skip
    assert [(note["from"], note["method"]) for note in session.notifications] == [
        ("agent", "(closed)"), ("agent", "(session-ended)")]  # fmt: skip


def test_a_hostile_record_is_read_with_notes(tmp_path):
    nested = "[" * 5000 + "]" * 5000
    records = [
        "not json at all", "[1, 2]", nested, "",
        {"t": "soon", "server": "fs", "transport": "stdio", "event": "started"},
        {"t": T0, "server": ["fs"], "transport": "stdio", "event": "started"},
        {"t": float("inf") if False else 1e400, "server": "fs", "transport": "stdio", "event": "started"},
        {"t": T0, "server": "fs", "transport": "carrier-pigeon", "event": "started"},
        {"t": T0, "server": "fs", "transport": "stdio", "from": "someone", "message": {}},
        {"t": T0, "server": "fs", "transport": "stdio", "from": "agent"},
        line(1, "agent", "a string"), line(1, "agent", {"jsonrpc": "2.0", "id": [1], "method": "tools/call"}),
        line(1, "agent", {"jsonrpc": "2.0", "id": 2, "method": 5}),
        line(1, "agent", {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": "nonsense"}),
        line(1.5, "server", {"jsonrpc": "2.0", "id": 3, "result": "not an object", "error": 12}),
        line(2, "agent", {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
        line(2.1, "server", {"jsonrpc": "2.0", "id": 4, "result": {"tools": [{"nameless": True}, 5, {"name": "ok"}]}}),
        {"t": T0 + 3, "server": "fs", "transport": "stdio", "event": "exited", "code": True, "signal": 9},
    ]  # fmt: skip
    run = write(tmp_path / "run", records)
    with (run / "mcp.jsonl").open("a") as file:
        file.write('{"t": 1, "server": "fs", "junk": "' + "x" * (LINE_LIMIT + 10) + '"}\n')
        file.write("\xff\xfe garbage \n")
    recording = read_mcp(run)
    assert recording.notes[:4] == [
        "line 1 is no JSON object: skipped",
        "line 2 is no JSON object: skipped",
        "line 3 is no JSON object: skipped",
        "line 5 has no time or no server: skipped",
    ]
    assert "line 8 has no known transport (carrier-pigeon): skipped" in recording.notes
    assert f"line 19 is {LINE_LIMIT + 47:,} bytes, longer than {LINE_LIMIT:,}: skipped" in recording.notes
    session = recording.sessions["fs"]
    assert session.problems[:4] == ["a message from the agent that is no JSON-RPC object: a string",
                                    "a tools/call request from the agent with an id of the wrong type",
                                    "a message from the agent whose method is no name: 5",
                                    "a tool in a tools/list answer with no name: {'nameless': True}"]  # fmt: skip
    call = session.calls[0]
    assert (call.tool, call.arguments, call.error) == (None, "nonsense", {"message": "12"})
    assert session.listings[0].names() == ["ok"] and session.exit == "ended"


def test_what_is_kept_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "CALLS_KEPT", 5)
    monkeypatch.setattr(session_module, "PENDING_KEPT", 3)
    monkeypatch.setattr(session_module, "PROBLEMS_KEPT", 2)
    monkeypatch.setattr(session_module, "CONTENT_BUDGET", 1000)
    asked = [{"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "t", "arguments": {"x": "y" * 300}}}
             for n in range(10)]  # fmt: skip
    records = [line(n, "agent", message) for n, message in enumerate(asked)]
    assert {record["size"] for record in records} == {400}  # so two fit in the budget of 1,000 bytes
    session = read_mcp(write(tmp_path / "run", records)).sessions["fs"]
    assert (len(session.calls), session.more_calls) == (5, 5)
    kept = [(call.arguments is not None, call.cut) for call in session.calls]
    assert kept == [(True, False), (True, False), (False, True), (False, True), (False, True)]
    assert [call.error for call in session.calls[:2]] == [{"message": "no answer"}] * 2  # given up past 3 waiting
    assert (len(session.problems), session.more_problems) == (2, 1)


def test_no_record_and_a_link_are_an_empty_recording(tmp_path):
    assert read_mcp(tmp_path).sessions == {}
    (tmp_path / "elsewhere.jsonl").write_text(json.dumps(session_lines()[1]) + "\n")
    os.symlink(tmp_path / "elsewhere.jsonl", tmp_path / "mcp.jsonl")
    assert read_mcp(tmp_path).sessions == {}


def test_an_answer_written_before_its_request_is_its_answer(tmp_path):
    """The relay writes each direction from its own thread: a quick server's answer can reach the file first (seen
    with Claude Code 2.1.330 and tests/data/mcp_server.py: the answer stamped 4 ms before its request)."""
    asked = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
             "params": {"name": "echo_text", "arguments": {"text": "hi"},
                        "_meta": {"claudecode/toolUseId": "toolu_e82a", "progressToken": 2}}}  # fmt: skip
    records = [
        line(1.0, "server", {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "hi"}]}}),
        line(1.004, "agent", asked),
        line(3.0, "server", {"jsonrpc": "2.0", "id": 3, "result": {}}),  # long before its request: a stray
        line(5.0, "agent", {"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    ]
    session = read_mcp(write(tmp_path / "run", records)).sessions["fs"]
    call, ping = session.calls
    assert (call.tool, call.result, call.seconds, call.meta_ids) == (
        "echo_text", {"content": [{"type": "text", "text": "hi"}]}, 0.0, ["toolu_e82a"])  # fmt: skip
    assert (session.reordered, ping.error) == (1, {"message": "no answer"})
    assert session.problems == [
        "an answer from the server to no request: id 3",
        "agent request 3 (ping) never answered",
    ]
