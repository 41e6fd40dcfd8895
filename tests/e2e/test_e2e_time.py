"""The time model on real runs: Claude Code and codex against the mock, each told to spawn two sub-agents, which
the mock has them start side by side. Every time record's parts add up to its wall time; every model call's
waiting and streaming are the capture's own timestamps, read here from traffic.jsonl; the lanes follow the agent
tree, and the two sub-agents' lanes overlap; the report's `## Time` section shows the records."""

import json

import pytest
from conftest import FRESH_RUNS, read_traffic
from critical_path_checks import (
    assert_the_path_tiles_the_run,
    assert_the_reports_path_adds_up,
    capture_wall,
    model_entries,
)
from perfetto_reading import (
    assert_every_event_is_on_a_named_track,
    expected_lanes,
    frames,
    read_back,
    shown_name,
    zero_length_events,
    zero_length_spans,
)
from time_section_rows import time_rows

from probe.analysis import export
from probe.mock.subagents import parallel_prompt
from probe.mock.wording import final_answer_text
from probe.write.time_parts import LABELS

pytestmark = [pytest.mark.e2e, FRESH_RUNS]
PROMPT = "spawn two sub-agents to write a hello world function"
# The request headers that name the agent that sent a request (probe notes): Claude Code's sub-agents send their
# id and its main agent none; every codex thread sends its thread id, the main one's equal to the session id.
AGENT_HEADER = {"claude-code": "x-claude-code-agent-id", "codex": "thread-id"}


@pytest.fixture(scope="module", params=["claude-code", "codex"])
def parallel_run(request):
    """(target, the run folder, its insight records, its traffic entries)."""
    result, run = request.getfixturevalue("parallel_pipelines")[request.param]
    assert result.returncode == 0, result.stderr[-2000:]
    assert final_answer_text(PROMPT).strip() in result.stdout
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    return request.param, run, records, read_traffic(run)


def of_kind(records: list[dict], kind: str) -> list[dict]:
    return [record for record in records if record["record"] == kind]


def test_every_time_records_parts_add_up_to_its_wall_time(parallel_run):
    _, _, records, _ = parallel_run
    times = of_kind(records, "time")
    assert len(times) == 4  # the run, the main agent and its two sub-agents
    for record in times:
        assert abs(sum(record["parts"].values()) - record["wall_s"]) <= 0.01 * record["wall_s"], record
        assert abs(record["end"] - record["start"] - record["wall_s"]) <= 0.01 * record["wall_s"], record
        assert abs(sum(record["tools"].values()) - record["parts"]["tools"]) <= 0.01 * max(record["wall_s"], 1e-9)
    [run] = [record for record in times if record["agent"] is None]
    spans = of_kind(records, "span")
    # The run lasts from its first request to its last answer, and counts every span.
    assert run["start"] == min(span["start"] for span in spans) and run["end"] == max(span["end"] for span in spans)
    assert run["spans"] == len(spans) and run["critical_path"]
    assert {span["id"] for span in spans if span["critical"]} == set(run["critical_path"])


def test_each_model_calls_waiting_and_streaming_are_the_captures_timestamps(parallel_run):
    target, _, records, traffic = parallel_run
    calls = {span["exchanges"][0]: span for span in of_kind(records, "span") if span["kind"] == "model"}
    entries = model_entries(target, traffic)
    assert set(calls) == set(entries) and len(entries) >= 6
    for number, entry in entries.items():
        timing, span = entry["timing"], calls[number]
        assert span["exchanges"] == [number]
        assert span["start"] == timing["start"] and span["end"] == timing["end"]
        assert span["first_byte"] == timing["first_byte"]
        # waiting = start..first byte, streaming = first byte..end, as the capture measured them
        assert abs((span["first_byte"] - span["start"]) - (timing["first_byte"] - timing["start"])) < 1e-6
        assert abs(span["duration_ms"] - 1000 * (timing["end"] - timing["start"])) < 1e-3
    # The run's wall time: from the capture's first model request to its last answer.
    [run] = [record for record in of_kind(records, "time") if record["agent"] is None]
    first, last = (min(entry["timing"]["start"] for entry in entries.values()),
                   max(entry["timing"]["end"] for entry in entries.values()))  # fmt: skip
    assert abs(run["wall_s"] - (last - first)) < 1e-5


