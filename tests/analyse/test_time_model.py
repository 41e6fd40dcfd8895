"""The time model on captures whose every duration is known: lanes that follow the agent tree, parallel sub-agents,
parts that add up to each wall time, the user's time in an interactive session, and the critical path."""

import io
import json
import shutil

import orjson
import pytest
from conftest import PROJECT_ROOT, run_manifest
from critical_path_checks import (
    assert_the_path_tiles_the_run,
    assert_the_reports_path_adds_up,
    capture_wall,
    model_entries,
)
from test_agents import call, message_exchange, report_of, result

from probe.analyse.time import lanes as time_lanes
from probe.analyse.time.parts import split
from probe.analysis.report import analyze_run, build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.openai_responses import report as openai_responses

RENDERERS = {"claude-code": anthropic_messages, "codex": openai_responses}
CHILD_A, CHILD_B = ("x-claude-code-agent-id", "aaa1"), ("x-claude-code-agent-id", "bbb2")


def timed(exchange, start, first_byte, end):
    exchange["timing"] = {"start": start, "first_byte": first_byte, "end": end}
    return exchange


def parallel_session(typed_again: bool = True) -> list[dict]:
    """Main asks for two sub-agents at once (1000–1001 s). A starts 0.5 s later, runs Bash for 3 s and answers at
    1006.5; B starts 1 s later and answers at 1003. Main gets both results at 1008 and answers at 1009; 11 s later
    a new prompt is sent (1020–1021)."""
    ask = [{"role": "user", "content": "Explore."}]
    spawn_a = call("toolu_a", "Agent", {"description": "Look left", "prompt": "Left."})
    spawn_b = call("toolu_b", "Agent", {"description": "Look right", "prompt": "Right."})
    bash = call("toolu_x", "Bash", {"command": "sleep 3"})
    left = [{"role": "user", "content": "Left."}]
    done = [{"type": "text", "text": "Done."}]
    answered = ask + [{"role": "assistant", "content": [spawn_a, spawn_b]},
                      {"role": "user", "content": [result("toolu_a", "L.\nagentId: aaa1"),
                                                   result("toolu_b", "R.\nagentId: bbb2")]}]  # fmt: skip
    exchanges = [
        timed(message_exchange(1, ask, [spawn_a, spawn_b]), 1000.0, 1000.5, 1001.0),
        timed(message_exchange(2, left, [bash], headers=[CHILD_A]), 1001.5, 1001.75, 1002.5),
        timed(message_exchange(3, [{"role": "user", "content": "Right."}], done, headers=[CHILD_B], stop="end_turn"),
              1002.0, 1002.25, 1003.0),
        timed(message_exchange(4, left + [{"role": "assistant", "content": [bash]},
                                          {"role": "user", "content": [result("toolu_x", "ok")]}],
                               done, headers=[CHILD_A], stop="end_turn"), 1005.5, 1005.6, 1006.5),
        timed(message_exchange(5, answered, done, stop="end_turn"), 1008.0, 1008.5, 1009.0),
    ]  # fmt: skip
    if typed_again:
        again = answered + [{"role": "assistant", "content": done}, {"role": "user", "content": "And now?"}]
        exchanges.append(timed(message_exchange(6, again, done, stop="end_turn"), 1020.0, 1020.5, 1021.0))
    return exchanges


def time_of(tmp_path, exchanges, manifest=None):
    report, records = report_of(tmp_path, exchanges, manifest=manifest)
    spans = [record for record in records if record["record"] == "span"]
    times = {record["agent"]: record for record in records if record["record"] == "time"}
    return report, spans, times


def rounded(parts: dict) -> dict:
    return {part: round(seconds, 6) for part, seconds in parts.items() if seconds}


