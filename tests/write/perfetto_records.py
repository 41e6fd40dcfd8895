"""Hand-made insight.jsonl time models (agent, span and time records, as docs/formats.md gives them) of a run with a
main agent and two parallel sub-agents, and of a codex-like run, for the Perfetto export's tests."""

import json
from pathlib import Path

T0 = 1_764_000_000.0

# (agent, kind, name, start, end, first_byte, call_id, child): seconds from T0; parallel tools and sub-agents
THREE_AGENTS = {
    "agents": [("main", "main", None), ("a1", "explore docs", "main"), ("a2", "run tests", "main")],
    "spans": [
        ("main", "model", "claude-opus", 0.0, 2.0, 0.5, None, None),
        ("main", "sub_agent", "explore docs", 2.0, 9.0, None, "toolu_a", "a1"),
        ("main", "sub_agent", "run tests", 2.0, 8.0, None, "toolu_b", "a2"),
        ("main", "tool", "Read", 2.0, 2.3, None, "toolu_c", None),
        ("a1", "model", "claude-haiku", 2.1, 4.0, 2.6, None, None),
        ("a2", "model", "claude-haiku", 2.2, 3.5, 2.4, None, None),
        ("a2", "tool", "Bash", 3.5, 7.0, None, "toolu_d", None),
        ("a1", "tool", "Bash", 4.0, 6.0, None, "toolu_e", None),
        ("a1", "tool", "Grep", 4.0, 5.0, None, "toolu_f", None),
        ("a1", "model", "claude-haiku", 6.1, 9.0, 6.5, None, None),
        ("a2", "agent", "working", 7.0, 7.1, None, None, None),
        ("a2", "model", "claude-haiku", 7.1, 8.0, 7.3, None, None),
        ("main", "agent", "working", 9.0, 9.2, None, None, None),
        ("main", "model", "claude-opus", 9.2, 11.0, 9.8, None, None),
    ],
}
CODEX_LIKE = {
    "agents": [("main", "main", None), ("019a-thread", "Reviewer", "main")],
    "spans": [
        ("main", "model", "gpt-5-codex", 0.0, 3.0, 1.0, None, None),
        ("main", "tool", "exec_command", 3.0, 4.5, None, "call_1", None),
        ("main", "tool", "exec_command", 3.0, 5.0, None, "call_2", None),
        ("main", "tool", "exec_command", 3.1, 3.9, None, "call_3", None),
        ("main", "model", "gpt-5-codex", 5.0, 6.0, None, None, None),
        ("main", "sub_agent", "Reviewer", 6.0, 10.0, None, "call_4", "019a-thread"),
        ("019a-thread", "model", "gpt-5-codex", 6.2, 8.0, 6.9, None, None),
        ("019a-thread", "tool", "apply_patch", 8.0, 8.4, None, "call_5", None),
        ("019a-thread", "model", "gpt-5-codex", 8.4, 10.0, 8.8, None, None),
        ("main", "user", "typing", 10.0, 14.5, None, None, None),
        ("main", "model", "gpt-5-codex", 14.5, 16.0, 15.0, None, None),
    ],
}


def records(run: dict) -> list[dict]:
    """The run's agent, span and time records, in insight.jsonl's order."""
    lines = []
    for agent_id, name, parent in run["agents"]:
        lines.append({"record": "agent", "schema": 1, "id": agent_id, "name": name, "parent": parent,
                      "depth": 0 if parent is None else 1, "start": T0 + min(s[3] for s in run["spans"]
                                                                             if s[0] == agent_id)})  # fmt: skip
    for number, (agent, kind, name, start, end, first_byte, call_id, child) in enumerate(run["spans"], 1):
        lines.append({
            "record": "span", "schema": 1, "id": number, "agent": agent, "kind": kind, "name": name,
            "start": T0 + start, "end": T0 + end, "duration_ms": (end - start) * 1000,
            "first_byte": None if first_byte is None else T0 + first_byte, "exchanges": [number],
            "call_id": call_id, "child": child,
            "tokens": {"input": 1000 * number, "output": 50, "cache_read": 900, "cache_write": 0}
            if kind == "model" else None,
            "cost_usd": "0.0123" if kind == "model" else None, "cache_break": number == 5,
            "compaction": False, "open": False, "critical": agent == "main",
        })  # fmt: skip
    wall = max(s[4] for s in run["spans"])
    lines.append({"record": "time", "schema": 1, "agent": None, "name": "run", "parent": None, "depth": 0,
                  "start": T0, "end": T0 + wall, "wall_s": wall, "parts": {"model_waiting": 1.0},
                  "tools": {}, "spans": len(run["spans"]), "critical_path": [1], "critical_s": None})  # fmt: skip
    return lines


def write_insight(folder: Path, run: dict, before: tuple[dict, ...] = ()) -> Path:
    """insight.jsonl of the run in `folder`, with `before` (other records) ahead of its time model."""
    path = folder / "insight.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in (*before, *records(run))))
    return path
