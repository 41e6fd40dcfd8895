"""A run whose every duration is known, made by a stand-in agent (tests/timed_agent.py) through the real proxy
against a model server of known timing (tests/timed_model.py): each agent's time record, and the run's, splits its
wall time into the parts the stand-in spent, each within 5% of the known value.

The known values are what the stand-in and the model server did, each by its own clock (their logs): the durations
they aim at (timed_agent's constants), plus whatever a busy machine added to their sleeps, which the proxy sees too.
Beyond the 5%, each figure may be off by the milliseconds the capture's own timestamps lagged behind those clocks in
this run (lags): on an idle machine a few, on a busy one up to a hundred at a boundary.
"""

import json
import os
import subprocess
import sys

import pytest
import timed_agent
from conftest import PROJECT_ROOT, read_traffic
from time_section_rows import time_rows
from timed_agent import CHILDREN, LOG, SENT, STREAMING, WAITING
from timed_model import timed_model

from probe.write.time_parts import LABELS

# One run for the module's checks: under `--dist loadgroup` its tests go to one worker, which makes it once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("timed-run")]
TOLERANCE = 0.05
TARGET = """name: timed-agent
description: a stand-in agent whose tools, pauses and sub-agents take known times
renderer: probe.apis.anthropic_messages.report
proxies:
  - {{name: api, listen: 0, upstream: "https://api.anthropic.com/"}}
agent:
  command: [{python}, {program}]
  env:
    ANTHROPIC_BASE_URL: "{{proxy.api}}"
    {log_variable}: {log}
redact_headers: []
"""
PARTS = ("model_streaming", "model_waiting", "tools", "sub_agents", "user", "agent")


def known_parts(done: list[dict], served: list[dict]) -> dict[str | None, tuple[dict, dict]]:
    """Each agent's (parts, tools by name) as the stand-in and the server spent them, by their own clocks; None for
    the main agent. A request's waiting runs from its sending to the server's first byte, its streaming on to the
    last; what the agent did before a request lasts from the answer before (or its spawn) to the request."""
    answers = {entry["sent"]: entry for entry in served}
    known: dict[str | None, tuple[dict, dict]] = {}
    for line in done:
        parts, tools = known.setdefault(line["agent"], (dict.fromkeys(PARTS, 0.0), {}))
        answer = answers[line["sent"]]
        parts["model_waiting"] += answer["first_byte"] - line["sent"]
        parts["model_streaming"] += answer["end"] - answer["first_byte"]
        between = line["sent"] - line["begun"]
        if line["after"].startswith("tool:"):  # parallel calls are one wait: the agent sends when all are done
            parts["tools"] += between
            tools[line["after"][5:]] = tools.get(line["after"][5:], 0.0) + between
        elif line["after"] in ("agent", "sub_agents"):
            parts[line["after"]] += between
    # The sub-agent that answered last held its parent up until the parent sent its next request: its `ending`.
    [went_on] = [line for line in done if line["after"] == "sub_agents"]
    last = max((line for line in done if line["agent"] is not None), key=lambda line: line["answered"])
    known[last["agent"]][0]["agent"] += went_on["sent"] - last["answered"]
    return known


def lags(done: list[dict], served: list[dict], traffic: list[dict]) -> dict[str | None, float]:
    """Each agent's seconds the capture's timestamps lag behind the stand-in's and the server's (measured in this
    run): a busy machine may let the proxy see a request or an answer's first or last byte tens of milliseconds
    late, which moves time from one part to the next. Summed over the agent's requests, with, for a sub-agent, the
    lag of the answer that spawned it."""
    answers = {entry["sent"]: entry for entry in served}
    captured = {}
    for entry in traffic:
        headers = {name.lower(): value for name, value in entry["request"]["headers"]}
        if SENT in headers:
            captured[float(headers[SENT])] = entry["timing"]
    late: dict[str | None, float] = {}
    ended = {}  # when the agent had each answer: the capture's end of it, and its lag there
    for line in done:
        timing, answer = captured[line["sent"]], answers[line["sent"]]
        ended[line["answered"]] = abs(line["answered"] - timing["end"])
        late[line["agent"]] = late.get(line["agent"], 0.0) + sum(
            abs(theirs - ours)
            for theirs, ours in ((timing["start"], line["sent"]), (timing["first_byte"], answer["first_byte"]),
                                 (timing["end"], answer["end"]), (timing["end"], line["answered"]))
        )  # fmt: skip
    for line in done:
        if line["agent"] is not None and line["after"] == "agent":  # a sub-agent's start-up: since its spawn
            late[line["agent"]] += ended.get(line["begun"], 0.0)
    return late