@pytest.mark.parametrize("session", ["interactive", "prompt"])
def test_parallel_sub_agents_each_on_its_lane_and_every_part_as_known(tmp_path, session):
    _, spans, times = time_of(tmp_path, parallel_session(), run_manifest("claude-code", session=session))
    waited = "user" if session == "interactive" else "agent"
    assert rounded(times["main"]["parts"]) == {"model_waiting": 1.5, "model_streaming": 1.5, "sub_agents": 7.0,
                                                waited: 11.0}  # fmt: skip
    assert times["main"]["wall_s"] == 21.0 and times[None]["wall_s"] == 21.0
    assert rounded(times[None]["parts"]) == rounded(times["main"]["parts"])
    # A: 0.5 s starting, and 1.5 s ending (its last answer at 1006.5 to main's request with its result at 1008)
    assert rounded(times["aaa1"]["parts"]) == {"model_waiting": 0.35, "model_streaming": 1.65, "tools": 3.0,
                                                "agent": 2.0}  # fmt: skip
    assert times["aaa1"]["tools"] == {"Bash": 3.0} and times["aaa1"]["wall_s"] == 7.0
    assert rounded(times["bbb2"]["parts"]) == {"model_waiting": 0.25, "model_streaming": 0.75, "agent": 1.0}
    assert [(times[agent]["parent"], times[agent]["depth"]) for agent in ("main", "aaa1", "bbb2")] == [
        (None, 0), ("main", 1), ("main", 1)]  # fmt: skip
    for record in times.values():
        assert sum(record["parts"].values()) == pytest.approx(record["wall_s"], abs=1e-6)
    # Each interval stays on the lane of the agent that made it; the parent's two waits overlap, each names its child.
    waits = [span for span in spans if span["kind"] == "sub_agent"]
    assert [(span["agent"], span["child"], span["name"], span["start"], span["end"]) for span in waits] == [
        ("main", "aaa1", "Look left", 1001.0, 1008.0),
        ("main", "bbb2", "Look right", 1001.0, 1008.0),
    ]
    models = {span["exchanges"][0]: span for span in spans if span["kind"] == "model"}
    assert {number: span["agent"] for number, span in models.items()} == {
        1: "main",
        2: "aaa1",
        3: "bbb2",
        4: "aaa1",
        5: "main",
        6: "main",
    }
    assert (models[2]["start"], models[2]["first_byte"], models[2]["end"]) == (1001.5, 1001.75, 1002.5)
    gap = next(span for span in spans if span["start"] == 1009.0)
    assert (gap["kind"], gap["name"], gap["exchanges"]) == (
        ("user", "typing", [5, 6]) if session == "interactive" else ("agent", "working", [5, 6])
    )
    assert [span["id"] for span in spans] == list(range(1, len(spans) + 1))
    assert [span["start"] for span in spans] == sorted(span["start"] for span in spans)


def test_the_critical_path_goes_through_the_sub_agent_that_finished_last(tmp_path):
    _, spans, times = time_of(tmp_path, parallel_session(), run_manifest("claude-code", session="interactive"))
    by_id = {span["id"]: span for span in spans}
    path = [by_id[number] for number in times[None]["critical_path"]]
    assert [(span["agent"], span["kind"], span["exchanges"]) for span in path] == [
        ("main", "model", [1]),
        ("aaa1", "agent", [2]),
        ("aaa1", "model", [2]),
        ("aaa1", "tool", [2, 4]),
        ("aaa1", "model", [4]),
        ("aaa1", "agent", [4, 5]),
        ("main", "model", [5]),
        ("main", "user", [5, 6]),
        ("main", "model", [6]),
    ]
    assert all(span["critical"] == (span in path) for span in spans)
    assert rounded(times[None]["critical_s"]) == {"model_waiting": 1.85, "model_streaming": 3.15, "tools": 3.0,
                                                   "user": 11.0, "agent": 2.0}  # fmt: skip


def test_the_critical_path_tiles_the_run_with_the_sub_agents_end_before_its_parent_went_on(tmp_path):
    """A's last answer ends at 1006.5 and main's request bringing both results starts at 1008: those 1.5 s are A's
    `ending` (B's, which finished at 1003, are not: main waited for A), on the path, whose steps add up to the run."""
    exchanges = parallel_session()
    _, spans, times = time_of(tmp_path, exchanges, run_manifest("claude-code", session="interactive"))
    first = min(exchange["timing"]["start"] for exchange in exchanges)
    last = max(exchange["timing"]["end"] for exchange in exchanges)
    endings = [(span["agent"], span["start"], span["end"]) for span in spans if span["name"] == "ending"]
    assert endings == [("aaa1", 1006.5, 1008.0)]
    assert times["aaa1"]["wall_s"] == 7.0 and rounded(times["aaa1"]["parts"])["agent"] == 2.0
    by_id = {span["id"]: span for span in spans}
    path = [by_id[number] for number in times[None]["critical_path"]]
    steps = times[None]["critical_steps_s"]
    assert steps == [1.0, 0.5, 1.0, 3.0, 1.0, 1.5, 1.0, 11.0, 1.0]  # each step its interval: they meet end to start
    assert [span["end"] - span["start"] for span in path] == steps
    assert sum(steps) == sum(times[None]["critical_s"].values()) == last - first == 21.0


