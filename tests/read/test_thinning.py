"""Lists too long to read whole are read at their ends, and what lay between is counted and digested exactly."""

import copy
import hashlib
import json

import orjson
import pytest
from conftest import PROJECT_ROOT

from probe.read import thinning
from probe.read.conversation import LeftOut
from probe.read.ends import LIST_READ, EndsOf
from probe.read.masked import masked_exchange
from probe.read.thinning import BODY_READ, DEPTH, ENDS, Thinned, thin_exchange, thinned
from probe.read.traffic import iter_exchanges
from probe.redact.masking import mask_bytes

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8" * 3  # a token shape the text rules mask


def digest_of(elements: list) -> tuple[int, str]:
    """The bytes and sha256 of the JSON of `elements`, as a list, its secrets masked: what a LeftOut says."""
    text = mask_bytes(orjson.dumps(elements))[0]
    return len(text), hashlib.sha256(text).hexdigest()


def test_a_body_within_the_budgets_is_read_whole_and_left_as_it_is():
    body = {"input": [{"role": "user", "content": [{"type": "text", "text": "t"}]}] * LIST_READ, "tools": [1] * 9}
    assert thinned(body, "request") == (body, [])
    assert thinned(body, "request")[0] is body
    for scalar in (None, 0, 1.5, "text", True):  # a JSON body need not be an object or a list
        assert thinned(scalar, "response") == (scalar, [])


