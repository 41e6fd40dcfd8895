"""The mock's sub-agent scenario, planned from single requests: spawn, spawn again one level down, then the ordinary
tool call; wait; answer. Without the trigger every request is planned as before."""

import json

from probe.mock import messages_api, responses_api, subagents
from probe.mock.server import MockServer, Settings
from probe.mock.wording import final_answer_text

TRIGGER_PROMPT = "spawn a sub-agent to write a hello world function"
CHILD, GRANDCHILD = subagents.child_prompt(1), subagents.child_prompt(2)


def test_the_trigger_and_the_markers_give_each_depth():
    assert (
        CHILD
        == "[agent-probe sub-agent 1 of 2] Spawn one sub-agent of your own, wait for its answer, then report back."
    )
    assert GRANDCHILD == "[agent-probe sub-agent 2 of 2] Run one harmless tool, then report back."
    assert [subagents.child_depth(prompt) for prompt in (TRIGGER_PROMPT, "Please SPAWN A SUB-AGENT", CHILD)] == [
        1,
        1,
        2,
    ]
    # The grandchild spawns none, nor does an ordinary prompt, nor a report that quotes a sub-agent's prompt.
    quoted = f'Here is my answer to "{CHILD}"'
    for prompt in (GRANDCHILD, "write a hello world function", quoted):
        assert subagents.child_depth(prompt) is None
    # A header line before the task (codex puts one there) still leaves the marker at the start of a line.
    assert subagents.child_depth(f"Payload:\n{CHILD}") == 2


# Anthropic Messages (Claude Code): the tool is Agent, and its report comes back in the tool_result.

CLAUDE_TOOLS = [{"name": name, "input_schema": {"type": "object"}} for name in ("Agent", "Bash", "Read")]


def claude_request(prompt: str, *later: dict, tools: list | None = None) -> dict:
    reminder = {"type": "text", "text": "<system-reminder>\nx\n</system-reminder>"}
    first = {"role": "user", "content": [reminder, {"type": "text", "text": prompt}]}
    return {"model": "claude-test", "stream": True, "tools": CLAUDE_TOOLS if tools is None else tools,
            "messages": [first, *later]}  # fmt: skip


def claude_answer(request: dict) -> tuple[str, list[dict]]:
    """(stop reason, the final content blocks) of the mock's answer."""
    message = messages_api.plan_message(request)
    return message["stop_reason"], message["content"]


def test_claude_code_main_agent_spawns_the_child_in_the_foreground():
    stop_reason, content = claude_answer(claude_request(TRIGGER_PROMPT))
    assert stop_reason == "tool_use"
    call = content[-1]
    assert (call["type"], call["name"]) == ("tool_use", "Agent")
    assert call["input"] == {"description": "agent-probe sub-agent 1", "prompt": CHILD, "run_in_background": False}


def test_claude_code_child_spawns_the_grandchild_which_runs_the_ordinary_tool():
    _, content = claude_answer(claude_request(CHILD))
    assert content[-1]["name"] == "Agent" and content[-1]["input"]["prompt"] == GRANDCHILD
    assert content[-1]["input"]["description"] == "agent-probe sub-agent 2"
    _, content = claude_answer(claude_request(GRANDCHILD))
    assert content[-1]["name"] == "Bash" and content[-1]["input"]["command"] == "echo agent-probe tool call"


def test_claude_code_answers_the_agent_report_and_a_background_notification():
    call = {"type": "tool_use", "id": "toolu_1", "name": "Agent", "input": {"prompt": CHILD}}
    report = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Done.\nagentId: a1 (use SendMessage)"}
    request = claude_request(TRIGGER_PROMPT, {"role": "assistant", "content": [call]},
                             {"role": "user", "content": [report]})  # fmt: skip
    assert claude_answer(request) == ("end_turn", [{"type": "text", "text": final_answer_text(TRIGGER_PROMPT)}])
    # In the background the report comes in a later user turn; answering it spawns no second sub-agent.
    answered = {"role": "assistant", "content": [{"type": "text", "text": "Waiting for it."}]}
    notification = {"role": "user", "content": [{"type": "text", "text": "<task-notification>…</task-notification>"}]}
    stop_reason, content = claude_answer({**request, "messages": [*request["messages"], answered, notification]})
    assert stop_reason == "end_turn" and content[0]["text"] == final_answer_text(TRIGGER_PROMPT)


