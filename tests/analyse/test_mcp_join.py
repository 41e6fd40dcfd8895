"""The MCP record joined to the conversation: each tools/call to the model's tool call that caused it and to the
result the agent sent back (same, changed, cut, not sent), each server's tokens and share of the request, and a
tools/list_changed shown at the turn whose request offered other tools. Numbers recomputed here from the capture."""

import io
import json

import bpe_openai
from conftest import captured_exchange

from probe.analyse.run_totals import Totals
from probe.analysis.report import stream_report
from probe.apis.anthropic_messages import report as anthropic_messages

ENCODER = bpe_openai.get_encoding("o200k_base")
READ = {
    "name": "mcp__fs__read_file",
    "description": "Read a file from the allowed folders.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
}
LIST = {
    "name": "mcp__fs__list_directory",
    "description": "List a folder's entries.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
BASH = {"name": "Bash", "description": "Run a shell command.", "input_schema": {"type": "object"}}
BIG = "line of the big file\n" * 200
STARTS = {1: 1000.0, 2: 1010.0, 3: 1020.0}  # each exchange lasts 2 s
ASK = [{"role": "user", "content": "Read a.txt and big.txt and list the folder."}]


def tool_use(call_id, name, arguments):
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def tool_result(call_id, text):
    return {"type": "tool_result", "tool_use_id": call_id, "content": text}


def exchange(number, tools, messages, content, input_tokens):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "You are an agent.", "tools": tools,
            "messages": messages}  # fmt: skip
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": content, "stop_reason": "tool_use", "usage": {"input_tokens": input_tokens,
                                                                       "output_tokens": 20}}  # fmt: skip
    start = STARTS[number]
    return captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com",
                             response_headers=(("content-type", "application/json"),),
                             timing={"start": start, "first_byte": start + 0.5, "end": start + 2.0},
                             id=f"f{number}")  # fmt: skip


FIRST = [tool_use("toolu_1", "mcp__fs__read_file", {"path": "/w/a.txt"}),
         tool_use("toolu_2", "mcp__fs__read_file", {"path": "/w/big.txt"}),
         tool_use("toolu_3", "mcp__fs__list_directory", {"path": "/w"}),
         tool_use("toolu_4", "Bash", {"command": "ls"})]  # fmt: skip
SCRIPT = {"code": 'await tools["mcp__fs__read_file"]({path: "/w/c.txt"}); await tools["mcp__fs__read_file"]({})'}
# A tool of the agent's own that calls MCP tools itself, as codex's exec does: joined by time and the tool it names.
SECOND = [tool_use("toolu_5", "mcp__fs__read_file", {"path": "/w/none"}), tool_use("toolu_6", "Script", SCRIPT)]
SENT = {"toolu_1": "hello\n\nworld", "toolu_2": BIG[:1000] + "\n[output truncated]", "toolu_3": "a.txt (file)",
        "toolu_4": "a.txt big.txt"}  # fmt: skip
SCRIPT_OUTPUT = "c: C\nEMPTY"  # the script printed read_file's "C" as it was, and its "empty" otherwise


def exchanges():
    results = {"role": "user", "content": [tool_result(call_id, text) for call_id, text in SENT.items()]}
    second = ASK + [{"role": "assistant", "content": FIRST}, results]
    third = second + [{"role": "assistant", "content": SECOND},
                      {"role": "user", "content": [tool_result("toolu_5", "ENOENT: /w/none"),
                                                   tool_result("toolu_6", SCRIPT_OUTPUT)]}]  # fmt: skip
    return [
        exchange(1, [BASH, READ, LIST], ASK, FIRST, 3000),
        exchange(2, [BASH, READ], second, SECOND, 5000),  # the server took list_directory away
        exchange(3, [BASH, READ], third, [{"type": "text", "text": "Done."}], 6000),
    ]


def mcp_line(at, sender, message, server="fs"):
    return {"t": at, "server": server, "transport": "stdio", "from": sender, "size": len(json.dumps(message)),
            "message": message}  # fmt: skip


def text_result(*texts):
    return {"content": [{"type": "text", "text": text} for text in texts]}


