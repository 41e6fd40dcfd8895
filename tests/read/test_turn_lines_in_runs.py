"""turns.jsonl's schema 2 (each distinct value written once and named by number after that), made whole again by
probe.read.whole_turns, is every turn with every list written whole: on every capture of the readers' corpus, the
bundled samples and generated sessions, with the table starting over often, and when a line cannot be written."""

import json
import sys
from pathlib import Path

import pytest

from probe.apis.built_in import BY_API
from probe.apis.turns import Reading
from probe.common.fastjson import encoded
from probe.read import dedupe
from probe.read.conversation import Item, Part, Turn, plain
from probe.read.traffic import iter_exchanges
from probe.read.turn_lines import LISTED, WHEN_PRESENT, TurnLines, runs
from probe.read.whole_turns import TurnsFileError, WholeTurns, whole_turns
from probe.redact.masking import mask_json_scanned

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS = PROJECT_ROOT / "tests" / "corpus"
CASES = sorted(path for path in CORPUS.glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl"))
SAMPLES = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import generate  # noqa: E402


def whole_record(turn: Turn, only_output: bool) -> dict:
    """The slow path: every field converted and masked whole, as schema 1 wrote a line."""
    record = {"schema": 2}
    for name in turn.__dataclass_fields__:
        value = plain(getattr(turn, name))
        if name in WHEN_PRESENT and not value:
            continue
        if name != "output" and only_output:
            record[name] = value
        elif name in LISTED:
            record[name] = [mask_json_scanned(item)[0] for item in value]
        else:
            record[name] = mask_json_scanned(value)[0]
    return json.loads(encoded(record))


def compared(traffic: Path, api: str | None, only_output: bool, kept: int | None = None, monkeypatch=None) -> int:
    """Write turns.jsonl's lines for a capture and make them whole; assert each is its whole record; the turns."""
    if kept is not None:
        monkeypatch.setattr(dedupe, "RECENT_ITEMS", kept)
    reading, lines, whole = Reading(BY_API.get(api)), TurnLines(only_output=only_output), WholeTurns()
    count = 0
    for exchange in iter_exchanges(traffic, []):
        turn, _ = reading.build(exchange, [])
        line = lines.line(turn)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert whole.whole(json.loads(line)) == whole_record(turn, only_output), f"turn {turn.number}"
        count += 1
    return count


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.parent.name}/{case.stem}")
@pytest.mark.parametrize("only_output", [False, True])
def test_each_corpus_turn_made_whole_is_its_whole_record(case, only_output):
    assert compared(case, case.parent.name, only_output) >= 1


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.parent.parent.name)
def test_each_bundled_sample_made_whole_is_its_whole_record_even_when_the_table_starts_over(sample, monkeypatch):
    turns = compared(sample, None, True)
    assert turns >= 2
    assert compared(sample, None, True, kept=2, monkeypatch=monkeypatch) == turns


@pytest.mark.parametrize("shape", ["codex", "growing", "deltas"])
def test_generated_sessions_are_written_once_and_made_whole(tmp_path, shape, monkeypatch):
    traffic = tmp_path / "traffic.jsonl"
    generate(traffic, 2, 8, shape)
    turns = compared(traffic, None, True)
    assert turns >= 5
    # The table forgetting every few lines still names what it wrote: a value met again is written again.
    assert compared(traffic, None, True, kept=50, monkeypatch=monkeypatch) == turns


def test_a_history_resent_is_written_once_and_named_by_runs():
    items = [Item("message", "user", parts=[Part("text", "input_text", text=f"item {index}")]) for index in range(2500)]
    lines = TurnLines()
    first = json.loads(lines.line(Turn(1, 1, "http", "model", "POST", "/v1/responses", 200, True, "x", input=items)))
    again = Turn(2, 2, "http", "model", "POST", "/v1/responses", 200, True, "x", input=[*items, items[7]])
    second = json.loads(lines.line(again))
    assert first["new"]["from"] == 0 and len(first["new"]["values"]) == 2500 and first["input"] == [[0, 2500]]
    assert "new" not in second and second["input"] == [[0, 2500], [7, 1]]
    whole = WholeTurns()
    assert [item["parts"][0]["text"] for item in whole.whole(first)["input"]][-1] == "item 2499"
    assert whole.whole(second)["input"][-1]["parts"][0]["text"] == "item 7"


def test_runs_group_consecutive_numbers():
    assert runs([]) == [] and runs([4]) == [[4, 1]]
    assert runs([0, 1, 2, 7, 8, 3, 3]) == [[0, 3], [7, 2], [3, 1], [3, 1]]


def test_a_line_too_deep_to_write_takes_back_what_it_numbered():
    lines = TurnLines(redact=False)
    deep: object = "bottom"
    for _ in range(100_000):
        deep = [deep]
    fine = Item("message", "user", parts=[Part("text", "input_text", text="kept")])
    hostile = Item("message", "user", parts=[Part("other", "x", raw=deep)])
    first = json.loads(lines.line(Turn(1, 1, "http", "m", "POST", "/p", 200, True, "x", input=[fine, hostile])))
    assert first["unrecognised"][-1] == "content nested too deeply to write" and "input" not in first
    # The item numbered before the line failed is written again, on the next line that carries it.
    second = json.loads(lines.line(Turn(2, 2, "http", "m", "POST", "/p", 200, True, "x", input=[fine])))
    assert second["new"]["from"] == 0 and WholeTurns().whole(second)["input"][0]["parts"][0]["text"] == "kept"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"schema": 2, "number": 1, "input": [[0, 1]]}', "line 1: its `input` names value 0, which no earlier"),
        ('{"schema": 2, "number": 1, "new": {"from": -1, "values": []}}', "line 1: its `new` is not {from"),
        ('{"schema": 2, "number": 1, "tools": [[0]]}', "line 1: its `tools` holds '[0]', not a [first, count] run"),
        ('{"schema": 2, "number": 1, "output": {"a": 1}}', "line 1: its `output` is not a list of [first, count]"),
        ("[1, 2]", "line 1: it is not a JSON object"),
        ('{"schema": 2, "numb', "line 1: not JSON (cut off?)"),
    ],
)
def test_a_line_that_cannot_be_made_whole_is_named_in_one_line(tmp_path, line, message):
    path = tmp_path / "turns.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(TurnsFileError) as raised:
        list(whole_turns(path))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_schema_1_file_is_read_as_it_is(tmp_path):
    path = tmp_path / "turns.jsonl"
    record = {"schema": 1, "number": 1, "input": [{"type": "message"}], "output": []}
    path.write_text(json.dumps(record) + "\n")
    assert list(whole_turns(path)) == [record]