def test_claude_code_without_the_trigger_or_the_agent_tool_is_planned_as_before():
    for request in (
        claude_request("write a hello world function"),
        claude_request(TRIGGER_PROMPT, tools=CLAUDE_TOOLS[1:]),
    ):
        stop_reason, content = claude_answer(request)
        assert stop_reason == "tool_use" and content[-1]["name"] == "Bash"


# OpenAI Responses (codex): spawn_agent, then wait_agent, then the answer.


def namespace(name: str, *tools: tuple[str, list[str]]) -> dict:
    functions = [{"type": "function", "name": tool, "parameters": {"type": "object",
                  "properties": {key: {"type": "string"} for key in keys}}} for tool, keys in tools]  # fmt: skip
    return {"type": "namespace", "name": name, "tools": functions}


COLLABORATION = namespace(
    "collaboration", ("spawn_agent", ["task_name", "message", "fork_turns"]), ("wait_agent", ["timeout_ms"])
)
MULTI_AGENT_V1 = namespace("multi_agent_v1", ("spawn_agent", ["message", "agent_type"]), ("wait_agent", ["targets"]))
CLOCK = namespace("clock", ("sleep", ["duration_ms"]))
CLOCK["tools"][0]["parameters"]["properties"]["duration_ms"] = {"type": "integer"}


def codex_request(*items: dict, tools: dict = COLLABORATION) -> dict:
    return {"model": "gpt-test", "input": [{"type": "additional_tools", "tools": [CLOCK, tools]}, *items]}


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def agent_message(kind: str, payload: str) -> dict:
    """A message from another agent, as codex's collaboration tools deliver it."""
    header = {"type": "input_text", "text": f"Message Type: {kind}\nTask name: /root/x\nSender: /root\nPayload:\n"}
    return {"type": "agent_message", "content": [header, {"type": "encrypted_content", "encrypted_content": payload}]}


def output(text: str) -> dict:
    return {"type": "function_call_output", "call_id": "call_1", "output": text}


def codex_answer(request: dict, hint: str = "") -> dict:
    """The mock's last output item: a function_call or the final message."""
    events = responses_api.plan_events(request, hint)
    return events[-1]["response"]["output"][-1]


def test_codex_main_agent_spawns_with_the_schema_it_declares():
    call = codex_answer(codex_request(user("<environment_context/>"), user(TRIGGER_PROMPT)))
    assert (call["type"], call["namespace"], call["name"]) == ("function_call", "collaboration", "spawn_agent")
    assert json.loads(call["arguments"]) == {"task_name": "probe_sub_agent_1", "message": CHILD, "fork_turns": "none"}
    call = codex_answer(codex_request(user(TRIGGER_PROMPT), tools=MULTI_AGENT_V1))
    assert (call["namespace"], call["name"], json.loads(call["arguments"])) == (
        "multi_agent_v1",
        "spawn_agent",
        {"message": CHILD},
    )


def test_codex_child_takes_its_task_from_the_agent_message_and_spawns_the_grandchild():
    child = codex_request(user("<environment_context/>"), agent_message("NEW_TASK", CHILD))
    assert responses_api.last_user_text(child) == CHILD
    call = codex_answer(child)
    assert call["name"] == "spawn_agent" and json.loads(call["arguments"])["message"] == GRANDCHILD
    grandchild = codex_request(user("<environment_context/>"), agent_message("NEW_TASK", GRANDCHILD))
    call = codex_answer(grandchild)
    assert (call["namespace"], call["name"]) == ("clock", "sleep")