def test_a_call_never_answered_waits_to_the_end_of_the_run(tmp_path):
    exchanges = parallel_session(typed_again=False)
    # B's answer asks for a tool nobody answers before the run ends at 1009.
    exchanges[2]["response"]["body"]["content"] = [call("toolu_open", "Read", {"path": "x"})]
    _, spans, times = time_of(tmp_path, exchanges)
    [left] = [span for span in spans if span["call_id"] == "toolu_open"]
    assert (left["agent"], left["kind"], left["open"], left["start"], left["end"]) == ("bbb2", "tool", True, 1003.0,
                                                                                        1009.0)  # fmt: skip
    assert times["bbb2"]["tools"] == {"Read": 6.0}


def test_overlapping_pieces_count_each_moment_once_in_order_of_parts():
    pieces = [(0.0, 4.0, "tools", "Bash"), (1.0, 3.0, "tools", "Read"), (2.0, 2.5, "model_streaming", None),
              (5.0, 6.0, "user", None), (5.5, 7.0, "sub_agents", None)]  # fmt: skip
    found = split(pieces, 0.0, 8.0)
    assert rounded(found.parts) == {"tools": 3.5, "model_streaming": 0.5, "user": 0.5, "sub_agents": 1.5,
                                    "agent": 2.0}  # fmt: skip
    assert found.tools == {"Bash": 3.5}  # the tool that started first has the moments two tools share
    assert sum(found.parts.values()) == pytest.approx(found.wall)


def test_a_flood_of_intervals_is_counted_past_the_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(time_lanes, "SPANS_KEPT", 4)
    _, _, times = time_of(tmp_path, parallel_session())
    assert times[None]["spans_left_out"] > 0
    assert sum(times[None]["parts"].values()) == pytest.approx(times[None]["wall_s"])


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_recorded_sub_agent_runs_parts_add_up_and_model_calls_keep_the_captures_times(tmp_path, agent):
    """On the committed captures of real agents: recomputed from traffic.jsonl without probe's readers."""
    traffic = PROJECT_ROOT / "tests" / "data" / "subagents" / agent / "traffic.jsonl"
    insight = io.BytesIO()
    manifest = json.loads(traffic.with_name("manifest.json").read_text())
    build_report(traffic, RENDERERS[agent], manifest, insight=insight)
    records = [orjson.loads(line) for line in insight.getvalue().splitlines()]
    times = [record for record in records if record["record"] == "time"]
    for record in times:
        assert sum(record["parts"].values()) == pytest.approx(record["wall_s"], rel=0.01)
    agents = {record["id"]: record for record in records if record["record"] == "agent"}
    spans = [record for record in records if record["record"] == "span"]
    assert {span["agent"] for span in spans} == set(agents)
    for span in spans:
        if span["kind"] == "sub_agent":
            assert agents[span["child"]]["parent"] == span["agent"]
    lines = [json.loads(line) for line in traffic.read_text().splitlines()]
    timings = [line["timing"] for line in lines if line["kind"] == "http" and line["request"]["method"] == "POST"]
    models = [span for span in spans if span["kind"] == "model"]
    assert len(models) >= 6
    if agent == "claude-code":  # (codex's turns are a WebSocket's, timed from its frames: the end-to-end test's)
        found = [moment for span in models for moment in (span["start"], span["first_byte"], span["end"])]
        captured = [moment for timing in timings for moment in (timing["start"], timing["first_byte"], timing["end"])]
        assert found == pytest.approx(captured, abs=1e-6)


