"""Hostile shapes of capture degrade in one line, not in memory: a request of tens of thousands of tiny items in each
API's shape is read at its ends, with its first and last items in every output and the rest counted and digested;
a stream of many events gives what it gives whole; a turn notes only so many errors and kinds; report.html stays
under its limit whatever the capture."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import orjson
import pytest
from conftest import captured_exchange

from probe.analyse.run_summary import summarise
from probe.analyse.volatile import Volatile
from probe.analysis.report import analyze_run
from probe.read import sse
from probe.read.thinning import LIST_READ
from probe.read.whole_turns import whole_turns
from probe.redact.masking import mask_bytes
from probe.write.viewer import page_budget
from probe.write.viewer.not_understood import SHOWN

DATA = re.compile(rb'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)
ITEMS = 3 * LIST_READ  # items of each hostile request: read at their ends, LIST_READ of them
HALF = LIST_READ // 2
USAGE_IN = 120_000

ANSWERS = {
    "/v1/responses": 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1",'
    f'"status":"completed","output":[],"usage":{{"input_tokens":{USAGE_IN},"output_tokens":2,"total_tokens":0}}}}}}\n\n',
    "/v1/chat/completions": 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":'
    '"assistant","content":"ok"},"finish_reason":"stop"}],'
    f'"usage":{{"prompt_tokens":{USAGE_IN},"completion_tokens":1}}}}\n\ndata: [DONE]\n\n',
    "/v1/messages": 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message",'
    '"role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":'
    f'{USAGE_IN},"output_tokens":1}}}}}}\n\nevent: message_stop\ndata: {{"type":"message_stop"}}\n\n',
    "/v1beta/models/gemini-2.5-pro:streamGenerateContent": 'data: {"candidates":[{"content":{"role":"model",'
    '"parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":'
    f'{USAGE_IN},"candidatesTokenCount":1}}}}\n\n',
}


def text(number: int, index: int) -> str:
    return f"tiny {number} {index}"


# Each API's request of ITEMS tiny items, as (path, body of request `number`, where its long list is, its noun):
# a history of items, and one message or content of that many blocks or parts.
SHAPES = {
    "responses": ("/v1/responses", lambda n: {"model": "gpt-5", "input": [{"role": "user", "content": text(n, i)}
                  for i in range(ITEMS)]}, None),
    "chat": ("/v1/chat/completions", lambda n: {"model": "gpt-4o", "messages": [{"role": "user",
             "content": text(n, i)} for i in range(ITEMS)]}, None),
    "anthropic": ("/v1/messages", lambda n: {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": [
                  {"role": ("user", "assistant")[i % 2], "content": [{"type": "text", "text": text(n, i)}]}
                  for i in range(ITEMS)]}, None),
    "gemini": ("/v1beta/models/gemini-2.5-pro:streamGenerateContent", lambda n: {"contents": [
               {"role": "user", "parts": [{"text": text(n, i)}]} for i in range(ITEMS)]}, None),
    "anthropic-blocks": ("/v1/messages", lambda n: {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": [
                         {"role": "user", "content": [{"type": "text", "text": text(n, i)} for i in range(ITEMS)]}]},
                         "messages[0].content"),
    "gemini-parts": ("/v1beta/models/gemini-2.5-pro:streamGenerateContent", lambda n: {"contents": [
                     {"role": "user", "parts": [{"text": text(n, i)} for i in range(ITEMS)]}]}, "contents[0].parts"),
}  # fmt: skip


def run_of(tmp_path: Path, lines: list[dict]) -> Path:
    run = tmp_path / "codex" / "20260101-000000-hostile"
    run.mkdir(parents=True)
    (run / "traffic.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return run


def page_data(run: Path) -> dict:
    return orjson.loads(DATA.search((run / "report.html").read_bytes()).group(1))


def middle_of(body: dict, nested: str | None) -> list:
    """The elements of the long list that are not read: between the first and last HALF."""
    found = body[next(iter(key for key in body if isinstance(body[key], list)))]
    if nested:
        found = found[0]["content" if "content" in found[0] else "parts"]
    return found[HALF:-HALF]


@pytest.fixture(scope="module", params=sorted(SHAPES))
def analysed(request, tmp_path_factory):
    path, body_of, nested = SHAPES[request.param]
    host = "https://generativelanguage.googleapis.com" if "gemini" in path else "https://api.openai.com"
    bodies = [body_of(number) for number in (1, 2)]
    lines = [captured_exchange(path, body, ANSWERS[path], host=host, id=f"f{n}") for n, body in enumerate(bodies)]
    run = run_of(tmp_path_factory.mktemp(request.param), lines)
    _, warnings = analyze_run(run)
    return request.param, run, bodies, nested, warnings


def test_a_request_too_long_to_read_says_so_in_one_line(analysed):
    _, run, bodies, nested, warnings = analysed
    notes = [warning for warning in warnings if warning.startswith("exchange #")]
    assert len(notes) == 2
    for number, (note, body) in enumerate(zip(notes, bodies, strict=True), start=1):
        digested = mask_bytes(orjson.dumps(middle_of(body, nested)))[0]
        what = f"{ITEMS:,} input items" if nested is None else f"{ITEMS:,} elements in request {nested}"
        assert note == (
            f"exchange #{number}: {what}; the first {HALF:,} and last {HALF:,} are shown, the other "
            f"{ITEMS - LIST_READ:,} counted ({len(digested):,} bytes) and digested "
            f"(sha256 {hashlib.sha256(digested).hexdigest()[:16]})"
        )
    report = (run / "report.md").read_text()
    assert report.count("\n- Warning: exchange #") == 2
    assert f"and last {HALF:,} are shown" in report


def test_the_first_and_last_items_are_in_every_output(analysed):
    _, run, _, nested, _ = analysed
    report = (run / "report.md").read_text()
    turns = list(whole_turns(run / "turns.jsonl"))
    data = page_data(run)
    for number, turn in enumerate(turns, start=1):
        first, last = text(number, 0), text(number, ITEMS - 1)
        assert first in report and last in report
        texts = [part["text"] for item in turn["input"] for part in item["parts"]]
        assert len(texts) == LIST_READ and texts[0] == first and texts[-1] == last
        [left_out] = turn["left_out"]
        assert left_out["count"] == ITEMS and (left_out["first"], left_out["last"]) == (HALF, HALF)
        assert left_out["history"] is (nested is None)
        shown = data["turns"][number - 1]
        assert shown["left_out"] == turn["left_out"]
        values = data["values"]
        shown_texts = [part["text"] for ref in shown["input"] for part in values[ref]["parts"]]
        assert shown_texts[0] == first and shown_texts[-1] == last
    if nested is None:
        # Each item keeps its number as sent, and the rows between say how many were not read.
        assert re.search(rf"^\| {ITEMS} \| ", report, re.M)
        assert f"{ITEMS - 400:,} items left out here: {ITEMS - LIST_READ:,} not read" in report
        assert data["turns"][0]["input_left_out"] == {"at": 200, "count": ITEMS - 400, "not_read": ITEMS - LIST_READ}


def test_a_request_read_at_its_ends_still_counts_what_it_sent(analysed):
    _, run, _, nested, _ = analysed
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    for record in [record for record in records if record["record"] == "turn"]:
        context = record["context"]
        assert sum(part["tokens"] for part in context["categories"]) == USAGE_IN
        if nested is None:  # the items not read count by their size, for most of the input
            [not_read] = [part for part in context["categories"] if part["name"] == "items not read (by their size)"]
            assert not_read["tokens"] > USAGE_IN / 2
    summary = summarise(run, Volatile([]))
    assert [turn.items for turn in summary.turns] == ([ITEMS, ITEMS] if nested is None else [1, 1])
    assert [turn.request_bytes for turn in summary.turns] == [
        len(orjson.dumps(json.loads((run / "traffic.jsonl").read_text().splitlines()[n])["request"]["body"]))
        for n in (0, 1)
    ]


@pytest.mark.parametrize("path", sorted(ANSWERS))
def test_a_stream_read_a_piece_at_a_time_writes_what_it_writes_read_whole(path, tmp_path, monkeypatch):
    deltas = {
        "/v1/responses": 'event: response.output_text.delta\ndata: {{"type":"response.output_text.delta",'
        '"item_id":"m","output_index":0,"content_index":0,"delta":"w{} "}}\n\n',
        "/v1/chat/completions": 'data: {{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,'
        '"delta":{{"content":"w{} "}}}}]}}\n\n',
        "/v1/messages": 'event: content_block_delta\ndata: {{"type":"content_block_delta","index":0,'
        '"delta":{{"type":"text_delta","text":"w{} "}}}}\n\n',
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent": 'data: {{"candidates":[{{"content":{{"role":'
        '"model","parts":[{{"text":"w{} "}}]}}}}]}}\n\n',
    }[path]
    stream = "".join(deltas.format(index) for index in range(3_000)) + ANSWERS[path]
    request = {"model": "m", "input": "x", "messages": [{"role": "user", "content": "x"}], "contents": []}
    line = captured_exchange(path, request, stream)
    written = []
    for bound in (sse.IN_ONE_LIST, 4_096):  # read whole, then a piece at a time
        monkeypatch.setattr(sse, "IN_ONE_LIST", bound)
        monkeypatch.setattr(sse, "PIECE", min(sse.PIECE, 8 * bound))
        run = run_of(tmp_path, [line])  # the same folder: the outputs name it
        analyze_run(run)
        written.append(
            {
                name: strip_stamps((run / name).read_bytes())
                for name in ("report.md", "report.html", "turns.jsonl", "insight.jsonl")
            }
        )
        shutil.rmtree(tmp_path / "codex")
    assert written[0] == written[1]
    assert "w2999" in written[1]["turns.jsonl"].decode()


def strip_stamps(text: bytes) -> bytes:
    return re.sub(rb'- Generated at: [^\n]*|<meta name="generated" content="[^"]*"', b"", text)


def test_a_turn_notes_the_first_errors_and_kinds_and_counts_the_others(tmp_path):
    errors = "".join(f'data: {{"error":{{"message":"e{index}"}}}}\n\n' for index in range(2_500))
    kinds = "".join(f'event: x\ndata: {{"type":"response.x{index}"}}\n\n' for index in range(2_500))
    lines = [
        captured_exchange("/v1/chat/completions", {"model": "m", "messages": []}, errors, id="a"),
        captured_exchange("/v1/responses", {"model": "m", "input": []}, kinds + ANSWERS["/v1/responses"], id="b"),
    ]
    run = run_of(tmp_path, lines)
    _, warnings = analyze_run(run)
    assert "exchange #1: 2,500 errors; the first 1,000 of each are kept, the others counted" in warnings
    assert (
        "exchange #2: more than 1,000 kinds of events (1,501 events of the others); the first 1,000 of each are "
        "kept, the others counted"
    ) in warnings
    first, second = whole_turns(run / "turns.jsonl")
    assert len(first["errors"]) == 1_000 and first["errors"][0] == {"message": "e0"}
    assert len(second["events"]) == 1_001 and second["events"]["(other kinds)"] == 1_501


def test_report_html_keeps_its_first_and_last_turns_under_its_limit(tmp_path, monkeypatch):
    # A smaller limit, so that a few hundred exchanges stand for 20,000 one-exchange agents. (Each agent's record in
    # the page's header takes about 1.5 KB, its context window's 430 bytes of it: 928 KB for these 601.)
    monkeypatch.setattr(page_budget, "PAGE_LIMIT", 1_400_000)
    lines = [
        captured_exchange("/v1/responses", {"model": "m", "input": f"task {index}"}, ANSWERS["/v1/responses"],
                          id=f"f{index}", request_headers=[("content-type", "application/json"),
                                                           ("x-claude-code-agent-id", f"agent-{index}")])
        for index in range(600)
    ]  # fmt: skip
    run = run_of(tmp_path / "limited", lines)
    analyze_run(run)
    page = (run / "report.html").read_bytes()
    assert len(page) <= page_budget.PAGE_LIMIT
    data = orjson.loads(DATA.search(page).group(1))
    numbers = [turn["n"] for turn in data["turns"]]
    assert numbers[0] == 1 and numbers[-1] == 600 and len(numbers) < 600
    head = next(at for at, number in enumerate(numbers) if number != at + 1)
    [note] = [warning for warning in data["header"]["warnings"] if warning.startswith("this page shows")]
    assert note == (
        f"this page shows {len(numbers):,} of the run's 600 turns (#1 to #{head:,} and #{numbers[head]:,} to #600), "
        f"to stay under {page_budget.PAGE_LIMIT // 1_000_000} MB: report.md and turns.jsonl hold every turn"
    )
    # The turns kept name the values they named on a page holding every turn, renumbered.
    monkeypatch.setattr(page_budget, "PAGE_LIMIT", 25_000_000)
    whole = run_of(tmp_path / "whole", lines)
    analyze_run(whole)
    every = page_data(whole)
    by_number = {turn["n"]: turn for turn in every["turns"]}
    for turn in data["turns"]:
        before = by_number[turn["n"]]
        for field in ("config", "system", "request_headers", "input"):
            named = turn[field] if isinstance(turn[field], list) else [turn[field]]
            named_before = before[field] if isinstance(before[field], list) else [before[field]]
            assert [data["values"][ref] for ref in named] == [every["values"][ref] for ref in named_before]


def test_report_html_stays_under_25_mb_whatever_the_capture(tmp_path):
    # Texts of nearly a megabyte each (what the viewer keeps of one string), thirty of them: 30 MB of page, whole.
    lines = [
        captured_exchange("/v1/responses", {"model": "m", "input": f"{index} " + "word " * 200_000},
                          ANSWERS["/v1/responses"], id=f"f{index}")
        for index in range(30)
    ]  # fmt: skip
    run = run_of(tmp_path, lines)
    analyze_run(run)
    page = (run / "report.html").read_bytes()
    assert 20_000_000 < len(page) <= 25_000_000
    data = orjson.loads(DATA.search(page).group(1))
    assert data["turns"][0]["n"] == 1 and data["turns"][-1]["n"] == 30 and len(data["turns"]) < 30
    assert any(warning.startswith("this page shows") for warning in data["header"]["warnings"])


def test_a_page_header_shows_the_first_warnings_and_counts_the_others(tmp_path):
    run = run_of(tmp_path, [])
    (run / "traffic.jsonl").write_text("not json\n" * (SHOWN + 250))
    _, warnings = analyze_run(run)
    assert sum(warning.endswith("not valid JSON, skipped") for warning in warnings) == SHOWN + 250
    shown = page_data(run)["header"]["warnings"]
    assert len(shown) == SHOWN + 1
    assert shown[-1] == f"and {len(warnings) - SHOWN:,} more warnings: report.md lists every one"
    assert (run / "report.md").read_text().count("- Warning: line ") == SHOWN + 250
