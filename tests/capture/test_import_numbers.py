"""Numbers a fast JSON parser refuses (an integer past 64 bits, a float past its range, positive or negative, as
digits or with an exponent), planted in every number a recording holds: every entry after them is still read, by
every JSON-based import format and by the reader of traffic.jsonl itself. And HAR timings that contradict the
entry's `time`: the time is kept, warned of once for the file."""

import json
from itertools import cycle

from probe.capture.imports import claude_tap, claude_tap_session, har, original_jsonl, traffic_jsonl
from probe.capture.imports.formats import Noted, Skipped
from probe.read.traffic import iter_exchanges

# Written into the file as they stand: JSON numbers no 64-bit integer or double holds.
BIG = ("18446744073709551616", "-18446744073709551617", "123456789012345678901234567890", "1e400", "-1.5e400",
       "1e-400", "123456789012345678901234567890e5", "-" + "9" * 30)  # fmt: skip
MARK = 7.25  # a number the templates below hold only where a big one is planted
ENTRIES = 5


def planted(template, numbers) -> str:
    """The template as JSON with each of its numbers (not its booleans) replaced by the next big one."""
    if isinstance(template, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {planted(value, numbers)}" for key, value in template.items()) + "}"
    if isinstance(template, list):
        return "[" + ", ".join(planted(value, numbers) for value in template) + "]"
    if isinstance(template, int | float) and not isinstance(template, bool):
        return next(numbers)
    return json.dumps(template)


def har_entry(number: int) -> dict:
    return {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "time": 12,
        "request": {"method": "POST", "url": f"https://h/v1/{number}", "headersSize": -1, "bodySize": 10,
                    "headers": [], "postData": {"text": "{}"}},
        "response": {"status": 200, "headersSize": 1, "bodySize": 2, "content": {"size": 2, "text": "{}"}},
        "timings": {"blocked": 1, "dns": -1, "connect": 1, "send": 1, "wait": 5, "receive": 4},
        "_extra": [1, 2.5, {"n": 3}],
    }  # fmt: skip


def tap_record(number: int) -> dict:
    return {
        "timestamp": "2026-01-01T00:00:00Z",
        "request_id": f"r{number}",
        "duration_ms": 12,
        "request": {"method": "POST", "path": f"/v1/{number}", "headers": {"host": "h"},
                    "body": {"max_tokens": 100, "temperature": 0.5}},
        "response": {"status": 200, "headers": {}, "body": {"usage": {"input_tokens": 3, "output_tokens": 4}}},
    }  # fmt: skip


def traffic_line(number: int) -> dict:
    return {
        "schema": 1, "kind": "http", "id": f"x{number}", "proxy": "imported", "complete": True, "error": None,
        "timing": {"start": 1767225600.0, "end": 1767225601.5, "duration": 1.5},
        "request": {"method": "POST", "url": f"https://h/v1/{number}", "path": f"/v1/{number}", "headers": [],
                    "body": {"max_tokens": 100}, "body_format": "json", "body_size": 16},
        "response": {"status": 200, "headers": [], "body": {"n": 1}, "body_format": "json", "body_size": 7},
    }  # fmt: skip


def original_line(number: int) -> dict:
    return {
        "timestamp": 1767225600.5,
        "request": {"method": "POST", "url": f"https://h/v1/{number}", "headers": {}, "body": {"max_tokens": 9}},
        "response": {"status_code": 200, "headers": {}, "body": {"usage": {"input_tokens": 3}}},
    }


def whole_file(prefix: str, items: list[str], suffix: str) -> str:
    return prefix + ", ".join(items) + suffix


def json_lines(items: list[str]) -> str:
    return "".join(item + "\n" for item in items)


# Each format: its reader, a template of one entry, and how entries make a file.
FORMATS = {
    "har": (har, har_entry, lambda items: whole_file('{"log": {"version": "1.2", "entries": [', items, "]}}")),
    "claude-tap session": (
        claude_tap_session,
        tap_record,
        lambda items: whole_file('{"session": "s", "agent": "claude", "packets": [', items, "]}"),
    ),
    "claude-tap trace": (claude_tap, tap_record, json_lines),
    "traffic.jsonl": (traffic_jsonl, traffic_line, json_lines),
    "original JSONL": (original_jsonl, original_line, json_lines),
}


