"""hooks.jsonl read as the untrusted file it is (probe.read.hooks): lines too long, not JSON or of another shape are
noted and skipped, a link or a FIFO in its place is not followed; and its events joined to the model exchanges
(probe.analyse.hooks): a tool's events to the exchange whose answer asked for the tool, every event held until the
agent's next step."""

import json
import os
from pathlib import Path

import pytest

from probe.analyse.account.wire import WireCall, WireCalls
from probe.analyse.hooks import joined
from probe.read import hooks
from probe.read.hooks import read_hooks


def write(run: Path, lines: list) -> None:
    run.mkdir(exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (run / "hooks.jsonl").write_text(text)


def test_a_run_without_hooks_has_no_reading(tmp_path):
    assert read_hooks(tmp_path) is None


def test_lines_it_cannot_read_are_noted_and_the_rest_read(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "LINE_LIMIT", 100)
    write(tmp_path, [
        {"t": 2.0, "event": "Stop", "size": 5},
        "not json",
        {"t": "soon", "event": "Stop"},
        {"t": float("nan"), "event": "Stop"},
        {"t": 1.0, "event": "PreToolUse", "tool": "Bash", "tool_use_id": "t1", "size": -3, "took": "x"},
        {"t": 3.0, "event": "x" * 200},
    ])  # fmt: skip
    recording = read_hooks(tmp_path)
    assert [(event.t, event.event) for event in recording.events] == [(1.0, "PreToolUse"), (2.0, "Stop")]
    assert recording.events[0].size == 0 and recording.events[0].took is None
    assert recording.notes == [
        "line 2: not JSON",
        "line 3: not a hook event as the recorder writes one",
        "line 4: not a hook event as the recorder writes one",
        "line 6: longer than 100 bytes, not read",
    ]


def test_events_past_the_bound_are_counted_not_held(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "EVENTS_KEPT", 2)
    write(tmp_path, [{"t": float(index), "event": "Notification"} for index in range(5)])
    recording = read_hooks(tmp_path)
    assert (len(recording.events), recording.left_out, recording.lines) == (2, 3, 5)


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_a_link_or_a_fifo_in_its_place_is_not_read(tmp_path, kind):
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text(json.dumps({"t": 1.0, "event": "Stop"}) + "\n")
    run = tmp_path / "run"
    run.mkdir()
    if kind == "link":
        (run / "hooks.jsonl").symlink_to(elsewhere)
    else:
        os.mkfifo(run / "hooks.jsonl")
    recording = read_hooks(run)
    assert recording.events == [] and len(recording.notes) == 1
    assert "could not be read" in recording.notes[0] or "not a regular file" in recording.notes[0]


def call(number: int, start: float, ids=()) -> WireCall:
    return WireCall(number, start, start + 0.5, None, None, None, None, None, None, None, None, None, 500.0, tuple(ids))


def test_the_join_names_each_tool_call_its_turn_and_what_held_the_agent(tmp_path):
    write(tmp_path, [
        {"t": 10.0, "event": "UserPromptSubmit"},
        {"t": 11.0, "event": "PreToolUse", "tool": "Bash", "tool_use_id": "t1"},
        {"t": 13.5, "event": "PostToolUse", "tool": "Bash", "tool_use_id": "t1", "input": {"duration_ms": 500}},
        {"t": 13.6, "event": "PreToolUse", "tool": "Read", "tool_use_id": "unknown"},
        {"t": 15.0, "event": "Stop"},
    ])  # fmt: skip
    wire = WireCalls([call(1, 10.25, ["t1"]), call(2, 14.0)])
    join = joined(read_hooks(tmp_path), wire)
    shown = [(event.hook.event, event.turn, event.joined, event.held, event.next_step) for event in join.events]
    assert shown == [
        ("UserPromptSubmit", None, False, 0.25, "request 1"),
        ("PreToolUse", 1, True, 2.0, "the tool"),  # the tool began at 13.0: PostToolUse's time less its 500 ms
        ("PostToolUse", 1, True, pytest.approx(0.1), "PreToolUse"),
        ("PreToolUse", 1, False, pytest.approx(0.4), "request 2"),
        ("Stop", 2, False, None, None),
    ]
    assert (join.tool_events, join.joined) == (3, 2)
    summary = join.summary()
    assert summary["by_event"]["PreToolUse"] == {"count": 2, "held_s": 2.4, "longest_s": 2.0}
    assert summary["by_event"]["Stop"] == {"count": 1, "held_s": None, "longest_s": None}