def test_codex_waits_for_the_spawned_agent_even_in_a_websocket_follow_up_without_tools():
    follow_up = {"previous_response_id": "resp_1", "input": [output('{"task_name":"/root/probe_sub_agent_1"}')]}
    call = codex_answer(follow_up, TRIGGER_PROMPT)
    assert (call["namespace"], call["name"], json.loads(call["arguments"])) == ("collaboration", "wait_agent", {})
    follow_up["input"] = [output('{"agent_id":"019a-thread","nickname":"Ada"}')]
    call = codex_answer(follow_up, TRIGGER_PROMPT)
    assert (call["namespace"], call["name"]) == ("multi_agent_v1", "wait_agent")
    assert json.loads(call["arguments"]) == {"targets": ["019a-thread"]}


def test_codex_answers_after_the_wait_and_a_report_is_no_new_task():
    report = agent_message("FINAL_ANSWER", "")
    report["content"] = [{"type": "input_text", "text": f'Message Type: FINAL_ANSWER\nPayload:\nHere is "{CHILD}"'}]
    spawn = {"type": "function_call", "name": "spawn_agent", "namespace": "collaboration", "call_id": "call_0"}
    request = codex_request(user(TRIGGER_PROMPT), spawn, output('{"task_name":"/root/a"}'),
                            output('{"message":"Wait completed.","timed_out":false}'), report)  # fmt: skip
    assert responses_api.last_user_text(request) == TRIGGER_PROMPT  # the report is skipped
    answer = codex_answer(request)
    assert answer["type"] == "message" and answer["content"][0]["text"] == final_answer_text(TRIGGER_PROMPT)
    # A later turn after a spawn (over HTTP the history is re-sent) spawns no second agent.
    later = codex_request(user(TRIGGER_PROMPT), spawn, output("{}"), user("<subagent_notification/>"))
    assert codex_answer(later)["name"] == "sleep"


def test_codex_without_the_trigger_is_planned_as_before():
    call = codex_answer(codex_request(user("write a hello world function")))
    assert (call["namespace"], call["name"], json.loads(call["arguments"])) == ("clock", "sleep", {"duration_ms": 10})
    # Outside the scenario an output naming an agent is answered like any other.
    answer = codex_answer(codex_request(user("write a hello world function"), output('{"agent_id": "x"}')))
    assert answer["type"] == "message"


# Side by side: "spawn two sub-agents" asks for them all in one answer; each does the ordinary scenario.

PARALLEL_PROMPT = "spawn two sub-agents to write a hello world function"
FIRST, SECOND = subagents.parallel_prompt(1, 2), subagents.parallel_prompt(2, 2)


def test_the_parallel_trigger_counts_in_words_or_digits_and_its_children_spawn_none():
    assert FIRST == "[agent-probe parallel sub-agent 1 of 2] Run one harmless tool, then report back."
    prompts = [PARALLEL_PROMPT, "Please SPAWN 3 SUBAGENTS now", "spawn four sub-agents", FIRST, "spawn five sub-agents"]
    assert [subagents.parallel_count(prompt) for prompt in prompts] == [2, 3, 4, 0, 0]
    assert [spawn.name for spawn in subagents.spawned_tasks(PARALLEL_PROMPT)] == [
        "probe_parallel_1",
        "probe_parallel_2",
    ]
    for child in (FIRST, SECOND):
        assert subagents.spawned_tasks(child) == [] and subagents.child_depth(child) is None
    # The chain is untouched: one child at depth 1.
    [spawn] = subagents.spawned_tasks(TRIGGER_PROMPT)
    assert (spawn.name, spawn.description, spawn.task) == ("probe_sub_agent_1", "agent-probe sub-agent 1", CHILD)


def test_claude_code_main_agent_asks_for_two_agents_in_one_answer_and_each_child_runs_the_ordinary_tool():
    stop_reason, content = claude_answer(claude_request(PARALLEL_PROMPT))
    calls = [block for block in content if block["type"] == "tool_use"]
    assert stop_reason == "tool_use" and [call["name"] for call in calls] == ["Agent", "Agent"]
    assert [call["input"] for call in calls] == [
        {"description": f"agent-probe parallel sub-agent {number}", "prompt": task, "run_in_background": False}
        for number, task in ((1, FIRST), (2, SECOND))
    ]
    assert len({call["id"] for call in calls}) == 2
    for task in (FIRST, SECOND):
        assert claude_answer(claude_request(task))[1][-1]["name"] == "Bash"
    reports = [{"type": "tool_result", "tool_use_id": call["id"], "content": "Done."} for call in calls]
    request = claude_request(
        PARALLEL_PROMPT, {"role": "assistant", "content": calls}, {"role": "user", "content": reports}
    )
    assert claude_answer(request) == ("end_turn", [{"type": "text", "text": final_answer_text(PARALLEL_PROMPT)}])