def record():
    """The server's side: the calls start once the first answer has ended (1002.0), in another order than asked."""
    call = lambda n, name, arguments: {"jsonrpc": "2.0", "id": n, "method": "tools/call",  # noqa: E731
                                       "params": {"name": name, "arguments": arguments}}  # fmt: skip
    answer = lambda n, result: {"jsonrpc": "2.0", "id": n, "result": result}  # noqa: E731
    tools = [{"name": tool["name"].removeprefix("mcp__fs__"), "description": tool["description"],
              "inputSchema": tool["input_schema"]} for tool in (READ, LIST)]  # fmt: skip
    return [
        {"t": 999.0, "server": "fs", "transport": "stdio", "event": "started", "command": ["server-fs"], "pid": 1},
        mcp_line(999.1, "agent", {"jsonrpc": "2.0", "id": 0, "method": "tools/list"}),
        mcp_line(999.2, "server", answer(0, {"tools": tools})),
        mcp_line(1002.1, "agent", call(1, "list_directory", {"path": "/w"})),
        mcp_line(1002.2, "agent", call(2, "read_file", {"path": "/w/a.txt"})),
        mcp_line(1002.3, "agent", call(3, "read_file", {"path": "/w/big.txt"})),
        mcp_line(1002.6, "server", answer(2, text_result("hello", "world"))),
        mcp_line(1003.0, "server", answer(1, text_result("[FILE] a.txt", "[FILE] big.txt"))),
        mcp_line(1004.3, "server", answer(3, text_result(BIG))),
        mcp_line(1005.0, "server", {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        mcp_line(1005.1, "agent", {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
        mcp_line(1005.2, "server", answer(4, {"tools": tools[:1]})),
        mcp_line(1012.5, "agent", call(5, "read_file", {"path": "/w/none"})),
        mcp_line(1012.9, "server", answer(5, text_result("ENOENT: /w/none") | {"isError": True})),
        mcp_line(1013.0, "agent", call(7, "read_file", {"path": "/w/c.txt"})),
        mcp_line(1013.2, "server", answer(7, text_result("C"))),
        mcp_line(1013.3, "agent", call(8, "read_file", {})),
        mcp_line(1013.4, "server", answer(8, text_result("empty"))),
        # a call no model's call asked for (arguments no call had, while no call naming its tool ran)
        mcp_line(1025.0, "agent", call(6, "read_file", {"path": "/w/other"})),
        mcp_line(1025.1, "server", answer(6, text_result("other"))),
    ]


def facts_of(tmp_path, exchanges, mcp_records):
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(found) + "\n" for found in exchanges))
    if mcp_records is not None:
        (tmp_path / "mcp.jsonl").write_text("".join(json.dumps(found) + "\n" for found in mcp_records))
    totals = Totals()
    stream_report(io.StringIO(), traffic, anthropic_messages, None, frozenset(), None, totals, [])
    return totals.insight


def tokens(tool):
    return len(ENCODER.encode_ordinary(f"{tool['name']}\n{tool['description']}\n" +
                                      json.dumps(tool["input_schema"], separators=(",", ":"))))  # fmt: skip


def test_each_call_is_joined_to_the_model_call_and_the_result_sent(tmp_path):
    insight = facts_of(tmp_path, exchanges(), record())
    facts = insight.mcp_facts
    by_id = {call.request_id: call for call in facts.calls}
    found = {request_id: (call.call_id, call.model_tool, call.asked_in, call.answered_in, call.result_sent,
                          call.matched_by) for request_id, call in by_id.items()}  # fmt: skip
    assert found == {
        "1": ("toolu_3", "mcp__fs__list_directory", 1, 2, "changed", "name"),
        "2": ("toolu_1", "mcp__fs__read_file", 1, 2, "same", "name"),
        "3": ("toolu_2", "mcp__fs__read_file", 1, 2, "cut", "name"),
        "5": ("toolu_5", "mcp__fs__read_file", 2, 3, "same", "name"),
        "7": ("toolu_6", "Script", 2, 3, "same", "time"),
        "8": ("toolu_6", "Script", 2, 3, "changed", "time"),
        "6": (None, None, None, None, "not sent", None),
    }
    assert facts.unmatched == 1
    # The times: the model's call ended with the answer (start + 2 s); the result went back with the next request.
    big = by_id["3"]
    wait = STARTS[2] - (STARTS[1] + 2.0)
    assert (big.agent_wait_s, big.server_s) == (round(wait, 6), 2.0)
    assert big.agent_own_s == round(wait - 2.0, 6)
    assert (big.result_chars, big.sent_chars) == (len(BIG), len(SENT["toolu_2"]))
    assert by_id["5"].is_error and by_id["5"].server_s == 0.4
    # The model's Bash call is no MCP call: not joined, not counted.
    assert all(call.model_tool != "Bash" for call in facts.calls)


def test_each_servers_tools_cost_and_share(tmp_path):
    insight = facts_of(tmp_path, exchanges(), record())
    (server,) = insight.mcp_facts.servers
    splits = {split.number: split for split in insight.context.kept}
    first = tokens(READ) + tokens(LIST)  # the most a request offered: the first one, with both tools
    assert (server.server, server.tools, server.names, server.deferred) == ("fs", 2, ["list_directory", "read_file"],
                                                                            False)  # fmt: skip
    assert server.tokens == round(first * 3000 / splits[1].counted)
    assert server.share == first / splits[1].counted
    assert (server.requests, server.every_request, server.tools_listed) == (3, True, 1)
    assert (server.calls, server.failed, server.server_s) == (7, 1, round(0.9 + 0.4 + 2.0 + 0.4 + 0.2 + 0.1 + 0.1, 6))


def test_a_list_changed_is_shown_at_the_turn_it_changed_the_offer(tmp_path):
    (change,) = facts_of(tmp_path, exchanges(), record()).mcp_facts.changes
    assert (change.turn, change.server, change.added, change.removed) == (2, "fs", [], ["list_directory"])
    assert (change.previous, change.turn_at, change.notified_at, change.listed_at) == (1, STARTS[2], 1005.0, 1005.2)
    assert change.to_json()["removed"] == ["list_directory"]


def test_a_run_without_a_record_has_the_offer_only_and_one_without_servers_nothing(tmp_path):
    facts = facts_of(tmp_path, exchanges(), None).mcp_facts
    assert facts.calls == [] and [server.server for server in facts.servers] == ["fs"]
    assert facts.servers[0].tools_listed is None and facts.servers[0].calls == 0
    plain = tmp_path / "plain"
    plain.mkdir()
    assert facts_of(plain, [exchange(1, [BASH], ASK, [{"type": "text", "text": "Hi."}], 100)], None).mcp_facts is None


def test_the_wait_holds_the_servers_time_where_the_agent_started_early_or_the_record_stamped_late(tmp_path):
    """A call started while the answer that asked still streamed waits from its start; an answer mcp.jsonl stamped
    after the request that carried its result started took the server no longer than until that request."""
    lines = record()
    early = next(index for index, line in enumerate(lines) if (line.get("message") or {}).get("id") == 2)
    late = next(index for index, line in enumerate(lines) if line.get("from") == "server"
                and line["message"].get("id") == 3)  # fmt: skip
    lines[early]["t"], lines[late]["t"] = 1001.8, 1010.5  # the answer ends at 1002.0; the next request is at 1010.0
    by_id = {call.request_id: call for call in facts_of(tmp_path, exchanges(), lines).mcp_facts.calls}
    started_early, stamped_late = by_id["2"], by_id["3"]
    assert (started_early.wait_from, started_early.agent_wait_s) == ("call", round(STARTS[2] - 1001.8, 6))
    assert started_early.server_s == round(1002.6 - 1001.8, 6)
    assert started_early.agent_own_s == round(round(STARTS[2] - 1001.8, 6) - round(1002.6 - 1001.8, 6), 6)
    assert (stamped_late.wait_from, stamped_late.stamped_late_s) == ("answer", 0.5)
    assert (stamped_late.server_s, stamped_late.agent_wait_s) == (round(STARTS[2] - 1002.3, 6), 8.0)
    assert stamped_late.agent_own_s == round(8.0 - round(STARTS[2] - 1002.3, 6), 6)
    for call in by_id.values():
        if call.agent_wait_s is not None:
            assert call.server_s <= call.agent_wait_s and call.agent_own_s >= 0
