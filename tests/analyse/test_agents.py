"""The agent tree and the tool-call timeline, through the real readers and the report: each request counted to the
agent its headers name, each sub-agent under its parent and linked to the call that spawned it, each tool call
timed from the answer that asked for it to the request that brought its result back."""

import io
import json

import orjson
from conftest import captured_exchange

from probe.analyse.agents import Agent, AgentTree
from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.openai_responses import report as openai_responses

SESSION = ("x-claude-code-session-id", "5e551011-aaaa-bbbb-cccc-000000000001")


def message_exchange(number, messages, content, headers=(), start=None, usage=None, stop="tool_use"):
    """One Messages exchange: the request's messages, the answer's content blocks, timed 1 s long."""
    start = 1000.0 + number * 10 if start is None else start
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "You are an agent.",
            "tools": [{"name": "Agent", "input_schema": {"type": "object"}},
                      {"name": "Bash", "input_schema": {"type": "object"}}],
            "messages": messages}  # fmt: skip
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": content, "stop_reason": stop,
              "usage": usage or {"input_tokens": 100 * number, "output_tokens": 10 * number}}  # fmt: skip
    return captured_exchange(
        "/v1/messages", body, answer, host="https://api.anthropic.com",
        request_headers=(("content-type", "application/json"), SESSION, *headers),
        response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


def call(call_id, name, arguments):
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def result(call_id, text, is_error=False):
    return {"type": "tool_result", "tool_use_id": call_id, "content": text, "is_error": is_error}


def report_of(tmp_path, exchanges, renderer=anthropic_messages, manifest=None):
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(exchange) + "\n" for exchange in exchanges))
    insight = io.BytesIO()
    report = build_report(traffic, renderer, manifest, insight=insight)[0]
    records = [orjson.loads(line) for line in insight.getvalue().splitlines()]
    return report, records


def claude_like_session():
    """Main spawns a child (Agent, toolu_1); the child spawns a grandchild (toolu_2) and runs Bash, which fails;
    each tool result names the agent it started as Claude Code's does (`agentId: …`)."""
    child, grandchild = ("x-claude-code-agent-id", "a1c0ffee"), ("x-claude-code-agent-id", "a2beef")
    ask = [{"role": "user", "content": "Explore the repo."}]
    spawn_child = call("toolu_1", "Agent", {"description": "Explore repo", "prompt": "Look around."})
    child_ask = [{"role": "user", "content": "Look around."}]
    spawn_grandchild = call("toolu_2", "Agent", {"description": "Read README", "prompt": "Read it."})
    bash = call("toolu_3", "Bash", {"command": "false"})
    return [
        message_exchange(1, ask, [spawn_child]),
        message_exchange(2, child_ask, [spawn_grandchild], headers=[child]),
        message_exchange(3, [{"role": "user", "content": "Read it."}], [{"type": "text", "text": "Done."}],
                         headers=[grandchild, ("x-claude-code-parent-agent-id", "a1c0ffee")], stop="end_turn"),
        message_exchange(4, child_ask + [{"role": "assistant", "content": [spawn_grandchild]},
                                         {"role": "user", "content": [result("toolu_2", "Read.\nagentId: a2beef")]}],
                         [bash], headers=[child], start=1043.5),
        message_exchange(5, child_ask + [{"role": "assistant", "content": [spawn_grandchild]},
                                         {"role": "user", "content": [result("toolu_2", "Read.\nagentId: a2beef")]},
                                         {"role": "assistant", "content": [bash]},
                                         {"role": "user", "content": [result("toolu_3", "exit 1", True)]}],
                         [{"type": "text", "text": "Explored."}], headers=[child], stop="end_turn"),
        message_exchange(6, ask + [{"role": "assistant", "content": [spawn_child]},
                                   {"role": "user", "content": [result("toolu_1", "Explored.\nagentId: a1c0ffee")]}],
                         [{"type": "text", "text": "All done."}], stop="end_turn"),
    ]  # fmt: skip


