"""The agent tree of real runs: the real Claude Code and codex, made to spawn a child that spawns a grandchild, and
the committed captures of such runs. The tree, each sub-agent's link to the call that spawned it and the tokens per
agent are worked out here from the capture itself (headers, tool results, usage as the readers read it), and held
to what report.md, insight.jsonl and the SQL views say."""

import json
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT

from probe.analysis import sql
from probe.analysis.report import analyze_run
from probe.read.whole_turns import WholeTurns

pytestmark = pytest.mark.e2e
SAVED = PROJECT_ROOT / "tests" / "data" / "subagents"


def lines(path: Path) -> list[dict]:
    """A JSON lines file's records; a turns.jsonl's turns whole (probe.read.whole_turns)."""
    whole = WholeTurns()
    return [whole.whole(json.loads(line)) for line in path.read_text().splitlines()]


def expected_tree(run: Path) -> tuple[dict[int, str], dict[str, str | None], dict[str, str]]:
    """From the capture alone: the agent of each exchange (by number), each agent's parent, and the id of the call
    whose result names each sub-agent. Claude Code names a sub-agent in `x-claude-code-agent-id` and a tool result's
    `agentId: <id>` line; codex names a thread in `thread-id` (the main one's is its `session-id`), its agent in the
    turn metadata's `agent_name`, and spawn_agent's result gives that name as `task_name`."""
    agent_of, parent_of, labels, spawned = {}, {}, {}, {}
    entries = lines(run / "traffic.jsonl")
    for number, entry in enumerate(entries, 1):
        headers = {name.lower(): value for name, value in entry["request"]["headers"]}
        own = headers.get("x-claude-code-agent-id") or headers.get("thread-id")
        if own is None or own == headers.get("session-id"):
            agent_of[number] = "main"
            continue
        agent_of[number] = own
        parent = headers.get("x-claude-code-parent-agent-id") or headers.get("x-codex-parent-thread-id")
        parent_of[own] = "main" if parent in (None, headers.get("session-id")) else parent
        if "x-codex-turn-metadata" in headers:
            labels[json.loads(headers["x-codex-turn-metadata"])["agent_name"]] = own
    for entry in entries:
        bodies = [entry["request"].get("body")] + [frame["body"] for frame in entry.get("messages", [])
                                                 if frame["from"] == "client"]  # fmt: skip
        for body in bodies:
            if not isinstance(body, dict):
                continue
            for message in body.get("messages", []):  # Claude Code
                for block in message["content"] if isinstance(message["content"], list) else []:
                    if block.get("type") == "tool_result":
                        text = json.dumps(block["content"])
                        for agent in parent_of:
                            if f"agentId: {agent}" in text:
                                spawned.setdefault(agent, block["tool_use_id"])
            for item in body.get("input", []):  # codex
                if item.get("type") == "function_call_output" and "task_name" in item["output"]:
                    spawned.setdefault(labels[json.loads(item["output"])["task_name"]], item["call_id"])
    return agent_of, parent_of, spawned


def walk(value):
    """Every dict inside a JSON value."""
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    for each in value if isinstance(value, list) else []:
        yield from walk(each)


def expected_names(run: Path, spawned: dict[str, str]) -> dict[str, str]:
    """Each agent's readable name, from the capture alone: the task its spawning call gave (Claude Code's Agent
    `description`; codex's spawn_agent `task_name`, its underscores read as spaces), `main` for the main agent."""
    task_of = {}
    for entry in lines(run / "traffic.jsonl"):
        bodies = [entry["request"].get("body")] + [frame["body"] for frame in entry.get("messages", [])
                                                 if frame["from"] == "client"]  # fmt: skip
        for body in bodies:
            for message in body.get("messages", []) if isinstance(body, dict) else []:
                for block in message["content"] if isinstance(message["content"], list) else []:
                    if block.get("type") == "tool_use" and "description" in block["input"]:
                        task_of[block["id"]] = block["input"]["description"]
        # codex: the answers' function calls (over a WebSocket, the server's frames), wherever they are.
        frames = [frame["body"] for frame in entry.get("messages", []) if frame["from"] == "server"]
        for item in walk(frames):
            if item.get("type") == "function_call" and "task_name" in item.get("arguments", ""):
                task_of[item["call_id"]] = json.loads(item["arguments"])["task_name"].replace("_", " ")
    return {"main": "main"} | {agent: task_of[call_id] for agent, call_id in spawned.items()}


