"""Items re-sent as before are not read again: the turns are those reading every item gives."""

import json
import sys
from pathlib import Path

import pytest

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.gemini import reader as gemini
from probe.apis.openai_chat import reader as openai_chat
from probe.apis.openai_responses import reader as openai_responses
from probe.apis.turns import TurnBuilder
from probe.read import history_reads
from probe.read.traffic import iter_exchanges
from probe.read.turn_lines import turn_line
from probe.read.whole_turns import WholeTurns

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import growing_session, http_entry  # noqa: E402  (bench/ is not a package)


def lines_of(capture: Path, reader) -> list[bytes]:
    builder = TurnBuilder(reader)
    return [turn_line(builder.build(exchange, [])) for exchange in iter_exchanges(capture, [])]


def every_item_read(monkeypatch):
    """Reading as before: each request's items all read anew."""
    monkeypatch.setattr(
        history_reads.HistoryReads, "read", lambda self, raws, turn, read_one: list(map(read_one, raws))
    )


def test_a_growing_session_gives_the_turns_reading_every_item_gives(tmp_path, monkeypatch):
    capture = tmp_path / "traffic.jsonl"
    entries = json.loads(json.dumps(list(growing_session(1))[:40]))  # each request's own copy of its history
    # An unknown block in the history from the sixth request on: every later one re-sends it, and notes it again.
    for entry in entries[5:]:
        entry["request"]["body"]["messages"][0]["content"].append({"type": "hologram", "data": 1})
    capture.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    reused = lines_of(capture, anthropic_messages)
    every_item_read(monkeypatch)
    assert reused == lines_of(capture, anthropic_messages)
    last = WholeTurns().whole(json.loads(reused[-1]))  # each line is whole on its own (turn_line)
    assert "content block hologram" in last["unrecognised"] and len(last["input"]) == 1 + 2 * 39
    assert last["carried"]["items"] == 2 * 39  # the previous request's history and its answer
    assert ["content block hologram" in json.loads(line)["unrecognised"] for line in reused] == [False] * 5 + [
        True
    ] * 35


def test_items_sent_as_before_are_the_objects_read_before_and_others_are_read_anew():
    reads, notes = history_reads.HistoryReads(), []

    def read_one(raw):
        notes.append(raw)
        return object()

    turn = type("T", (), {"unrecognised": [], "unknown": []})()
    first = reads.read([{"n": 1}, {"n": 2}], turn, read_one)
    second = reads.read([{"n": 1}, {"n": 2}, {"n": 3}], turn, read_one)
    third = reads.read([{"n": 1}, {"n": True}, {"n": 3}], turn, read_one)  # True == 1 in Python: not the same JSON
    assert second[:2] == first and third[0] is first[0] and third[1] is not first[1]
    assert notes == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": True}, {"n": 3}]


@pytest.mark.parametrize(
    ("reader", "field", "message"),
    [
        (openai_chat, "messages", lambda n: {"role": "user", "content": f"message {n}"}),
        (openai_responses, "input", lambda n: {"type": "message", "role": "user", "content": f"message {n}"}),
        (gemini, "contents", lambda n: {"role": "user", "parts": [{"text": f"message {n}"}]}),
    ],
)
def test_every_reader_gives_the_same_turns(tmp_path, monkeypatch, reader, field, message):
    history, entries = [], []
    for number in range(1, 30):
        history.append(message(number))
        if number % 7 == 0:
            history.append({"role": "system", "content": 7, "parts": "odd", "type": "odd"})  # unrecognised shapes
        entries.append(http_entry(number, {"model": "m", field: list(history)}, [], text="", url="https://x.test/v1"))
    capture = tmp_path / "traffic.jsonl"
    capture.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    reused = lines_of(capture, reader)
    every_item_read(monkeypatch)
    assert reused == lines_of(capture, reader)
    assert len(WholeTurns().whole(json.loads(reused[-1]))["input"]) == len(history)