def agent_of(target: str, entry: dict) -> str:
    """The agent that sent a request, as its headers name it: `main` for the main agent."""
    headers = {name.lower(): value for name, value in entry["request"]["headers"]}
    own = headers.get(AGENT_HEADER[target])
    return "main" if own is None or own == headers.get("session-id") else own


def test_the_lanes_follow_the_agent_tree_and_the_two_sub_agents_overlap(parallel_run):
    target, _, records, traffic = parallel_run
    agents = {record["id"]: record for record in of_kind(records, "agent")}
    [main] = [agent for agent in agents.values() if agent["parent"] is None]
    children = set(main["children"])
    assert len(children) == 2 and set(agents) == {main["id"], *children}
    assert {agents[child]["name"] for child in children} <= {
        "agent-probe parallel sub-agent 1", "agent-probe parallel sub-agent 2", "probe parallel 1", "probe parallel 2"
    }  # fmt: skip
    spans = of_kind(records, "span")
    entries = model_entries(target, traffic)
    # Each model call is on the lane of the agent whose headers sent it; every span is on some agent's lane.
    for span in spans:
        assert span["agent"] in agents
        if span["kind"] == "model":
            assert agent_of(target, entries[span["exchanges"][0]]) == span["agent"]
    # The main agent's waits name its two children; no child waits on any agent.
    waits = [span for span in spans if span["kind"] == "sub_agent"]
    assert {(span["agent"], span["child"]) for span in waits} == {(main["id"], child) for child in children}
    for span in waits:
        assert agents[span["child"]]["parent"] == span["agent"]
    times = {record["agent"]: record for record in of_kind(records, "time")}
    for agent in agents.values():
        assert (times[agent["id"]]["parent"], times[agent["id"]]["depth"]) == (agent["parent"], agent["depth"])
        assert times[agent["id"]]["spans"] == sum(1 for span in spans if span["agent"] == agent["id"])
    # Side by side: the two children's lanes overlap in time, and both run while the main agent waits.
    bounds = {}
    for child in children:
        lane = [span for span in spans if span["agent"] == child]
        bounds[child] = (min(span["start"] for span in lane), max(span["end"] for span in lane))
        # The child starts once the answer asking for it is under way (codex starts it as the call streams in, before
        # the answer ends), and ends within its parent's waits (codex may wait twice: a wait woke for the other).
        own = [span for span in waits if span["child"] == child]
        asked = [span for span in spans if span["kind"] == "model" and span["exchanges"] == own[0]["exchanges"][:1]]
        assert asked[0]["start"] <= bounds[child][0] and bounds[child][1] <= max(span["end"] for span in own)
    assert max(start for start, _ in bounds.values()) < min(end for _, end in bounds.values())


def test_each_child_did_the_ordinary_scenario_on_its_own_lane(parallel_run):
    """A model call, one tool, a model call: the tasks the mock gave the two children side by side."""
    target, _, records, traffic = parallel_run
    children = {record["id"] for record in of_kind(records, "agent") if record["parent"] is not None}
    tools = {"claude-code": "Bash", "codex": "clock.sleep"}[target]
    for child in children:
        lane = [span for span in of_kind(records, "span") if span["agent"] == child]
        assert [span["name"] for span in lane if span["kind"] == "tool"] == [tools]
    tasks = json.dumps(list(model_entries(target, traffic).values()))  # HTTP bodies and WebSocket frames alike
    assert all(json.dumps(parallel_prompt(number, 2))[1:-1] in tasks for number in (1, 2))


def test_the_reports_time_section_shows_the_records_with_parts_that_add_up(parallel_run):
    """A row per agent and one for the run, each part as the time record has it to the hundredth of a second (a run
    under 10 s), adding up to the row's wall time."""
    _, run, records, _ = parallel_run
    rows = time_rows((run / "report.md").read_text())
    times = of_kind(records, "time")
    assert set(rows) == {"run" if record["agent"] is None else record["name"] for record in times}
    for record in times:
        row = rows["run" if record["agent"] is None else record["name"]]
        assert abs(row["wall"] - record["wall_s"]) <= 0.005  # (a run under 10 s: in hundredths)
        shown = {label: seconds for label, seconds in row.items() if label != "wall"}
        assert abs(sum(shown.values()) - row["wall"]) < 0.01  # rounded so that they add up
        for part, seconds in record["parts"].items():
            assert abs(shown.get(LABELS[part], 0.0) - seconds) <= 0.1, (part, seconds, row)


