"""What every kept transcript shows: the manifest counts its records, and it holds the typed prompt and the answer;
and with Claude Code's sub-agents, their files beside the session's."""

import json
from pathlib import Path

from subagent_trees import model_exchanges

from probe.mock.subagents import child_prompt


def assert_transcript_kept(run: Path, source: str, prompt: str, answer: str) -> list[dict]:
    """transcript.jsonl holds the agent's session file, in order, each line a record of `source`'s: one of them the
    typed `prompt`'s (as masked), and `answer` in one; the manifest's account.transcript counts them. Its lines."""
    lines = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    account = json.loads((run / "manifest.json").read_text())["account"]["transcript"]
    assert account["state"] == "kept" and account["records"] == len(lines) > 2
    assert {line["source"] for line in lines} == {source} and account["file"] == lines[0]["file"]
    numbers = [line["line"] for line in lines if line["file"] == account["file"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    records = [json.dumps(line["record"]) for line in lines]
    assert any(prompt in record for record in records) and any(answer in record for record in records)
    return lines


def assert_subagents_kept(run: Path, lines: list[dict]) -> None:
    """Claude Code's run that spawned sub-agents: transcript.jsonl holds its session's file first (the manifest's
    `file`), then, for each agent id the wire shows, that sub-agent's agent-<id>.jsonl, every record of it carrying
    the id, and its agent-<id>.meta.json, naming the parent the wire names; each line names its file."""
    exchanges = model_exchanges(run)
    [session] = {exchange.headers["x-claude-code-session-id"] for exchange in exchanges}
    parents = {
        exchange.headers["x-claude-code-agent-id"]: exchange.headers.get("x-claude-code-parent-agent-id")
        for exchange in exchanges
        if "x-claude-code-agent-id" in exchange.headers
    }
    assert len(parents) == 2  # a child and a grandchild (probe/mock/subagents.py)
    files = {f"agent-{agent}.{kind}" for agent in parents for kind in ("jsonl", "meta.json")}
    account = json.loads((run / "manifest.json").read_text())["account"]["transcript"]
    assert account["file"] == account["files"][0] == f"{session}.jsonl" and set(account["files"][1:]) == files
    assert [line["file"] for line in lines] == sorted((line["file"] for line in lines), key=account["files"].index)
    for line in lines:
        record, agent = line["record"], line["file"].removeprefix("agent-").split(".")[0]
        if line["file"].endswith(".meta.json"):
            assert record["parentAgentId" if parents[agent] else "agentType"] == (parents[agent] or "general-purpose")
        else:
            assert record.get("agentId") == (agent if agent in parents else None) and record["sessionId"] == session
    child = next(agent for agent, parent in parents.items() if parent is None)
    assert any(
        child_prompt(1) in json.dumps(line["record"]) for line in lines if line["file"] == f"agent-{child}.jsonl"
    )
