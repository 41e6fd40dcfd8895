"""The SSE parser: standard framing, and streams that were cut off."""

from probe.read import sse


def test_parses_named_json_events_and_comments():
    text = ': keep-alive\n\nevent: a\ndata: {"type": "a", "n": 1}\n\ndata: plain\ndata: two lines\n\n'
    events = sse.parse(text)
    assert [(event.name, event.data) for event in events] == [("a", {"type": "a", "n": 1}), (None, "plain\ntwo lines")]


def test_crlf_and_missing_space_after_colon():
    events = sse.parse('event:x\r\ndata:{"k":1}\r\n\r\n')
    assert events[0].name == "x" and events[0].data == {"k": 1}


def test_cut_off_last_event_is_kept():
    events = sse.parse('data: {"a":1}\n\ndata: {"b":')
    assert events[0].data == {"a": 1} and events[1].data == '{"b":'


def test_detects_sse_text():
    assert sse.looks_like_sse("event: x\ndata: 1\n\n")
    assert not sse.looks_like_sse('{"json": true}')


def test_fast_and_general_parsers_agree():
    simple = 'event: a\ndata: {"x": 1}\n\ndata: {"y": [2]}\n\nevent: b\ndata: plain text\n\n'
    fast = [(event.name, event.data) for event in sse.parse(simple)]
    general = [(event.name, event.data) for event in sse.parse_lines(simple)]
    assert fast == general == [("a", {"x": 1}), (None, {"y": [2]}), ("b", "plain text")]


def test_a_field_without_a_colon_has_an_empty_value_and_a_leading_byte_order_mark_is_dropped():
    # The SSE spec: a line with no colon is a field name whose value is empty, so a bare `data` line adds an
    # empty line to the event's data; one U+FEFF at the start of the stream is not part of it.
    events = sse.parse('\ufeffevent: a\ndata: {"x":\ndata\ndata: 1}\n\ndata\n\nevent\ndata: plain\n\n')
    assert [(event.name, event.data) for event in events] == [("a", {"x": 1}), (None, ""), (None, "plain")]
    assert sse.looks_like_sse('\ufeffevent: a\ndata: {"x": 1}\n\n')
    assert sse.parse('\ufeffdata: {"x": 1}\n\n') == [sse.Event(None, {"x": 1})]  # the fast path too