def test_claude_code_s_last_side_by_side_agent_runs_on_haiku_where_the_tool_offers_a_model():
    schema = {"type": "object", "properties": {"model": {"type": "string", "enum": ["sonnet", "opus", "haiku"]}}}
    tools = [{"name": "Agent", "input_schema": schema}, *CLAUDE_TOOLS[1:]]

    def spawns(request: dict) -> list[dict]:
        return [block["input"] for block in claude_answer(request)[1] if block["type"] == "tool_use"]

    assert [call.get("model") for call in spawns(claude_request(PARALLEL_PROMPT, tools=tools))] == [None, "haiku"]
    # One child alone keeps its parent's model; a schema without the choice gets no model.
    assert [call.get("model") for call in spawns(claude_request(TRIGGER_PROMPT, tools=tools))] == [None]
    assert [call.get("model") for call in spawns(claude_request(PARALLEL_PROMPT))] == [None, None]


def codex_calls_of(request: dict, hint: str = "", waiting: int | None = None) -> list[tuple[str, dict]]:
    output = responses_api.plan_events(request, hint, waiting=waiting)[-1]["response"]["output"]
    return [(item["name"], json.loads(item["arguments"])) for item in output if item["type"] == "function_call"]


def report(author: str) -> dict:
    """A sub-agent's final answer, as codex delivers it to the parent."""
    text = f"Message Type: FINAL_ANSWER\nTask name: {author}\nPayload:\nDone."
    return {"type": "agent_message", "author": author, "content": [{"type": "input_text", "text": text}]}


def test_codex_spawns_two_at_once_and_waits_until_both_have_reported():
    assert codex_calls_of(codex_request(user(PARALLEL_PROMPT))) == [
        ("spawn_agent", {"task_name": f"probe_parallel_{number}", "message": task, "fork_turns": "none"})
        for number, task in ((1, FIRST), (2, SECOND))
    ]
    spawned = [output(f'{{"task_name":"/root/probe_parallel_{number}"}}') for number in (1, 2)]
    woke = output('{"message":"Wait completed.","timed_out":false}')
    history = [user(PARALLEL_PROMPT), *spawned]
    assert codex_calls_of(codex_request(*history)) == [("wait_agent", {})]
    # Over HTTP the whole history comes back: one report of two means another wait, two mean the answer.
    assert codex_calls_of(codex_request(*history, woke, report("/root/probe_parallel_2"))) == [("wait_agent", {})]
    both = codex_request(*history, woke, report("/root/probe_parallel_2"), woke, report("/root/probe_parallel_1"))
    assert codex_answer(both)["content"][0]["text"] == final_answer_text(PARALLEL_PROMPT)
    # Reports already in when the spawns' outputs arrive: no wait at all.
    assert codex_answer(codex_request(*history, *map(report, ("/root/a", "/root/b"))))["type"] == "message"


def test_the_server_carries_the_count_across_websocket_follow_ups_that_send_only_new_items():
    server = MockServer(Settings())
    first = server.events_for(codex_request(user(PARALLEL_PROMPT)))[-1]["response"]
    spawned = [output(f'{{"task_name":"/root/probe_parallel_{number}"}}') for number in (1, 2)]
    woke = output('{"message":"Wait completed.","timed_out":false}')
    steps = [spawned, [woke, report("/root/probe_parallel_1")], [woke, report("/root/probe_parallel_2")]]
    previous, made = first["id"], []
    for items in steps:
        response = server.events_for({"model": "gpt-test", "previous_response_id": previous, "input": items})[-1]
        previous = response["response"]["id"]
        made.append([item.get("name", item["type"]) for item in response["response"]["output"]])
    assert made == [["reasoning", "wait_agent"], ["reasoning", "wait_agent"], ["message"]]