def test_the_perfetto_export_reads_back_as_a_named_process_per_agent_with_every_interval(parallel_run, tmp_path):
    """The run's Perfetto trace, read back by speedscope's importer: one named process per agent, every lane on a
    named track, and each interval a slice of its duration (a model call with its waiting and streaming too)."""
    _, run, records, _ = parallel_run
    trace = tmp_path / "trace.json"
    assert export.main(["--run", str(run), "--format", "perfetto", "--output", str(trace)]) == 0
    lanes = read_back(trace)
    assert lanes == expected_lanes(run / "insight.jsonl")
    assert zero_length_events(trace) == zero_length_spans(run / "insight.jsonl")
    spans, zero = of_kind(records, "span"), sum(zero_length_spans(run / "insight.jsonl").values())
    named = sum(count for slices in lanes.values() for (name, _), count in slices.items()
                if name not in ("waiting", "streaming"))  # fmt: skip
    assert named == len(spans) - zero  # every interval of some length is a slice of its own
    names = [record["name"] for record in of_kind(records, "agent")]
    assert len(names) == 3
    assert_every_event_is_on_a_named_track(trace, names)
    # speedscope's frames are the models, tools and agents, one each: no call's details (JSON) in a frame's name
    kept = {shown_name(span) for span in spans} | {"waiting", "streaming"}
    assert {name for weights in frames(trace).values() for name in weights} == kept
    assert not any("{" in name for name in kept)


def test_the_critical_path_tiles_the_run_and_its_rounded_steps_add_up(parallel_run):
    """The chain of intervals that set the end time, from the first model request to the last answer by
    traffic.jsonl's own timestamps, no moment skipped (the sub-agent main waited for last ends on it, until main's
    next request); the report's steps and parts, as rounded, add up to the wall time it shows."""
    target, run, records, traffic = parallel_run
    wall = capture_wall(model_entries(target, traffic))
    assert_the_path_tiles_the_run(records, wall)
    assert_the_reports_path_adds_up((run / "report.md").read_text(), wall)
    [path] = [record["critical_path"] for record in of_kind(records, "time") if record["agent"] is None]
    assert "ending" in [span["name"] for span in of_kind(records, "span") if span["id"] in path]


def test_each_agent_is_measured_against_its_own_models_window(parallel_run):
    """Each agent's share is of its own model's window: Claude Code's second child runs on haiku (the mock asks for
    it), the others on the main model; every turn's share is its input over its own model's window."""
    target, _, records, traffic = parallel_run
    spent = [turn for turn in of_kind(records, "turn") if turn["cache"] is not None]
    assert spent and all(turn["window"]["source"] == "mock_prices.yaml" for turn in spent)
    assert all(turn["share"] == round(turn["cache"]["input"] / turn["window"]["tokens"], 4) for turn in spent)
    agents = {record["id"]: record for record in of_kind(records, "agent")}
    sent = {number: entry for number, entry in model_entries(target, traffic).items() if entry["kind"] == "http"}
    for agent in agents.values():
        own, window = [turn for turn in spent if turn["agent"] == agent["id"]], agent["window"]
        if target == "claude-code":  # the model each of its requests named
            assert {sent[turn["number"]]["request"]["body"]["model"] for turn in own} == {window["model"]}
        assert window["tokens"] == own[-1]["window"]["tokens"] and window["turns"] == len(own)
        assert (window["peak_share"], window["last_share"]) == (max(turn["share"] for turn in own), own[-1]["share"])
    if target == "claude-code":
        [main] = [agent for agent in agents.values() if agent["parent"] is None]
        children = [agents[child]["window"] for child in main["children"]]
        assert main["window"]["model"] == "claude-opus-5-5"
        assert sorted(child["model"] for child in children) == ["claude-haiku-5-5", "claude-opus-5-5"]
