"""A Perfetto export read back by speedscope's own importer (an independent reader of Chrome's trace format), and
what a run's insight.jsonl says it must hold: each agent's lanes, with the slices' names and durations."""

import itertools
import json
import subprocess
from collections import Counter
from pathlib import Path

from speedscope_install import ensure_installed

from probe.write import perfetto

READER = Path(__file__).resolve().parent / "speedscope_read.mjs"


def speedscope(trace: Path) -> dict:
    """What speedscope 1.25.0's importer reads from `trace`: its lanes (profiles) with their slices."""
    done = subprocess.run(["node", str(READER), str(ensure_installed()), str(trace)], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout)


def expected_lanes(insight: Path) -> dict[str, Counter]:
    """From insight.jsonl: each agent's readable name, then the speedscope lane each span lands on (by kind,
    numbered as the export allocates lanes), with the slice names and durations (µs) it must hold. Slices of no
    length are left out: speedscope keeps or drops one by where its instant falls among its neighbours' ends
    (`zero_length_spans` and `zero_length_events` check those in the trace itself)."""
    lanes = {}
    for lane, span, (start, end, first_byte) in placed_spans(insight):
        slices = lanes.setdefault(lane, Counter())
        if end > start:
            slices[(shown_name(span), end - start)] += 1
        if span["kind"] == "model" and first_byte is not None:
            slices.update(piece for piece in [("waiting", first_byte - start), ("streaming", end - first_byte)]
                          if piece[1] > 0)  # fmt: skip
    return {lane: slices for lane, slices in lanes.items() if slices}


def zero_length_spans(insight: Path) -> Counter:
    """The spans of no length (to the µs), by kind and shown name."""
    return Counter((span["kind"], shown_name(span)) for _, span, (start, end, _) in placed_spans(insight)
                   if end <= start)  # fmt: skip


def zero_length_events(trace: Path) -> Counter:
    """The trace's interval events of no length (a span's own, the one its `details` instant follows, not a model
    call's two parts), by category and name: speedscope may drop them, so they are checked in the file."""
    events = json.loads(trace.read_bytes())["traceEvents"]
    spans = [e for e, after in itertools.pairwise(events) if (after["ph"], after.get("name")) == ("i", "details")]
    return Counter((e["cat"], e["name"]) for e in spans if e["ph"] == "X" and e["dur"] == 0)


def placed_spans(insight: Path):
    """Each span with the lane it lands on (agent and kind, numbered as the export allocates lanes) and its start
    end and first byte (or None) in µs from the run's start."""
    records = [json.loads(line) for line in insight.read_text().splitlines()]
    agents = {record["id"]: (pid, record["name"]) for pid, record in
              enumerate((r for r in records if r["record"] == "agent"), 1)}  # fmt: skip
    # (the trace starts at the earliest of them and of the MCP calls, which may come before the first request)
    origin = min(r["start"] for r in records if r["record"] in ("agent", "span")
                 or (r["record"] == "mcp_call" and isinstance(r.get("start"), int | float)))  # fmt: skip
    ends = {}
    for span in (r for r in records if r["record"] == "span"):
        pid, name = agents[span["agent"]]
        start, end = (round((span[key] - origin) * 1e6) for key in ("start", "end"))
        first_byte = None if span.get("first_byte") is None else round((span["first_byte"] - origin) * 1e6)
        taken = ends.setdefault((pid, span["kind"]), [])
        lane = next((i for i, lane_end in enumerate(taken) if lane_end <= start), len(taken))
        taken[lane : lane + 1] = [end]
        track = perfetto.TRACKS[span["kind"]] + ("" if lane == 0 else f" {lane + 1}")
        yield f"{name} (pid {pid}), {track} (tid {perfetto_tid(span['kind'], lane)})", span, (start, end, first_byte)


def shown_name(span: dict) -> str:
    """A span's name as a slice shows it: a call whose name the capture lacks shows `?`."""
    return "?" if span["name"] is None else span["name"]


def perfetto_tid(kind: str, lane: int) -> int:
    return (list(perfetto.TRACKS).index(kind) + 1) * 1000 + lane + 1


def read_back(trace: Path) -> dict[str, Counter]:
    """Each lane speedscope reads, with its slices' names (as its frames are named: an event's args would follow the
    name as JSON) and durations."""
    read = speedscope(trace)
    assert read["warnings"] == []  # no slice cut or ended out of order: no two overlap on a lane
    lanes = {lane["name"]: Counter((s["name"], s["duration"]) for s in lane["slices"] if s["duration"] > 0)
             for lane in read["lanes"]}  # fmt: skip
    return {lane: slices for lane, slices in lanes.items() if slices}


def frames(trace: Path) -> dict[str, dict[str, int]]:
    """Each lane's frames as speedscope's Sandwich view adds them up: by frame, its total weight (µs)."""
    return {lane["name"]: {frame["name"]: frame["total"] for frame in lane["frames"]}
            for lane in speedscope(trace)["lanes"]}  # fmt: skip


def assert_every_event_is_on_a_named_track(trace: Path, agent_names: list[str]) -> list[dict]:
    events = json.loads(trace.read_bytes())["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert sorted(processes.values()) == sorted(agent_names)
    assert {(e["pid"], e["tid"]) for e in events if e["ph"] != "M"} <= threads
    assert {e["ph"] for e in events} <= {"M", "X", "i", "s", "f"}
    return events
