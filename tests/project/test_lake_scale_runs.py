"""The lake benchmark's generated runs (bench/lake_runs.py): each copy of a template is a run of its own, on the
machine it was dealt to, with its template's turns (tool calls and a sub-agent among them), and its reports up to
date, so that no command rebuilds them."""

import io
import sys
from pathlib import Path

import pytest

from probe.analysis import sql
from probe.analysis.report import refresh_all

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from lake_runs import make_templates, spread  # noqa: E402  (bench/ is not a package)

QUERY = """SELECT r.label, r.target, r.agent_version, r.started, count(*) AS turns, count(t.cache_break) AS breaks,
    count(*) FILTER (WHERE t.share > 0.8) AS over_80, count(DISTINCT t.model) AS models
FROM runs r JOIN turns t USING (run) GROUP BY ALL ORDER BY r.label"""
# Each run's agents, the tool that spawned its sub-agent, its tool calls and how many of them were answered.
AGENTS = """SELECT r.target, (SELECT count(*) FROM agents a WHERE a.run = r.run),
    (SELECT any_value(spawn_tool) FROM agents a WHERE a.run = r.run),
    (SELECT count(*) FROM tool_calls c WHERE c.run = r.run),
    (SELECT count(answered_in) FROM tool_calls c WHERE c.run = r.run) FROM runs r ORDER BY r.target"""


@pytest.mark.slow  # (2-5 s here: three sessions analysed)
def test_copies_are_runs_of_their_own_with_their_templates_turns_and_up_to_date_reports(tmp_path):
    templates = make_templates(3, tmp_path / "cache")
    data = spread(templates, 7, ["bench-1", "bench-2"], tmp_path / "runs")
    dealt = {machine: sorted(run.name for run in sql.list_runs(root=folder)) for machine, folder in data.items()}
    assert [len(names) for names in dealt.values()] == [4, 3]  # dealt round the machines
    runs = [run for folder in data.values() for run in sql.list_runs(root=folder)]
    counts = refresh_all(runs, out=io.StringIO())
    assert counts["up to date"] == 7 and not counts["rebuilt"] and not counts["failed"]
    rows = sql.query(runs, QUERY)[1]
    assert [row[0] for row in rows] == [f"bench-{number:05d}" for number in range(7)]
    assert [row[1] for row in rows] == ["claude-code", "codex", "gemini"] * 2 + ["claude-code"]
    # The template's turns, each copy: the main agent's, and the sub-agent's six in Claude Code's and codex's.
    assert [row[4] for row in rows] == [66, 86, 100] * 2 + [66]
    agents = sql.query(runs[:3], AGENTS)[1]
    assert agents == [
        ("claude-code", 2, "Task", 21, 21),
        ("codex", 2, "spawn_agent", 27, 27),
        ("gemini", 1, None, 33, 33),
    ]
    # The first template fills its window past 80% and breaks its cache once, midway; the second never breaks it.
    assert rows[0][5] == 1 and rows[0][6] > 0 and rows[1][5] == 0 and rows[1][6] == 0
    started = [row[3] for row in rows]
    assert started == sorted(started) and len(set(started)) == 7  # each its own start, spread over the weeks
    assert {row[2] for row in rows} == {"2.0.10", "0.46.0", "0.9.0"}  # each target's first version