def check_tree(run: Path, data_dir: Path, monkeypatch) -> None:
    analyze_run(run)
    agent_of, parent_of, spawned = expected_tree(run)
    assert len(parent_of) == 2 and len(set(parent_of.values())) == 2  # a child and a grandchild
    records = lines(run / "insight.jsonl")
    assert {r["number"]: r["agent"] for r in records if r["record"] == "turn"} == agent_of
    agents = {r["id"]: r for r in records if r["record"] == "agent"}
    assert {agent: r["parent"] for agent, r in agents.items() if r["parent"]} == parent_of
    assert {agent: r["spawned_by"]["call_id"] for agent, r in agents.items() if r["spawned_by"]} == spawned
    turns = lines(run / "turns.jsonl")
    for agent, record in agents.items():
        mine = [turn for turn in turns if agent_of[turn["number"]] == agent and turn["usage"] and turn["output"]]
        assert mine and record["tokens"]["input"] == sum(turn["usage"]["input"] for turn in mine)
        assert record["tokens"]["output"] == sum(turn["usage"]["output"] for turn in mine)
        assert record["requests"] == sum(number_agent == agent for number_agent in agent_of.values())
        # The spawning call is in the parent's answer of that turn.
        if record["spawned_by"]:
            asking = turns[record["spawned_by"]["turn"] - 1]
            assert agent_of[asking["number"]] == record["parent"]
            assert record["spawned_by"]["call_id"] in json.dumps(asking["output"])
    # The report's tree: each sub-agent one level under its parent, with its spawning call.
    report = (run / "report.md").read_text()
    assert "- Agents: 3 (2 sub-agents, 2 levels deep)" in report
    tree = report.split("\n## Agents\n", 1)[1].split("\n## ", 1)[0]
    child = next(agent for agent, parent in parent_of.items() if parent == "main")
    grandchild = next(agent for agent, parent in parent_of.items() if parent == child)
    names = expected_names(run, spawned)
    assert {agent: r["name"] for agent, r in agents.items()} == names
    assert len(set(names.values())) == 3 and not any("/" in name for name in names.values())
    for agent, depth in (("main", 0), (child, 1), (grandchild, 2)):
        [row] = [line for line in tree.splitlines() if line.startswith("| ") and f"| `{agent}`" in line]
        # The readable name leads the row; the wire's id (and codex's path) are the details beside it.
        assert row.startswith("| " + "\u00a0\u00a0" * depth + ("└ " if depth else "") + f"`{names[agent]}` |")
        if agents[agent]["path"]:
            assert row.split(" | ")[1] == f"`{agent}` `{agents[agent]['path']}`"
    for agent in (child, grandchild):
        [row] = [line for line in tree.splitlines() if line.startswith("| ") and f"| `{agent}`" in line]
        assert f"`{spawned[agent]}` |" in row and f"| {agents[agent]['requests']} |" in row
    # SQL: the agents view, and each turn's agent.
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    _, rows = sql.query([run], "SELECT agent, parent, depth, input_tokens, spawn_call_id FROM agents")
    assert {row[0]: (row[1], row[2], row[3], row[4]) for row in rows} == {
        agent: (r["parent"], r["depth"], r["tokens"]["input"], (r["spawned_by"] or {}).get("call_id"))
        for agent, r in agents.items()
    }
    _, rows = sql.query([run], "SELECT n, agent FROM turns")
    assert dict(rows) == agent_of
    _, rows = sql.query([run], "SELECT n, agent_name FROM turns")
    assert dict(rows) == {number: names[agent] for number, agent in agent_of.items()}
    _, rows = sql.query([run], "SELECT agent, name, path FROM agents")
    assert {row[0]: (row[1], row[2]) for row in rows} == {a: (names[a], r["path"]) for a, r in agents.items()}
    _, rows = sql.query([run], "SELECT call_id, agent_name FROM tool_calls")
    calls = [r for r in records if r["record"] == "tool_call"]
    assert dict(rows) == {call["call_id"]: names[call["agent"]] for call in calls}


@pytest.fixture(scope="module", params=["claude-code", "codex"])
def subagent_run(request, tmp_path_factory):
    """A fresh copy of a committed capture with sub-agents, in a data folder of its own."""
    data_dir = tmp_path_factory.mktemp("data")
    run = data_dir / request.param / "20261125-000000-subagents"
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        (run / name).write_bytes((SAVED / request.param / name).read_bytes())
    return data_dir, run


def test_the_committed_captures_give_the_tree_their_headers_and_results_say(subagent_run, monkeypatch):
    check_tree(subagent_run[1], subagent_run[0], monkeypatch)


@FRESH_RUNS
def test_fresh_runs_of_both_agents_give_the_tree_their_headers_and_results_say(subagent_runs, monkeypatch):
    data_dir, runs = subagent_runs
    for run in runs:
        check_tree(run, data_dir, monkeypatch)