def test_a_sub_agent_that_starts_while_its_spawn_still_streams_follows_that_answer_on_the_path(tmp_path):
    """codex starts a sub-agent as the call asking for it streams in: A's first request (1000.8) comes before main's
    answer ends (1001). The path goes from that answer to A's request, not past it to nothing before A."""
    exchanges = parallel_session()
    exchanges[1]["timing"] = {"start": 1000.8, "first_byte": 1001.05, "end": 1002.5}
    _, spans, times = time_of(tmp_path, exchanges, run_manifest("claude-code", session="interactive"))
    by_id = {span["id"]: span for span in spans}
    path = [by_id[number] for number in times[None]["critical_path"]]
    steps = [(span["agent"], span["kind"], span["exchanges"]) for span in path[:2]]
    assert steps == [("main", "model", [1]), ("aaa1", "model", [2])]
    assert times[None]["critical_steps_s"][:2] == [0.8, pytest.approx(1.7)]  # main's answer to A's first request
    assert sum(times[None]["critical_steps_s"]) == pytest.approx(21.0)
    # Main's answer up to A's request: 0.5 s waiting, 0.3 s streaming of it
    assert rounded(times[None]["critical_s"]) == {"model_waiting": 0.5 + 0.25 + 0.1 + 0.5 + 0.5,
                                                   "model_streaming": 0.3 + 1.45 + 0.9 + 0.5 + 0.5, "tools": 3.0,
                                                   "user": 11.0, "agent": 1.5}  # fmt: skip


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_recorded_nested_sub_agents_critical_path_tiles_the_run_and_its_rounded_steps_add_up(agent):
    """A main agent, its child and grandchild: the time from the grandchild's last answer to its parent's next
    request, and from the child's to main's, is on the path (each sub-agent's `ending`), which adds up to the wall
    time of traffic.jsonl's own timestamps; the report's rounded steps add up to the total it shows."""
    traffic = PROJECT_ROOT / "tests" / "data" / "subagents" / agent / "traffic.jsonl"
    insight = io.BytesIO()
    manifest = json.loads(traffic.with_name("manifest.json").read_text())
    report, _ = build_report(traffic, RENDERERS[agent], manifest, insight=insight)
    records = [orjson.loads(line) for line in insight.getvalue().splitlines()]
    wall = capture_wall(model_entries(agent, [json.loads(line) for line in traffic.read_text().splitlines()]))
    assert_the_path_tiles_the_run(records, wall)
    spans = {record["id"]: record for record in records if record["record"] == "span"}
    [run] = [record for record in records if record["record"] == "time" and record["agent"] is None]
    names = [spans[number]["name"] for number in run["critical_path"]]
    assert names.count("ending") == 2  # the grandchild's, then the child's
    steps = assert_the_reports_path_adds_up(report, wall)
    assert len(steps) == min(len(names), 11)  # (a long path: its first and last five, those between in one row)


def test_a_permission_the_user_gave_is_the_users_time_and_the_tool_runs_after_it(tmp_path):
    """Claude Code's own account says the user allowed Bash 0.3 s after the answer asking for it ended."""
    fixture = PROJECT_ROOT / "tests" / "data" / "account" / "claude-code"
    run = tmp_path / "claude-code" / "20261127-000000"
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(fixture / name, run / name)
    asked_end = json.loads((fixture / "traffic.jsonl").read_text().splitlines()[0])["timing"]["end"]
    telemetry = []
    for line in (fixture / "telemetry.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("name") == "tool_decision":
            record["attributes"]["source"], record["time"] = "user_temporary", asked_end + 0.3
        telemetry.append(json.dumps(record))
    (run / "telemetry.jsonl").write_text("\n".join(telemetry) + "\n")
    analyze_run(run)
    spans = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    spans = [span for span in spans if span["record"] == "span" and span["kind"] in ("user", "tool")]
    [permission, tool] = spans
    assert (permission["kind"], permission["name"], permission["call_id"]) == ("user", "permission", tool["call_id"])
    assert permission["start"] == pytest.approx(asked_end) and permission["end"] == pytest.approx(asked_end + 0.3)
    assert (tool["name"], tool["start"]) == ("Bash", pytest.approx(asked_end + 0.3))
