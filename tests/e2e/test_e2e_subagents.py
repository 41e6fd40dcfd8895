"""The real Claude Code and codex, asked to spawn a sub-agent, spawn a child that spawns a grandchild; the
capture holds each agent's requests, the headers that tie it to its parent, and every agent's final answer.

The same checks run on the captures committed under tests/data/subagents/, which the agent-tree analysis is
developed against."""

import json

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, pipeline_against_mock
from subagent_trees import (
    PROMPT,
    TASKS,
    by_header,
    claude_answer,
    claude_tool_result_text,
    codex_metadata,
    codex_outputs,
    model_exchanges,
)
from transcript_checks import assert_subagents_kept

from probe.mock.wording import final_answer_text

pytestmark = pytest.mark.e2e
SAVED = PROJECT_ROOT / "tests" / "data" / "subagents"


@pytest.fixture(scope="module", params=[pytest.param("fresh", marks=FRESH_RUNS), "saved"])
def claude_tree(request):
    """(the finished pipeline or None for the committed capture, the run folder). The fresh run is the session's
    (subagent_runs'): the same pipeline, made once for these checks and its readers."""
    if request.param == "saved":
        return None, SAVED / "claude-code"
    return request.getfixturevalue("subagent_pipelines")["claude-code"]


@pytest.fixture(scope="module", params=[pytest.param("websocket", marks=FRESH_RUNS), "http", "saved"])
def codex_tree(request, tmp_path_factory):
    """The WebSocket run is the session's (subagent_runs', WebSocket being the mock's default); the HTTP run is
    made here."""
    if request.param == "saved":
        return None, SAVED / "codex"
    if request.param == "websocket":
        return request.getfixturevalue("subagent_pipelines")["codex"]
    program = request.getfixturevalue("codex_program")
    ports = ("--port", "model=0", "--port", "backend=0", "--mock-transport", request.param)
    return pipeline_against_mock("codex", program, tmp_path_factory.mktemp("data"), PROMPT, *ports)


def finished(result, run, version: str, exchanges: int) -> None:
    """The agent exited 0 with the main agent's answer, and the manifest says the run is complete."""
    if result is not None:
        assert result.returncode == 0, result.stderr[-2000:]
        assert final_answer_text(PROMPT).strip() in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["prompt"] == PROMPT
    if result is not None:  # a saved recording was made with the pin of its day, a fresh run with today's
        assert manifest["agent"]["version"] == version
    assert manifest["exchanges"] == exchanges


def test_claude_code_main_agent_child_and_grandchild(claude_tree):
    result, run = claude_tree
    finished(result, run, "2.1.332 (Claude Code)", 6)
    exchanges = model_exchanges(run)
    assert len(exchanges) == 6 and len({exchange.headers["x-claude-code-session-id"] for exchange in exchanges}) == 1
    agents = by_header(exchanges, "x-claude-code-agent-id")
    main = agents.pop(None)  # the main agent sends no agent id
    [child] = [agent for agent, sent in agents.items() if "x-claude-code-parent-agent-id" not in sent[0].headers]
    [grandchild] = set(agents) - {child}
    assert all("x-claude-code-parent-agent-id" not in exchange.headers for exchange in main + agents[child])
    assert {exchange.headers["x-claude-code-parent-agent-id"] for exchange in agents[grandchild]} == {child}
    tree = [main, agents[child], agents[grandchild]]
    assert [len(sent) for sent in tree] == [2, 2, 2]
    for depth, (task, (first, last)) in enumerate(zip(TASKS, tree, strict=True)):
        assert task in [block.get("text") for block in first.body["messages"][0]["content"]]
        assert ("cc_is_subagent=true;" in first.body["system"][0]["text"]) == (depth > 0)
        assert claude_answer(first)[0] == "tool_use"
        assert claude_answer(last) == ("end_turn", final_answer_text(task))  # every agent got its final answer
    # Each parent's tool_result carries its child's report and names the child's id.
    for (_, parent_last), spawned, task in [(tree[0], child, TASKS[1]), (tree[1], grandchild, TASKS[2])]:
        report = claude_tool_result_text(parent_last)
        assert f"agentId: {spawned} " in report and f'Here is my answer to "{task}"' in report
    assert claude_tool_result_text(tree[2][1]) == "agent-probe tool call"  # the grandchild's Bash really ran