def test_numbers_past_64_bits_in_every_position_leave_every_later_entry_read(tmp_path):
    for name, (reader, template, file_of) in FORMATS.items():
        numbers = cycle(BIG)
        # The big numbers in every number position of the second entry, and of the fourth with other values (the
        # first is left as it is: a format is told from its first entry).
        entries = [planted(template(n), numbers) if n in (2, 4) else json.dumps(template(n)) for n in range(1, 6)]
        source = tmp_path / f"{name}.src"
        source.write_text(file_of(entries))
        assert reader.sniff(source.read_bytes()[:65536]), name
        read = [item for item in reader.read(source) if not isinstance(item, Noted)]
        damaged = [item for item in read if isinstance(item, Skipped) and "damaged" in item.why]
        assert damaged == [], name
        lines = [item for item in read if isinstance(item, dict)]
        # Every entry without big numbers is read, and so is each one whose big numbers are in no field it needs.
        paths = [line["request"]["path"] for line in lines]
        assert {"/v1/1", "/v1/3", "/v1/5"} <= set(paths), (name, read)
        assert len(lines) + sum(isinstance(item, Skipped) for item in read) == ENTRIES, (name, read)
        assert all(json.dumps(line) for line in lines)


def test_traffic_jsonl_with_big_numbers_everywhere_is_read_whole(tmp_path):
    numbers = cycle(BIG)
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json_lines([planted(traffic_line(n), numbers) if n % 2 == 0 else json.dumps(traffic_line(n))
                                   for n in range(1, 6)]))  # fmt: skip
    warnings: list[str] = []
    exchanges = list(iter_exchanges(traffic, warnings))
    assert [exchange.path for exchange in exchanges] == [f"/v1/{n}" for n in range(1, 6)], warnings
    assert set(exchanges[1].request_body.value) == {"max_tokens"}  # its big number read, whatever it became


def har_timed(number: int, timings: dict | None, time) -> dict:
    entry = {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "request": {"method": "GET", "url": f"https://h/{number}", "headers": []},
        "response": {"status": 200, "content": {"text": "{}"}},
    }
    return entry | ({"timings": timings} if timings is not None else {}) | ({"time": time} if time is not None else {})


def test_har_timings_that_contradict_time_keep_the_time_and_warn_once(tmp_path):
    start = 1767225600.0
    agreeing = {"blocked": -1, "dns": -1, "connect": -1, "send": 1, "wait": 2000, "receive": 842}
    doubled = {"blocked": 2843, "send": 1, "wait": 2000, "receive": 842}  # 5,686 ms of parts for 2,843
    entries = [
        har_timed(1, agreeing, 2843),
        har_timed(2, doubled, 2843),
        har_timed(3, {"send": -1, "wait": -1, "receive": -1}, 2843),  # not known: only `time` says anything
        har_timed(4, None, 2843),
        har_timed(5, agreeing, None),
        har_timed(6, {"send": 1, "wait": 100, "receive": 10}, 9000),
    ]
    source = tmp_path / "t.har"
    source.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    read = list(har.read(source))
    lines = [item for item in read if isinstance(item, dict)]
    durations = [round((line["timing"]["end"] - start) * 1000) for line in lines]
    assert durations == [2843, 2843, 2843, 2843, 2843, 9000]
    assert round((lines[0]["timing"]["first_byte"] - start) * 1000) == 2001
    assert lines[1]["timing"]["first_byte"] is None  # the timings put it past the end `time` gives
    assert lines[2]["timing"]["first_byte"] is None and lines[3]["timing"]["request_end"] is None
    assert round((lines[5]["timing"]["first_byte"] - start) * 1000) == 101  # within the time: kept
    [noted] = [item for item in read if isinstance(item, Noted)]
    assert read[-1] is noted and noted.what.startswith("2 entries whose timings add up to another duration")
    assert "entry 2: 5,686 ms against 2,843 ms" in noted.what
