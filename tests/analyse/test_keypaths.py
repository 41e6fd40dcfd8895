"""Key paths: a stream's events counted in one pass give the same table as walking each payload."""

from pathlib import Path

from probe.analyse.keypaths import KeyPaths
from probe.read import sse
from probe.read.traffic import iter_exchanges

DATA = Path(__file__).resolve().parents[2] / "data"


def walked(payloads) -> KeyPaths:
    """The reference: each payload walked on its own."""
    paths = KeyPaths()
    for payload in payloads:
        paths.add(payload)
    return paths


def test_events_counted_in_one_pass_match_walking_each():
    events = sse.parse(
        'event: a\ndata: {"type": "a", "n": 1, "ok": true}\n\n'
        'data: {"type": "a", "n": null, "ok": false}\n\n'
        'data: {"type": "b", "item": {"content": [{"text": "x"}], "tags": []}, "n": 2.5}\n\n'
        'data: [1, {"deep": {"er": [null]}}]\n\n'
        "data: plain text\n\n"
        'data: {"type": "a", "n": 3, "ok": true}\n\n'
    )
    counted = KeyPaths()
    counted.add_events(events)
    table = counted.top()
    assert table == walked(event.data for event in events).top()
    assert ["type", "string", 4] in table and ["n", "null, number", 4] in table
    assert ["item.content[].text", "string", 1] in table and ["[].deep.er", "array", 1] in table


def test_sample_captures_with_sse_websocket_and_json_bodies_count_the_same():
    counted, reference, kinds = KeyPaths(), KeyPaths(), set()
    for capture in sorted(DATA.glob("*/*-sample-*/traffic.jsonl")):
        for exchange in iter_exchanges(capture, []):
            events = exchange.stream_events()
            if events is not None:
                kinds.add("websocket" if exchange.kind == "websocket" else "sse")
                counted.add_events(events)
                for event in events:
                    reference.add(event.data)
            elif exchange.response_body.is_json:
                kinds.add("json")
                counted.add(exchange.response_body.value)
                reference.add(exchange.response_body.value)
    assert kinds == {"sse", "websocket", "json"}
    assert counted.top(limit=10_000) == reference.top(limit=10_000)
    assert len(counted.counts) > 50