@pytest.mark.parametrize(
    ("body", "passed"),
    [
        ([0] * LIST_READ, True),  # 9,999 commas and one bracket
        ([0] * (LIST_READ + 1), False),
        ([], True),
        ({"input": [{"content": [{"text": "t"}] * 3}] * (LIST_READ // 4)}, True),  # 10,000 all told
        ({"input": [{"content": [{"text": "t"}] * 3}] * (LIST_READ // 3)}, False),
        ({"a": [[1, 2]] * (BODY_READ // 3), "b": "x"}, False),  # within the budgets, but past what the bound says
        ({"text": "," * BODY_READ, "input": [1, 2]}, False),  # commas in strings count too
        ([[]] * LIST_READ, False),
    ],
    ids=lambda value: str(len(orjson.dumps(value))) if not isinstance(value, bool) else str(value),
)
def test_a_body_the_text_bound_passes_is_one_the_walk_plans_nothing_for(body, passed):
    # The bound (within_budgets) counts commas and opening brackets, never fewer than the elements of the lists:
    # where it passes a body, the walk (budgeted) would thin none of its lists; where it does not, the walk decides.
    assert thinning.within_budgets(body) is passed
    if passed:
        assert thinning.budgeted(body) == {}


def test_every_body_of_the_samples_and_the_corpus_is_read_whole():
    captures = [*PROJECT_ROOT.glob("data/*/*-sample-*/traffic.jsonl"), *PROJECT_ROOT.glob("tests/corpus/*/*.jsonl")]
    exchanges = [exchange for capture in captures for exchange in iter_exchanges(capture, [])]
    assert len(exchanges) > 100
    assert all(thin_exchange(exchange) == [] for exchange in exchanges)


def test_a_long_list_keeps_its_first_and_last_halves_and_counts_and_digests_those_between():
    items = [{"role": "user", "content": f"tiny {index}"} for index in range(30_000)]
    body = {"model": "m", "input": items}
    sent = copy.deepcopy(body)
    read, [left_out] = thinned(body, "request")
    assert body == sent  # the value given is left as it was
    head, tail = LIST_READ // 2, LIST_READ // 2
    assert isinstance(read["input"], Thinned) and read["input"].left_out is left_out
    assert read["input"] == items[:head] + items[-tail:]
    assert left_out == LeftOut("request input", 30_000, head, tail, *digest_of(items[head:-tail]))
    assert left_out.left == 20_000
    assert [left_out.position(index) for index in (0, head - 1, head, LIST_READ - 1)] == [0, head - 1, 25_000, 29_999]
    assert list(thinning.positions(read["input"]))[head - 1 : head + 1] == [head - 1, 25_000]


def test_the_digest_is_of_the_text_with_its_secrets_masked():
    items = [{"role": "user", "content": f"tiny {index}"} for index in range(LIST_READ + 3)]
    items[LIST_READ // 2 + 1]["content"] = f"export OPENAI_API_KEY={KEY}"
    _, [left_out] = thinned({"input": items}, "request")
    middle = items[LIST_READ // 2 : -(LIST_READ // 2)]
    assert (left_out.bytes, left_out.sha256) == digest_of(middle)
    assert left_out.sha256 != hashlib.sha256(orjson.dumps(middle)).hexdigest()  # the key is not in what is digested


def test_the_lists_of_a_body_share_its_budget_outermost_first():
    # A history of long messages: the history is read whole up to LIST_READ, then each message's blocks from what is
    # left of BODY_READ, and past it the ends of each, ENDS of them.
    blocks = [[{"type": "text", "text": str(at)} for at in range(1_000)] for _ in range(100)]
    messages = [{"role": "user", "content": content} for content in blocks]
    read, left_out = thinned({"messages": messages}, "request")
    kept = [len(message["content"]) for message in read["messages"]]
    assert sum(kept) + len(kept) <= BODY_READ + ENDS * len(kept)
    assert kept[0] == 1_000 and kept[-1] == ENDS
    assert [entry.where for entry in left_out][:2] == ["request messages[19].content", "request messages[20].content"]
    assert all(entry.count == 1_000 and entry.first + entry.last == entry.count - entry.left for entry in left_out)


def test_lists_deeper_than_the_walk_are_read_as_sent():
    deep: dict = {"list": list(range(LIST_READ + 1))}
    for _ in range(DEPTH):
        deep = {"in": deep}
    read, left_out = thinned(deep, "request")
    assert left_out == [] and read is deep
    [left_out] = thinned(deep["in"], "request")[1]  # one level up, the list is within the walk
    assert left_out.where == "request " + "in." * (DEPTH - 1) + "list"


def test_what_is_left_out_of_a_stream_walked_once_is_what_is_left_out_of_its_list():
    events = [{"event": None, "data": {"type": "tick", "n": index, "key": KEY}} for index in range(LIST_READ + 500)]
    kept = EndsOf(mask_bytes)
    for event in events:
        kept.add(event)
    elements, left_out = kept.kept("response events")
    read, [whole] = thinned(events, "response events")
    assert elements == list(read) and left_out == whole
    few = EndsOf(mask_bytes)
    few.add(1)
    assert few.kept("response events") == ([1], None)


def test_an_exchange_thinned_then_masked_still_says_which_list_is_read_at_its_ends(tmp_path):
    # Masking writes a body anew where it masks something: the history stays marked as read at its ends.
    items = [{"role": "user", "content": f"tiny {index}"} for index in range(LIST_READ + 10)]
    items[1]["content"] = f"my key is {KEY}"
    line = {"schema": 1, "kind": "http", "id": "f", "proxy": "model", "complete": True,
            "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "path": "/v1/responses",
                        "headers": [], "body": {"model": "m", "input": items}, "body_format": "json"},
            "response": {"status": 200, "headers": [], "body": "", "body_format": "empty"}}  # fmt: skip
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(line) + "\n")
    [exchange] = iter_exchanges(traffic, [])
    [left_out] = thin_exchange(exchange)
    assert thin_exchange(exchange) == [left_out]  # once
    masked = masked_exchange(exchange)
    history = masked.request_body.value["input"]
    assert KEY not in json.dumps(history) and isinstance(history, Thinned) and history.left_out is left_out


@pytest.mark.parametrize("size", [LIST_READ + 1, 3 * LIST_READ])
def test_a_list_read_at_its_ends_keeps_as_many_as_the_budget(size):
    read, [left_out] = thinned({"tools": list(range(size))}, "request")
    assert len(read["tools"]) == left_out.first + left_out.last == LIST_READ
    assert read["tools"][0] == 0 and read["tools"][-1] == size - 1
