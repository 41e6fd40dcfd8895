"""Analysis memory follows the largest exchange, not the capture: what is kept to compare histories is held to a
budget of items, and each exchange is let go before the next one is read; and within an exchange it follows its
bytes, not how many items or events they hold."""

import io
import tracemalloc

import orjson
import pytest
from conftest import captured_exchange

from probe.analyse.run_totals import Totals
from probe.analysis.report import RunReading, write_report_to
from probe.apis.openai_responses import report as openai_responses
from probe.read import dedupe, sse, turn_lines
from probe.read.dedupe import RECENT_ITEMS, History, RecentResponses
from probe.read.history_reads import HistoryReads
from probe.read.thinning import LIST_READ
from probe.read.traffic import exchange_of_line
from probe.write.viewer import data as viewer_data

ANSWER = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'


def hostile_capture(path, requests: int, items: int):
    """`requests` requests of `items` tiny input items each, none re-sent from another."""
    with path.open("wb") as out:
        for number in range(requests):
            body = {"model": "m", "input": [{"role": "user", "content": f"tiny {number} {i}"} for i in range(items)]}
            out.write(orjson.dumps(captured_exchange("/v1/responses", body, ANSWER)) + b"\n")
    return path


def peak_analysing(traffic) -> int:
    """Peak memory, in bytes, of writing the report, turns.jsonl and the viewer, each to a file as `analyze` does."""
    folder = traffic.with_suffix("")
    folder.mkdir()
    with (
        open(folder / "report.md", "w") as report,
        open(folder / "turns.jsonl", "wb") as turns,
        open(folder / "report.html", "wb") as viewer,
    ):
        tracemalloc.start()
        try:
            write_report_to(report, traffic, openai_responses, None, turns=turns, viewer=viewer)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.slow  # sizes that take seconds to hold: CI runs it, `nox -s quick` does not
def test_peak_memory_does_not_grow_with_the_number_of_large_requests(tmp_path, monkeypatch):
    # Smaller budgets, so that small requests stand for hostile ones: past them, nothing more is kept.
    monkeypatch.setattr(dedupe, "RECENT_ITEMS", 4_000)
    monkeypatch.setattr(turn_lines, "HASHES_KEPT", 4_000)
    monkeypatch.setattr(viewer_data, "VALUES_KNOWN", 4_000)
    few = peak_analysing(hostile_capture(tmp_path / "few.jsonl", 3, 10_000))
    many = peak_analysing(hostile_capture(tmp_path / "many.jsonl", 12, 10_000))
    # Held whole, the nine more requests would take about three times `few` more. The caches of masked strings and
    # converted items, bounded in size, fill up with them: a fixed cost, well under half of `few` here.
    assert many < few * 1.5, (few, many)


def test_recent_histories_keep_the_newest_whole_and_the_rest_within_the_item_budget():
    big, small = RECENT_ITEMS // 2 + 1, 10
    history, reads, contexts = History(), HistoryReads(), RecentResponses(len)
    for label in range(6):
        items = list(range(label * big, (label + 1) * big))
        history.split(str(label), items)
        reads.read(items, type("Turn", (), {"unrecognised": [], "unknown": []})(), lambda raw: raw)
        contexts.remember(str(label), items)
    # Two of these fit within the budget only one at a time beside the newest: older ones are let go.
    assert [label for label, _ in history.recent] == ["5"]
    assert len(reads.recent) == 1 and list(contexts) == ["5"]
    for label in range(6, 10):
        history.split(str(label), [label] * small)
        contexts.remember(str(label), [label] * small)
    assert [label for label, _ in history.recent] == ["5", "6", "7", "8", "9"]  # small ones fit beside it
    assert list(contexts) == ["5", "6", "7", "8", "9"]
    huge = list(range(RECENT_ITEMS * 2))
    history.split("huge", huge)
    contexts.remember("huge", huge)
    assert [label for label, _ in history.recent] == ["huge"] and list(contexts) == ["huge"]  # the newest stays


def parse_peak(traffic) -> int:
    """Peak memory, in bytes, of parsing the capture's longest line: the floor of reading its largest exchange."""
    longest = max(traffic.read_bytes().splitlines(), key=len)
    tracemalloc.start()
    try:
        parsed = orjson.loads(longest)
        del parsed
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_memory_past_parsing_a_request_does_not_grow_with_its_items_past_what_is_read(tmp_path):
    # Past LIST_READ items a history is read at its ends (probe.read.thinning): five times the items, five times the
    # parsing, and the rest of the analysis holds what it holds for as many as it reads. Read whole, each item made
    # objects in every output: 100,000 took 600 MB more than their parsing.
    small = hostile_capture(tmp_path / "small.jsonl", 2, 2 * LIST_READ)
    large = hostile_capture(tmp_path / "large.jsonl", 2, 10 * LIST_READ)
    above_small = peak_analysing(small) - parse_peak(small)
    above_large = peak_analysing(large) - parse_peak(large)
    assert above_large < 2 * above_small, (above_small, above_large)


def stream_exchange(events: int):
    """One exchange whose answer streams `events` tiny deltas, as read from its line; and the bytes of its stream."""
    deltas = "".join(
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"m",'
        f'"output_index":0,"content_index":0,"delta":"w{index} "}}\n\n'
        for index in range(events)
    )
    raw = orjson.dumps(captured_exchange("/v1/responses", {"model": "m", "input": "x"}, deltas + ANSWER))
    exchange = exchange_of_line(raw, 1, len(raw), 1, [])
    return exchange, len(exchange.response_body.value)


def peak_reading(exchange) -> int:
    """Peak memory, in bytes, of reading one exchange into every output (the turn, key paths, insight, turns.jsonl's
    line and the viewer's data, with its raw events): its masking aside, which is the redact package's."""
    reading = RunReading(openai_responses, "responses", False, frozenset(), Totals(), turns=io.BytesIO(), viewer=True)
    tracemalloc.start()
    try:
        reading.read(exchange, [])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # sizes that take seconds to hold: CI runs it, `nox -s quick` does not
def test_walking_a_long_stream_holds_a_piece_of_its_events_not_all_of_them(monkeypatch):
    # A smaller bound, so that short streams stand for long ones: past it, events are parsed a piece at a time each
    # time they are walked. Held as a list, each event cost about 2 KB, twenty times its bytes.
    monkeypatch.setattr(sse, "IN_ONE_LIST", 1 << 20)
    few, few_bytes = stream_exchange(50_000)
    many, many_bytes = stream_exchange(200_000)
    grown = peak_reading(many) - peak_reading(few)
    assert grown < 3 * (many_bytes - few_bytes), (grown, many_bytes - few_bytes)
