"""The Perfetto export (a Chrome Trace Event JSON file of the run's time model), read back by speedscope's own
importer: a named process per agent, a named track per lane, every interval a slice of its duration."""

import json
import shutil
from collections import Counter
from pathlib import Path

import perfetto_records as time_records
import pytest
from perfetto_reading import (
    assert_every_event_is_on_a_named_track,
    expected_lanes,
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
    model = next(
        e for e in json.loads((tmp_path / "trace.json").read_bytes())["traceEvents"] if e.get("cat") == "model"
    )
    assert model["args"] == {"span": 1, "exchanges": [1], "model": "claude-opus", "critical": True,
                             "tokens": {"input": 1000, "output": 50, "cache_read": 900, "cache_write": 0},
                             "cost_usd": "0.0123", "cache_break": False, "compaction": False}  # fmt: skip


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
                        "of a kind per agent"]  # fmt: skip
    metadata = json.loads((tmp_path / "trace.json").read_bytes())["otherData"]
    assert metadata["left_out"] == warnings[0].removeprefix("perfetto: ")
    assert metadata["unreadable"] == "1 span records without a known agent, kind or times"
    assert metadata["run_time"]["wall_s"] == 11.0