@pytest.fixture(scope="module")
def timed_run(tmp_path_factory):
    """The stand-in's run, recorded by the real pipeline: its insight.jsonl's records, the known parts, its report."""
    folder = tmp_path_factory.mktemp("timed")
    target = folder / "timed-agent.yaml"
    log = folder / "timed-agent.jsonl"
    target.write_text(TARGET.format(python=json.dumps(sys.executable), program=json.dumps(timed_agent.__file__),
                                    log_variable=LOG, log=json.dumps(str(log))))  # fmt: skip
    env = dict(os.environ, PROBE_DATA_DIR=str(folder / "data"))
    with timed_model(WAITING, STREAMING) as (url, served):
        result = subprocess.run(
            [sys.executable, "-m", "probe.pipeline", "--target", str(target), "--upstream", url, "--port", "api=0",
             "--prompt", "a run of known durations", "--timeout", "60", "--quiet"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0 and "timed agent done" in result.stdout, result.stderr[-2000:]
    [run] = (folder / "data" / "timed-agent").iterdir()
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    done = [json.loads(line) for line in log.read_text().splitlines()]
    slack = lags(done, served, read_traffic(run))
    return records, known_parts(done, served), (run / "report.md").read_text(), slack


def close(found: float, known: float, slack: float = 0.0) -> bool:
    """Within 5% of the known value, beyond `slack`: the capture's own lag (lags)."""
    return found == known == 0.0 or abs(found - known) <= TOLERANCE * known + slack


def test_each_agents_parts_are_within_five_percent_of_the_known_durations(timed_run):
    records, known, _, slack = timed_run
    times = {record["agent"]: record for record in records if record["record"] == "time"}
    [main] = [agent for agent in times if agent is not None and times[agent]["parent"] is None]
    assert set(times) == {None, main, *CHILDREN} and set(known) == {None, *CHILDREN}
    # The logs hold what the stand-in aimed at: its sleeps end at their deadlines or later, never sooner.
    assert known[None][1].keys() == {"Bash", "Read"} and known[None][1]["Bash"] >= timed_agent.TOOL_A
    assert all(known[agent][1]["Bash"] >= seconds for agent, seconds in CHILDREN.items())
    for agent, (parts, tools) in known.items():
        record = times[main if agent is None else agent]
        assert record["parts"].keys() == parts.keys()
        wrong = {part: (record["parts"][part], seconds) for part, seconds in parts.items()
                 if not close(record["parts"][part], seconds, slack[agent])}  # fmt: skip
        assert not wrong, (agent, wrong)
        assert record["tools"].keys() == tools.keys()
        assert all(close(record["tools"][name], seconds, slack[agent]) for name, seconds in tools.items())
        assert close(record["wall_s"], sum(parts.values()), slack[agent]), (agent, record["wall_s"])
        assert (record["parent"], record["depth"]) == ((None, 0) if agent is None else (main, 1))


def test_the_runs_line_is_the_main_agent_and_the_time_its_sub_agents_ran(timed_run):
    """The main agent waited on its sub-agents the whole while they ran: the run's parts are the main agent's."""
    records, known, _, slack = timed_run
    times = {record["agent"]: record for record in records if record["record"] == "time"}
    run = times[None]
    main, _ = known[None]
    assert run["name"] == "run" and run["spans"] == sum(1 for record in records if record["record"] == "span")
    assert all(close(run["parts"][part], seconds, slack[None]) for part, seconds in main.items()), run["parts"]
    assert close(run["wall_s"], sum(main.values()), slack[None])
    assert abs(sum(run["parts"].values()) - run["wall_s"]) <= 0.01 * run["wall_s"]


def test_the_lanes_hold_the_known_intervals(timed_run):
    """Every interval the stand-in made is on its agent's lane: the parallel Read calls side by side, the two
    sub-agents' waits each naming its child, each sub-agent's start-up as time in itself (and the end of the one that
    finished last, until its parent went on)."""
    records, known, _, slack = timed_run
    spans = [record for record in records if record["record"] == "span"]
    main = next(record["agent"] for record in records if record["record"] == "time" and record["depth"] == 0
                and record["agent"] is not None)  # fmt: skip
    lane = [(span["kind"], span["name"]) for span in spans if span["agent"] == main and span["kind"] != "model"]
    assert sorted(lane) == sorted([("tool", "Bash"), ("tool", "Read"), ("tool", "Read"), ("agent", "working"),
                                   ("sub_agent", "sub-agent"), ("sub_agent", "sub-agent (2)")])  # fmt: skip
    reads = [span for span in spans if span["name"] == "Read"]
    assert {span["call_id"] for span in reads} == {"toolu_b", "toolu_c"} and reads[0]["start"] == reads[1]["start"]
    waits = {span["child"]: span for span in spans if span["kind"] == "sub_agent"}
    assert set(waits) == set(CHILDREN) and {span["call_id"] for span in waits.values()} == {"toolu_s1", "toolu_s2"}
    for agent in CHILDREN:
        own = [(span["kind"], span["name"]) for span in spans if span["agent"] == agent]
        assert own[:4] == [
            ("agent", "starting"),
            ("model", "claude-timed"),
            ("tool", "Bash"),
            ("model", "claude-timed"),
        ]
        assert own[4:] in ([], [("agent", "ending")])  # (the one its parent waited for last, if it took a moment)
        [start_up] = [span for span in spans if span["agent"] == agent and span["name"] == "starting"]
        assert close(start_up["duration_ms"] / 1000, known[agent][0]["agent"], slack[agent])
        assert waits[agent]["start"] == start_up["start"]  # the parent's wait begins where the child's life does


def test_the_reports_time_section_shows_each_part_within_five_percent(timed_run):
    """The report shows seconds to the tenth: each part within 5% of the known value, beyond that rounding."""
    records, known, report, slack = timed_run
    rows = time_rows(report)
    names = {record["agent"]: record["name"] for record in records if record["record"] == "time"}
    main = next(agent for agent, name in names.items() if agent is not None and agent not in CHILDREN)
    assert set(rows) == {"run", *(names[agent] for agent in (main, *CHILDREN))}
    for agent, (parts, _) in known.items():
        for row in (rows[names[main]], rows["run"]) if agent is None else (rows[names[agent]],):
            # A part no row has is no column of the table.
            wrong = {part: (row.get(LABELS[part], 0.0), seconds) for part, seconds in parts.items()
                     if not close(row.get(LABELS[part], 0.0), seconds, slack[agent] + 0.1)}  # fmt: skip
            assert not wrong, (agent, wrong)
            assert close(row["wall"], sum(parts.values()), slack[agent] + 0.05)