def test_claude_like_sub_agents_form_a_tree_linked_to_the_calls_that_spawned_them(tmp_path):
    report, records = report_of(tmp_path, claude_like_session())
    agents = {record["id"]: record for record in records if record["record"] == "agent"}
    main = "main"
    assert set(agents) == {main, "a1c0ffee", "a2beef"}
    assert agents[main]["parent"] is None and agents[main]["children"] == ["a1c0ffee"]
    assert agents["a1c0ffee"]["parent"] == main and agents["a1c0ffee"]["depth"] == 1
    assert agents["a1c0ffee"]["spawned_by"] == {"turn": 1, "call_id": "toolu_1", "tool": "Agent"}
    assert agents["a1c0ffee"]["name"] == "Explore repo"
    assert agents["a2beef"]["parent"] == "a1c0ffee" and agents["a2beef"]["depth"] == 2
    assert agents["a2beef"]["spawned_by"] == {"turn": 2, "call_id": "toolu_2", "tool": "Agent"}
    # Requests and tokens per agent: turns 1 and 6 are the main agent's, 2, 4 and 5 the child's.
    assert [agents[main]["requests"], agents["a1c0ffee"]["requests"], agents["a2beef"]["requests"]] == [2, 3, 1]
    assert agents[main]["tokens"]["input"] == 100 + 600 and agents[main]["tokens"]["output"] == 10 + 60
    assert agents["a1c0ffee"]["tokens"]["input"] == 200 + 400 + 500
    assert agents["a2beef"]["tokens"]["output"] == 30
    turns = {record["number"]: record["agent"] for record in records if record["record"] == "turn"}
    assert turns == {1: main, 2: "a1c0ffee", 3: "a2beef", 4: "a1c0ffee", 5: "a1c0ffee", 6: main}
    tree = report.split("## Agents", 1)[1].split("\n## ", 1)[0]
    assert "3 agents: 2 sub-agents" in tree
    rows = [line for line in tree.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith("| `main` | `main` | 2 | #1 | 700 | 70 | $0.0032 | 1 | 51.0 s |")
    assert rows[1].startswith("| \u00a0\u00a0└ `Explore repo` | `a1c0ffee` | 3 | #2 | 1,100 | 110 | $0.0050 | 2 |")
    assert rows[1].endswith("| #1 `Agent` `toolu_1` |")
    assert rows[2].startswith("| \u00a0\u00a0\u00a0\u00a0└ `Read README` | `a2beef` | 1 | #3 |")


def test_tool_calls_are_timed_from_the_answer_that_asked_to_the_request_that_answered(tmp_path):
    report, records = report_of(tmp_path, claude_like_session())
    calls = {record["call_id"]: record for record in records if record["record"] == "tool_call"}
    assert set(calls) == {"toolu_1", "toolu_2", "toolu_3"}
    # toolu_2: asked by #2's answer (ended at 1021.0), answered by #4's request (started at 1043.5).
    assert calls["toolu_2"] | {"arguments": None} == {
        "record": "tool_call", "schema": 1, "call_id": "toolu_2", "tool": "Agent", "arguments": None,
        "agent": "a1c0ffee", "asked_in": 2, "asked_at": 1021.0, "answered_in": 4, "answered_at": 1043.5,
        "wait_ms": 22500.0, "result_size": 21,
        "is_error": False,
    }  # fmt: skip
    assert calls["toolu_2"]["arguments"] == '{"description":"Read README","prompt":"Read it."}'
    assert calls["toolu_3"]["is_error"] is True and calls["toolu_3"]["answered_in"] == 5
    assert calls["toolu_1"]["answered_in"] == 6 and calls["toolu_1"]["wait_ms"] == (1060.0 - 1011.0) * 1000
    run = next(record for record in records if record["record"] == "run")
    assert run["tool_calls"] == 3 and run["tools"]["Bash"]["failed"] == 1 and run["tools"]["Agent"]["calls"] == 2
    tools = report.split("## Tool calls", 1)[1].split("\n## ", 1)[0]
    assert "3 tool calls, 1 flagged as failed by the API" in tools
    assert "| `Agent` | 2 | 2 | 0 | 35,750 ms | 49,000 ms | 48 |" in tools
    assert "| `Bash` | 1 | 1 | 1 |" in tools


def test_hostile_headers_that_make_a_loop_list_every_agent_once(tmp_path):
    ask = [{"role": "user", "content": "Hi."}]
    loop = [
        message_exchange(1, ask, [{"type": "text", "text": "a"}], stop="end_turn",
                         headers=[("x-claude-code-agent-id", "x"), ("x-claude-code-parent-agent-id", "y")]),
        message_exchange(2, ask, [{"type": "text", "text": "b"}], stop="end_turn",
                         headers=[("x-claude-code-agent-id", "y"), ("x-claude-code-parent-agent-id", "x")]),
    ]  # fmt: skip
    report, records = report_of(tmp_path, loop)
    agents = [record for record in records if record["record"] == "agent"]
    assert sorted(agent["id"] for agent in agents) == ["x", "y"]
    tree = report.split("## Agents", 1)[1].split("\n## ", 1)[0]
    assert tree.count("| `x` |") == 1 and tree.count("| `y` |") == 1


def responses_exchange(number, items, output, thread, parent=None, start=None):
    """One Responses exchange as codex sends it: its thread's id, and its parent's for a sub-agent."""
    start = 1000.0 + number * 10 if start is None else start
    headers = [("content-type", "application/json"), ("session-id", "root-thread"), ("thread-id", thread)]
    headers += [("x-codex-parent-thread-id", parent), ("x-openai-subagent", "collab_spawn")] if parent else []
    body = {"model": "gpt-5.1-codex", "instructions": "You are codex.", "input": items, "tools": [], "stream": False}
    answer = {"id": f"resp_{number}", "object": "response", "status": "completed", "model": "gpt-5.1-codex",
              "output": output, "usage": {"input_tokens": 1000, "output_tokens": 50,
                                          "input_tokens_details": {"cached_tokens": 0}}}  # fmt: skip
    return captured_exchange(
        "/v1/responses", body, answer, request_headers=headers,
        response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


def test_codex_like_threads_form_a_tree_linked_by_the_spawn_calls_output(tmp_path):
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Go."}]}
    spawn = {"type": "function_call", "call_id": "call_s1", "name": "spawn_agent", "namespace": "multi_agent_v1",
             "arguments": json.dumps({"message": "Count files.", "agent_type": "explorer"})}  # fmt: skip
    output = {"type": "function_call_output", "call_id": "call_s1",
              "output": json.dumps({"agent_id": "child-thread", "nickname": "Ada"})}  # fmt: skip
    done = [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}]
    exchanges = [
        responses_exchange(1, [user], [spawn], "root-thread"),
        responses_exchange(2, [user], done, "child-thread", parent="root-thread"),
        responses_exchange(3, [user, spawn, output], done, "root-thread"),
    ]
    report, records = report_of(tmp_path, exchanges, openai_responses)
    agents = {record["id"]: record for record in records if record["record"] == "agent"}
    assert set(agents) == {"main", "child-thread"}
    assert agents["child-thread"]["parent"] == "main"
    assert agents["child-thread"]["spawned_by"] == {
        "turn": 1,
        "call_id": "call_s1",
        "tool": "multi_agent_v1.spawn_agent",
    }
    assert agents["child-thread"]["name"] == "explorer"
    assert agents["main"]["requests"] == 2 and agents["child-thread"]["tokens"]["input"] == 1000
    assert "| \u00a0\u00a0└ `explorer` | `child-thread` | 1 | #2 |" in report


def test_a_request_that_names_no_session_is_the_main_agents_and_a_second_session_is_a_main_agent_of_its_own(tmp_path):
    ask = [{"role": "user", "content": "Hi."}]
    done = [{"type": "text", "text": "a"}]
    second = ("x-claude-code-session-id", "5e551011-aaaa-bbbb-cccc-000000000002")
    exchanges = [
        message_exchange(1, ask, done, stop="end_turn"),
        message_exchange(2, ask, done, stop="end_turn", headers=[]),
        message_exchange(3, ask, done, stop="end_turn"),
    ]
    exchanges[0]["request"]["headers"] = [["content-type", "application/json"]]  # a side request: no session
    exchanges[2]["request"]["headers"] = [["content-type", "application/json"], list(second)]
    _, records = report_of(tmp_path, exchanges)
    agents = {record["id"]: record["requests"] for record in records if record["record"] == "agent"}
    assert agents == {"main": 2, "main " + second[1]: 1}


def test_a_background_agents_wait_is_its_life_and_agents_with_one_task_are_told_apart(tmp_path):
    """Claude Code's background agents: the Agent call is answered at once ("Async agent launched…", 111 ms after
    the answer that asked for it), the agent runs on and its answer comes back later in a task-notification. Its
    wait is its life, from the spawn to its last answer; two agents given the same task get one name each."""
    ask = [{"role": "user", "content": "List the files twice."}]
    spawns = [call(f"toolu_{n}", "Agent", {"description": "list_files", "prompt": "ls", "run_in_background": True})
              for n in (1, 2)]  # fmt: skip
    launched = [result(f"toolu_{n}", f"Async agent launched successfully.\nagentId: a{n}") for n in (1, 2)]
    history = ask + [{"role": "assistant", "content": spawns}, {"role": "user", "content": launched}]
    done = [{"type": "text", "text": "Listed."}]
    note = {"role": "user", "content": "<task-notification><task-id>a1</task-id><result>Listed.</result>"}
    exchanges = [
        message_exchange(1, ask, spawns),  # ends at 1011.0
        message_exchange(2, history, [{"type": "text", "text": "Waiting."}], start=1011.111, stop="end_turn"),
        message_exchange(3, [{"role": "user", "content": "ls"}], done, headers=[("x-claude-code-agent-id", "a1")],
                         stop="end_turn"),  # ends at 1031.0
        message_exchange(4, [{"role": "user", "content": "ls"}], done, headers=[("x-claude-code-agent-id", "a2")],
                         start=1039.0, stop="end_turn"),  # ends at 1040.0
        message_exchange(5, history + [note], done, stop="end_turn"),
    ]  # fmt: skip
    report, records = report_of(tmp_path, exchanges)
    agents = {record["id"]: record for record in records if record["record"] == "agent"}
    assert {agent: record["name"] for agent, record in agents.items()} == {
        "main": "main", "a1": "list files", "a2": "list files (2)",
    }  # fmt: skip
    calls = {record["call_id"]: record for record in records if record["record"] == "tool_call"}
    assert calls["toolu_1"]["wait_ms"] == 111.0  # the launch acknowledgement, as the wire has it
    assert agents["a1"]["life_s"] == 1031.0 - 1011.0 and agents["a2"]["life_s"] == 1040.0 - 1011.0
    tree = report.split("## Agents", 1)[1].split("\n## ", 1)[0]
    row = "| \u00a0\u00a0└ `list files` | `a1` | 1 | #3 | 300 | 30 | $0.0014 | 0 | 20.0 s | #1 `Agent` `toolu_1` |"
    assert row in tree  # its duration is its life: from the spawn (1011.0) to its last answer (1031.0)
    assert "| \u00a0\u00a0└ `list files (2)` | `a2` | 1 | #4 |" in tree
    tools = report.split("Longest waits:", 1)[1].split("\n## ", 1)[0]
    assert "| #1 | #2 | `Agent` | `main` | 20,000 ms (the agent's life; answered in 111 ms) |" in tools
    assert "| #1 | #2 | `Agent` | `main` | 29,000 ms (the agent's life; answered in 111 ms) |" in tools


def test_a_path_is_no_name_and_a_main_agent_is_main():
    """codex names its agents by path (`/root`, `/root/list_files`): the name is the path's last step, readable;
    a sub-agent nothing names is a sub-agent, never its id."""
    tree = AgentTree()
    tree.agents = {"main": Agent("main", None, label="/root"), "t1": Agent("t1", "main", label="/root/list_files"),
                   "t2": Agent("t2", "main"), "t3": Agent("t3", "main", label="/root/list_files")}  # fmt: skip
    assert [agent.name for agent in tree.finish()] == ["main", "list files", "sub-agent", "list files (2)"]