@FRESH_RUNS
def test_claude_code_keeps_each_sub_agents_session_file_in_the_transcript(subagent_pipelines):
    """Claude Code 2.1.330 writes each sub-agent's session to <session id>/subagents/agent-<id>.jsonl, beside its
    session's file, with agent-<id>.meta.json: the private home's transcript keeps them all."""
    result, run = subagent_pipelines["claude-code"]
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    assert_subagents_kept(run, lines)
    main = [line for line in lines if not line["file"].startswith("agent-")]
    assert any(PROMPT in json.dumps(line["record"]) for line in main)


def codex_calls(sent: list) -> list[tuple[str, str, dict]]:
    """(name, call_id, arguments) of every function call the mock made to this agent."""
    return [
        (item["name"], item["call_id"], json.loads(item["arguments"]))
        for exchange in sent
        for item in codex_outputs(exchange)
        if item["type"] == "function_call"
    ]


def codex_results(sent: list) -> dict[str, str]:
    """Each call_id's output, as the agent sent it back."""
    return {
        item["call_id"]: item["output"]
        for exchange in sent
        for item in exchange.body.get("input", [])
        if item.get("type") == "function_call_output"
    }


def test_codex_root_child_and_grandchild(codex_tree):
    result, run = codex_tree
    manifest = json.loads((run / "manifest.json").read_text())
    finished(result, run, "codex-cli 0.169.0", manifest["exchanges"])
    exchanges = model_exchanges(run)
    [root] = {exchange.headers["session-id"] for exchange in exchanges}  # the root's thread id, shared by all
    threads = by_header(exchanges, "thread-id")
    [child] = [thread for thread, sent in threads.items() if sent[0].headers.get("x-codex-parent-thread-id") == root]
    [grandchild] = set(threads) - {root, child}
    tree = [threads[root], threads[child], threads[grandchild]]
    names = ["/root", "/root/probe_sub_agent_1", "/root/probe_sub_agent_1/probe_sub_agent_2"]
    for parent, sent, name in zip([None, root, child], tree, names, strict=True):
        for exchange in sent:  # the warm-up too
            assert exchange.headers.get("x-codex-parent-thread-id") == parent
            assert exchange.headers.get("x-openai-subagent") == (parent and "collab_spawn")
            metadata = codex_metadata(exchange)
            assert metadata["agent_name"] == name and metadata.get("parent_thread_id") == parent
            assert metadata["thread_source"] == ("subagent" if parent else "user")
    # The root and the child spawn and wait; the grandchild makes the ordinary call.
    calls = [codex_calls(sent) for sent in tree]
    assert [[name for name, _, _ in made] for made in calls] == [["spawn_agent", "wait_agent"]] * 2 + [["sleep"]]
    for made, sent, spawned, task in [(calls[0], tree[0], names[1], TASKS[1]), (calls[1], tree[1], names[2], TASKS[2])]:
        (_, spawn_id, spawn), (_, wait_id, _) = made
        assert spawn == {"task_name": spawned.rsplit("/", 1)[1], "message": task, "fork_turns": "none"}
        results = codex_results(sent)
        assert json.loads(results[spawn_id]) == {"task_name": spawned}  # the child's agent_name
        assert json.loads(results[wait_id]) == {"message": "Wait completed.", "timed_out": False}
        # The child's final answer reaches its parent as an agent_message.
        reports = [
            part["text"]
            for exchange in sent
            for item in exchange.body.get("input", [])
            if item.get("type") == "agent_message" and item.get("author") == spawned
            for part in item["content"]
        ]
        assert any(final_answer_text(task) in text for text in reports)
    assert "Sleep completed." in codex_results(tree[2])[calls[2][0][1]]
    for sent, task in zip(tree, TASKS, strict=True):
        [message] = [item for item in codex_outputs(sent[-1]) if item["type"] == "message"]
        assert message["content"][0]["text"] == final_answer_text(task)  # every agent got its final answer
