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


def test_a_long_stream_walked_a_piece_at_a_time_gives_the_events_the_whole_parse_gives(monkeypatch):
    # Pieces are cut at an empty line only (after CRLF, CR or LF line ends), and a byte order mark counts only at the
    # very start: whatever the framing, the events are those of the stream parsed at once.
    monkeypatch.setattr(sse, "PIECE", 64)
    events = "".join(f'event: e{index}\ndata: {{"n": {index}, "t": "x{index}"}}\n\n' for index in range(200))
    odd = ': comment\r\n\r\ndata: {"a": 1}\r\ndata: 2\r\n\r\n\ufeffdata: {"hidden": 1}\n\ndata: plain\r\r' * 30
    for text in (events, "\ufeff" + events, odd, events + 'data: {"cut": ', odd + events):
        whole = sse.parse(text)
        streamed = sse.StreamEvents(text)
        assert list(streamed) == whole and list(streamed) == whole  # walked twice, parsed again each time
        assert sum(1 for _ in streamed.pieces()) > 2
        assert streamed[:4] == whole[:4] and bool(streamed) == bool(whole)


def test_a_stream_past_the_bound_is_read_a_piece_at_a_time(monkeypatch):
    monkeypatch.setattr(sse, "IN_ONE_LIST", 100)
    short, long = 'data: {"a": 1}\n\n', 'data: {"a": 1}\n\n' * 20
    assert isinstance(sse.events_of(short), list)
    found = sse.events_of(long)
    assert isinstance(found, sse.StreamEvents) and list(found) == sse.parse(long)


def test_a_long_stream_says_it_met_an_event_nested_too_deeply_once_walked(monkeypatch):
    monkeypatch.setattr(sse, "PIECE", 32)
    deep = "[" * 2000 + "]" * 2000
    streamed = sse.StreamEvents('data: {"a": 1}\n\n' * 10 + f"data: {deep}\n\n")
    assert not streamed.too_deep
    assert isinstance(list(streamed)[-1].data, sse.NestedTooDeeply) and streamed.too_deep


def test_a_named_stream_cut_in_the_middle_of_an_event_is_parsed_whole():
    # Each line of the fast path's pattern matches one way: a cut stream of named events (Anthropic's shape) once
    # made it try 2**events ways before the general parser could take over.
    events = "".join(f'event: e{index}\ndata: {{"n": {index}}}\n\n' for index in range(5_000))
    parsed = sse.parse(events + 'event: last\ndata: {"cut": ')
    assert len(parsed) == 5_001 and parsed[4_999] == sse.Event("e4999", {"n": 4999})
    assert parsed[-1] == sse.Event("last", '{"cut": ')


def test_the_head_of_a_stream_is_the_whole_parse_s_first_events(monkeypatch):
    # Recognising an API reads a stream's first events: parsed from the text up to a blank line, they are the events
    # the whole text's parse begins with, whatever the framing (CR line ends, comments that end no event, a byte
    # order mark, a cut-off end, text past the bound read a piece at a time).
    events = "".join(f'event: e{index}\ndata: {{"n": {index}, "t": "x{index}"}}\n\n' for index in range(50))
    odd = ': comment\r\n\r\ndata: {"a": 1}\r\ndata: 2\r\n\r\n\ufeffdata: {"hidden": 1}\n\ndata: plain\r\r' * 5
    keep_alives = ": ping\n\n" * 40 + events
    for text in (events, "\ufeff" + events, odd, events + 'data: {"cut": ', odd + events, keep_alives, "", ": x\n\n"):
        whole = sse.parse(text)
        for count in (1, 4, 7, 500):
            assert sse.head(text, count) == whole[:count]
    monkeypatch.setattr(sse, "IN_ONE_LIST", 100)
    assert sse.head(keep_alives, 4) == sse.parse(keep_alives)[:4]


def test_a_long_stream_is_never_cut_inside_an_event_of_crlf_lines(monkeypatch):
    # The CRLF ending a line of an event once counted as two line ends, an empty line: a stream read a piece at a
    # time was cut inside an event of several data lines, which became two events.
    monkeypatch.setattr(sse, "PIECE", 10)
    text = 'data: {"a": 1}\r\ndata: 2\r\n\r\n' * 3
    assert list(sse.StreamEvents(text)) == sse.parse(text) == [sse.Event(None, '{"a": 1}\n2')] * 3
