"""turns.jsonl's lines, written with each item list converted and encoded in runs, are byte for byte the lines of
the whole record encoded at once: on every capture of the readers' corpus, and on lists longer than one run."""

import json
from pathlib import Path

import pytest

from probe.apis.built_in import BY_API
from probe.apis.turns import Reading
from probe.common.fastjson import encoded
from probe.read.conversation import Item, Part, Turn
from probe.read.traffic import iter_exchanges
from probe.read.turn_lines import ENCODED_RUN, ConvertedItems, TurnLines

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CASES = sorted(path for path in CORPUS.glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl"))


def whole_line(lines: TurnLines, turn: Turn) -> bytes:
    """The slow path: every list converted first, then the record encoded in one piece."""
    record = lines.record(turn)
    materialised = {key: list(value) if isinstance(value, ConvertedItems) else value for key, value in record.items()}
    return encoded(materialised) + b"\n"


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.parent.name}/{case.stem}")
@pytest.mark.parametrize("only_output", [False, True])
def test_each_corpus_turn_is_written_as_the_whole_record_would_be(case, only_output):
    reading = Reading(BY_API.get(case.parent.name))
    fast, slow = TurnLines(only_output=only_output), TurnLines(only_output=only_output)
    for exchange in iter_exchanges(case, []):
        turn, _ = reading.build(exchange, [])
        assert fast.line(turn) == whole_line(slow, turn)


def test_lists_longer_than_one_run_and_empty_lists_are_written_whole():
    items = [Item("message", "user", parts=[Part("text", "input_text", text=f"item {index}")]) for index in range(2500)]
    turn = Turn(1, 1, "http", "model", "POST", "/v1/responses", 200, True, "openai.responses", input=items)
    line = TurnLines().line(turn)
    assert line == whole_line(TurnLines(), turn)
    record = json.loads(line)
    assert len(record["input"]) == 2500 > 2 * ENCODED_RUN and record["input"][-1]["parts"][0]["text"] == "item 2499"
    assert record["output"] == [] and record["tools"] == []
