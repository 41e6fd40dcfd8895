"""The Perfetto export (a Chrome Trace Event JSON file of the run's time model), read back by speedscope's own
importer: a named process per agent, a named track per lane, every interval a slice of its duration."""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import perfetto_records as time_records
import pytest
from perfetto_reading import (
    assert_every_event_is_on_a_named_track,
    expected_lanes,
    frames,
    read_back,
    zero_length_events,
    zero_length_spans,
)

from probe.analysis import export
from probe.common.errors import run_main
from probe.write import perfetto
from probe.write.perfetto import write_trace

SUBAGENTS = Path(__file__).resolve().parents[1] / "data" / "subagents"


@pytest.mark.parametrize("run", ["THREE_AGENTS", "CODEX_LIKE"])
def test_speedscope_reads_a_lane_per_track_with_every_interval_at_its_duration(run, tmp_path):
    insight = time_records.write_insight(tmp_path, getattr(time_records, run), before=({"record": "turn"},))
    warnings = []
    with (tmp_path / "trace.json").open("wb") as out:
        assert write_trace(insight, out, warnings) == len(getattr(time_records, run)["spans"])
    assert warnings == []
    assert read_back(tmp_path / "trace.json") == expected_lanes(insight)
    agents = [name for _, name, _ in getattr(time_records, run)["agents"]]
    events = assert_every_event_is_on_a_named_track(tmp_path / "trace.json", agents)
    spawned = [e for e in events if e["ph"] == "M" and e["name"] == "process_labels"]
    assert [e["args"]["labels"] for e in spawned] == ["spawned by main"] * (len(agents) - 1)
    flows = Counter(e["ph"] for e in events if e["ph"] in "sf")
    assert flows == {"s": len(agents) - 1, "f": len(agents) - 1}  # an arrow from each spawning call to its child


def test_the_three_agent_lanes_are_the_parallel_ones(tmp_path):
    insight = time_records.write_insight(tmp_path, time_records.THREE_AGENTS)
    with (tmp_path / "trace.json").open("wb") as out:
        write_trace(insight, out, [])
    lanes = read_back(tmp_path / "trace.json")
    assert lanes["main (pid 1), sub-agents (tid 3001)"] == {("explore docs", 7_000_000): 1}
    assert lanes["main (pid 1), sub-agents 2 (tid 3002)"] == {("run tests", 6_000_000): 1}
    assert lanes["explore docs (pid 2), tools 2 (tid 2002)"] == {("Grep", 1_000_000): 1}
    events = json.loads((tmp_path / "trace.json").read_bytes())["traceEvents"]
    model = next(e for e in events if e.get("cat") == "model")
    details = events[events.index(model) + 1]  # the instant beside the slice, at its start, holds its details
    assert (model["name"], "args" in model) == ("claude-opus", False)
    assert (details["ph"], details["s"], details["name"], details["ts"]) == ("i", "t", "details", model["ts"])
    assert (details["pid"], details["tid"]) == (model["pid"], model["tid"])
    assert details["args"] == {"span": 1, "exchanges": [1], "model": "claude-opus", "critical": True,
                             "tokens": {"input": 1000, "output": 50, "cache_read": 900, "cache_write": 0},
                             "cost_usd": "0.0123", "cache_break": False, "compaction": False}  # fmt: skip


