"""Analysis memory follows the largest exchange, not the capture: what is kept to compare histories is held to a
budget of items, and each exchange is let go before the next one is read."""

import tracemalloc

import orjson
from conftest import captured_exchange

from probe.apis.openai_responses import report as openai_responses
from probe.read import dedupe, turn_lines
from probe.read.dedupe import RECENT_ITEMS, History, RecentResponses
from probe.read.history_reads import HistoryReads
from probe.write.report import write_report_to
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
