"""The bounds of reading an agent's session file and the wire's session id: a record too long or not JSON is a note
line, a file too large is named and not read, and only a plain id the traffic shows ever goes into a path."""

import json

import pytest

from probe.capture.account import session_files, transcript
from probe.capture.scrub import mask_values
from probe.common.errors import TargetError
from probe.runs.targets import parse_target

TARGET = """
name: t
description: d
renderer: probe.apis.openai_chat.report
proxies: [{name: api, listen: 0, upstream: "https://example.com/"}]
agent:
  command: [agent]
  transcript: %s
"""


def test_a_long_or_broken_record_is_a_note_and_the_rest_is_masked(tmp_path, monkeypatch):
    monkeypatch.setattr(session_files, "MAX_LINE", 100)
    path = tmp_path / "s.jsonl"
    secret = "ghp_" + "ReadingPlanted0123456789abcdefghijklm"
    long = json.dumps({"x": "y" * 500})
    path.write_text(f'{json.dumps({"a": secret})}\n{long}\nnot json\n\n{{"b": 1}}\n')
    lines = list(session_files.records(path, "codex", lambda text: mask_values(text, ["y" * 3])))
    assert [line["line"] for line in lines] == [0, 1, 2, 4]
    assert secret not in json.dumps(lines) and "REDACTED" in lines[0]["record"]["a"]
    assert "over 100 bytes" in lines[1]["note"] and "not a JSON record" in lines[2]["note"]
    assert lines[3]["record"] == {"b": 1}


def test_a_file_over_the_limit_is_named_and_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(transcript, "MAX_FILE", 10)
    (tmp_path / "big.jsonl").write_text('{"a": "0123456789"}\n')
    state = transcript.write([tmp_path / "big.jsonl"], "codex", tmp_path, [], False)
    assert state["records"] == 0 and "big.jsonl is over 10 bytes, not read" in state["why"]


def test_only_a_plain_session_id_from_the_traffic_is_taken(tmp_path):
    traffic = tmp_path / "traffic.jsonl"
    headers = [["Session-Id", "../../etc"], ["session-id", "abc-1_2"], ["session-id", "*"], ["session-id", "abc-1_2"]]
    traffic.write_text("".join(json.dumps({"request": {"headers": [pair]}}) + "\n" for pair in headers))
    assert transcript.session_ids(traffic, "session-id") == ["abc-1_2"]


@pytest.mark.parametrize(
    "declared, problem",
    [
        ("{format: other}", "agent.transcript.format: expected one of"),
        ('{format: codex, private: "/etc/*.jsonl"}', "agent.transcript.private: expected {run}/"),
        ('{format: codex, private: "{run}/../*.jsonl"}', "agent.transcript.private: expected {run}/"),
        ('{format: codex, private: "{run}/*.jsonl"}', "agent.transcript.why: say in one line"),
        ('{format: codex, own: "s/*.jsonl", own_folder: "~/.c", session_header: s, why: w}', "whose path holds"),
        (
            '{format: codex, own: ["s/{session}.jsonl", "s/*/*.jsonl"], own_folder: "~/.c", session_header: s, why: w}',
            "own: expected a relative glob whose path holds {session}",
        ),
        ('{format: codex, own: [], own_folder: "~/.c", session_header: s, why: w}', "own: expected a string or list"),
        ('{format: codex, private: ["{run}/a.jsonl", "/etc/*"], why: w}', "agent.transcript.private: expected {run}/"),
        ('{format: codex, own: "s/{session}.jsonl", why: w}', "goes with session_header and own_folder"),
        ('{format: codex, own: "{session}", own_folder: "/etc", session_header: s, why: w}', "own_folder: expected"),
    ],
)
def test_a_bad_transcript_key_is_refused_in_one_line(declared, problem):
    with pytest.raises(TargetError, match=problem.replace("{", r"\{").replace("*", r"\*")):
        parse_target(TARGET % declared, "t.yaml")