def test_speedscope_adds_up_each_lanes_calls_by_model_tool_and_sub_agent(tmp_path):
    """speedscope keys a frame by its event's name and args: with a call's id, tokens and cost in its args, each
    call was a frame of its own. Each lane's frames are now the models, the tools and the sub-agents it ran, each
    weighing the sum of its intervals (the Sandwich view's figures), computed here from the spans given."""
    insight = time_records.write_insight(tmp_path, time_records.THREE_AGENTS)
    with (tmp_path / "trace.json").open("wb") as out:
        write_trace(insight, out, [])
    found = frames(tmp_path / "trace.json")
    pids = {agent: pid for pid, (agent, _, _) in enumerate(time_records.THREE_AGENTS["agents"], 1)}
    names = {agent: name for agent, name, _ in time_records.THREE_AGENTS["agents"]}
    expected: dict[str, Counter] = {}
    for agent, kind, name, start, end, first_byte, _, _ in time_records.THREE_AGENTS["spans"]:
        lane = f"{names[agent]} (pid {pids[agent]}), {perfetto.TRACKS[kind]}"
        weights = expected.setdefault(lane, Counter())
        weights[name] += round((end - start) * 1e6)
        if first_byte is not None:
            weights["waiting"] += round((first_byte - start) * 1e6)
            weights["streaming"] += round((end - first_byte) * 1e6)
    merged: dict[str, Counter] = {}  # (the parallel lanes of a track, `tools 2`, … added to its first)
    for lane, weights in found.items():
        track = re.sub(r"( \d+)? \(tid \d+\)$", "", lane)
        merged.setdefault(track, Counter()).update(weights)
    assert merged == expected
    assert merged["explore docs (pid 2), model calls"] == {"claude-haiku": 4_800_000, "waiting": 900_000,
                                                           "streaming": 3_900_000}  # fmt: skip


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_a_recorded_run_exports_once_and_reads_back_as_its_spans(agent, tmp_path, capsys):
    run = tmp_path / agent
    shutil.copytree(SUBAGENTS / agent, run)  # the export writes beside the capture: never into committed files
    assert export.main(["--run", str(run), "--format", "perfetto"]) == 0
    assert capsys.readouterr().out == f"perfetto: {run}/trace.perfetto.json\n"
    lanes = expected_lanes(run / "insight.jsonl")
    assert sum(sum(slices.values()) for slices in lanes.values()) > 10
    assert read_back(run / "trace.perfetto.json") == lanes
    assert zero_length_events(run / "trace.perfetto.json") == zero_length_spans(run / "insight.jsonl")
    agents = [json.loads(line)["name"] for line in (run / "insight.jsonl").read_text().splitlines()
              if json.loads(line)["record"] == "agent"]  # fmt: skip
    assert len(agents) == 3
    assert_every_event_is_on_a_named_track(run / "trace.perfetto.json", agents)
    assert export.main(["--run", str(run), "--format", "perfetto"]) == 0
    assert capsys.readouterr().out.endswith("(up to date: the capture has not changed; --force writes it)\n")


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--run", "/nonexistent/run", "--format", "perfetto"], 'error: no run "/nonexistent/run"'),
        (["--run", str(SUBAGENTS / "codex"), "--format", "perfetto", "--keep-secrets"],
         "error: --keep-secrets goes with --format har, mitm or vcr: spans and traces are always masked"),
        (["--format", "perfeto"], "error: argument --format: invalid choice: 'perfeto' (choose from 'har', 'mitm', "
         "'vcr', 'perfetto', 'parquet', 'otlp')"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_line(argv, error, capsys):
    assert run_main(export.main, argv) != 0
    err = capsys.readouterr().err
    assert err.startswith(error) and err.count("\n") == 1


def test_a_flood_of_spans_stops_at_the_cap_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(perfetto, "MAX_SPANS", 5)
    bad = ({"record": "span", "agent": "main", "kind": "tool", "start": "x", "end": 1.0}, [1, 2], "not json")
    insight = time_records.write_insight(tmp_path, time_records.THREE_AGENTS)
    with insight.open("a") as file:
        file.writelines(json.dumps(line) + "\n" for line in bad)
    warnings = []
    with (tmp_path / "trace.json").open("wb") as out:
        assert write_trace(insight, out, warnings) == 5
    assert warnings == ["perfetto: 9 intervals left out: a trace holds at most 5 intervals and 256 parallel ones "
                        "of a kind per agent",
                        "perfetto: 1 span record without a known agent, kind or times, left out"]  # fmt: skip
    metadata = json.loads((tmp_path / "trace.json").read_bytes())["otherData"]
    assert metadata["left_out"] == warnings[0].removeprefix("perfetto: ")
    assert metadata["unreadable"] == "1 span record without a known agent, kind or times"
    assert metadata["run_time"]["wall_s"] == 11.0


def test_a_record_on_a_line_too_long_to_read_is_said_and_no_warning_says_there_are_no_intervals(tmp_path):
    """A line over the 1 MB read is left unread: a turn's (which the trace does not read) without a word, an agent's
    with one, and its intervals, left without a known agent, with another; the others are drawn."""
    long_turn = {"record": "turn", "number": 1, "context": "x" * perfetto.LINE_LIMIT}
    insight = time_records.write_insight(tmp_path, time_records.THREE_AGENTS, before=(long_turn,))
    lines = insight.read_text().splitlines()
    at = next(n for n, line in enumerate(lines) if '"id": "a1"' in line)
    lines[at] = lines[at][:-1] + f', "pad": "{"x" * perfetto.LINE_LIMIT}"}}'  # explore docs, the first sub-agent
    insight.write_text("\n".join(lines) + "\n")
    warnings = []
    with (tmp_path / "trace.json").open("wb") as out:
        drawn = write_trace(insight, out, warnings)
    of_a1 = [span for span in time_records.THREE_AGENTS["spans"] if span[0] == "a1"]
    assert drawn == len(time_records.THREE_AGENTS["spans"]) - len(of_a1) > 0
    assert warnings == [
        "perfetto: 1 agent record of insight.jsonl left unread: each on a line over 1,048,576 bytes",
        f"perfetto: {len(of_a1)} span records without a known agent, kind or times, left out",
    ]
    metadata = json.loads((tmp_path / "trace.json").read_bytes())["otherData"]
    assert metadata["too_long"] == warnings[0].removeprefix("perfetto: ") and metadata["intervals"] == drawn
    # Every agent's record too long to read: nothing is drawn, and the warnings say why, not that there is nothing.
    lines = [line if '"record": "agent"' not in line else line[:-1] + f', "pad": "{"x" * perfetto.LINE_LIMIT}"}}'
             for line in insight.read_text().splitlines()]  # fmt: skip
    insight.write_text("\n".join(lines) + "\n")
    warnings = []
    with (tmp_path / "trace.json").open("wb") as out:
        assert write_trace(insight, out, warnings) == 0
    spans = len(time_records.THREE_AGENTS["spans"])
    assert warnings == [
        "perfetto: 3 agent records of insight.jsonl left unread: each on a line over 1,048,576 bytes",
        f"perfetto: {spans} span records without a known agent, kind or times, left out",
    ]


def test_names_of_a_megabyte_are_cut_with_a_note_and_every_interval_is_drawn(tmp_path, capsys):
    """A capture whose model, tool and sub-agent id are each 1 MiB long (a hostile one's): the time model names them
    in at most 200 characters, each ending in its length, so its records stay short enough to read, and the trace
    speedscope reads back holds every interval, with no warning."""
    run = tmp_path / "claude-code" / "20261127-100000-long-names"
    sample = Path(__file__).resolve().parents[2] / "data" / "claude-code" / "20261125-122623-sample-mock"
    run.mkdir(parents=True)
    shutil.copy(sample / "manifest.json", run)
    huge = 1 << 20
    entries = [json.loads(line) for line in (sample / "traffic.jsonl").read_text().splitlines()]
    for entry in entries:
        entry["request"]["body"]["model"] = "m" * huge
    entries[0]["response"]["body"] = entries[0]["response"]["body"].replace('"name": "Bash"', f'"name": "{"B" * huge}"')
    entries[1]["request"]["headers"].append(["x-claude-code-agent-id", "a" * huge])  # (a sub-agent of main's)
    (run / "traffic.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    assert export.main(["--run", str(run), "--format", "perfetto"]) == 0
    assert "warning" not in capsys.readouterr().err
    cut = {letter: letter * (200 - len(" (1,048,576 characters)") - 1) + "… (1,048,576 characters)" for letter in "mBa"}
    spans = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines() if '"record":"span"' in line]
    assert [(span["agent"], span["kind"], span["name"]) for span in spans] == [
        ("main", "model", cut["m"]), ("main", "tool", cut["B"]), (cut["a"], "model", cut["m"])
    ]  # fmt: skip
    assert all(len(name) == 200 for name in cut.values())
    lanes = expected_lanes(run / "insight.jsonl")
    assert sum(sum(slices.values()) for slices in lanes.values()) == 3 + 2 * 2  # each model call waits, then streams
    assert read_back(run / "trace.perfetto.json") == lanes
    assert_every_event_is_on_a_named_track(run / "trace.perfetto.json", ["main", "sub-agent"])


def mcp_call(request_id: str, tool: str, start: float, end: float | None, **joined) -> dict:
    """An mcp_call record (probe.write.mcp_records), seconds from T0."""
    return {"record": "mcp_call", "schema": 1, "server": "fs", "request_id": request_id, "method": "tools/call",
            "asked_by": "agent", "tool": tool, "start": time_records.T0 + start,
            "end": None if end is None else time_records.T0 + end, **joined}  # fmt: skip


def test_mcp_calls_are_async_pairs_on_their_servers_own_process_and_speedscope_still_reads_every_lane(tmp_path):
    """An MCP server's calls (its initialize before the first model request, two that overlap, one never answered)
    are begin/end pairs keyed by an id on a process named after the server, which Perfetto keeps on that process's
    own tracks however they overlap; speedscope, which reads only B, E and X events, reads the agents' lanes as
    before, and the trace starts at the server's first call."""
    server = {"record": "mcp_server", "schema": 1, "server": "fs", "transport": "stdio"}
    calls = (
        {**mcp_call("0", None, -1.0, -0.9), "method": "initialize"},
        mcp_call("1", "read_file", 2.05, 2.25, call_id="toolu_c", asked_in=1, server_seconds=0.2,
                 agent_wait_seconds=0.3, result_sent="same"),
        mcp_call("2", "list_directory", 2.1, 2.2),
        mcp_call("3", "write_file", 9.5, None),
    )  # fmt: skip
    insight = time_records.write_insight(tmp_path, time_records.THREE_AGENTS, before=(server, *calls))
    warnings = []
    with (tmp_path / "trace.json").open("wb") as out:
        assert write_trace(insight, out, warnings) == len(time_records.THREE_AGENTS["spans"])
    assert warnings == []
    assert read_back(tmp_path / "trace.json") == expected_lanes(insight)
    trace = json.loads((tmp_path / "trace.json").read_bytes())
    events = trace["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert processes == {1: "main", 2: "explore docs", 3: "run tests", 4: "MCP server fs"}
    first_model = next(e for e in events if e.get("cat") == "model")
    assert first_model["ts"] == 1_000_000  # the run's zero is the initialize, a second before the first request
    pairs = [(e["ph"], e["name"], e["id"], e["ts"], e["pid"], e["tid"]) for e in events if e.get("cat") == "mcp"]
    assert pairs == [
        ("b", "initialize", 1, 0, 4, 4), ("e", "initialize", 1, 100_000, 4, 4),
        ("b", "tools/call read_file", 2, 3_050_000, 4, 4), ("e", "tools/call read_file", 2, 3_250_000, 4, 4),
        ("b", "tools/call list_directory", 3, 3_100_000, 4, 4), ("e", "tools/call list_directory", 3, 3_200_000, 4, 4),
        ("b", "tools/call write_file", 4, 10_500_000, 4, 4), ("e", "tools/call write_file", 4, 10_500_000, 4, 4),
    ]  # fmt: skip
    read = next(e for e in events if e["ph"] == "b" and e["id"] == 2)
    assert read["args"] == {"server": "fs", "request_id": "1", "asked_by": "agent", "call_id": "toolu_c",
                            "asked_in": 1, "server_seconds": 0.2, "agent_wait_seconds": 0.3,
                            "result_sent": "same"}  # fmt: skip
    assert next(e for e in events if e["ph"] == "b" and e["id"] == 4)["args"]["answered"] is False
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert threads[(4, 4)] == "calls"
    assert (trace["otherData"]["mcp_servers"], trace["otherData"]["mcp_calls"]) == (1, 4)
