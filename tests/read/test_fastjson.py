"""JSON parsed with orjson gives what the standard library gives, also where orjson refuses or would round."""

import json

import pytest

from probe.common import fastjson
from probe.read import sse
from probe.read.traffic import iter_exchanges


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [true, null, 1.5, -0.0, "x"], "a": 2}',
        "[12345678901234567890123, -9999999999999999999, 1234567890123456789]",  # past 64 bits: kept exact
        '["a 20-digit id in a string 12345678901234567890", 1]',
        "[NaN, Infinity, -Infinity, 1e400]",
        '"\\ud800 a lone surrogate, escaped"',
        '{"\\udfff": "\\ud83d\\ude00"}',
    ],
)
def test_same_value_as_json(text):
    expected = json.loads(text)
    for data in (text, text.encode("utf-8")):
        value = fastjson.loads(data)
        assert json.dumps(value) == json.dumps(expected)
        assert [type(item) for item in value] == [type(item) for item in expected]


def test_big_integers_stay_integers():
    assert fastjson.loads("[123456789012345678901234567890]") == [123456789012345678901234567890]
    assert fastjson.loads(b'{"n": -9223372036854775809}') == {"n": -9223372036854775809}


def test_a_string_holding_a_lone_surrogate_and_a_byte_order_mark():
    assert fastjson.loads('["\ud800"]') == ["\ud800"]
    assert fastjson.loads(b"\xef\xbb\xbf[1]") == [1]


@pytest.mark.parametrize("data", [b'{"a": ', b"\xff\xfe{", b"nope"])
def test_raises_what_json_raises(data):
    with pytest.raises(Exception) as expected:
        json.loads(data)
    with pytest.raises(type(expected.value)):
        fastjson.loads(data)


@pytest.mark.parametrize(
    "data",
    [
        "[" * 100_000,
        b'{"a":' * 1100 + b"1" + b"}" * 1100,
        '{"n": 1' + "0" * 30 + ', "x": ' + "[" * 1100 + "]" * 1100 + "}",
    ],
)
def test_nesting_past_the_limit_is_a_value_error_whichever_parser_reads_it(data):
    # A hostile capture's event nested 1,100 levels deep: not a RecursionError, which nothing catches.
    with pytest.raises(fastjson.NestedTooDeeply):
        fastjson.loads(data)
    assert fastjson.loads("[" * fastjson.DEPTH_LIMIT + "]" * fastjson.DEPTH_LIMIT)  # up to the limit, read


def test_a_number_of_thousands_of_digits_is_read_and_kept_exactly():
    digits = "7" * 5000
    value = fastjson.loads(f'{{"n": {digits}, "m": -{digits}}}')
    assert value == {"n": digits, "m": "-" + digits} and isinstance(value["n"], fastjson.LongNumber)
    assert fastjson.encoded(value) == f'{{"n":"{digits}","m":"-{digits}"}}'.encode()


def test_capture_lines_and_stream_payloads_keep_big_numbers_and_nan(tmp_path):
    stream = 'data: {"id": 123456789012345678901234, "score": NaN}\n\ndata: {"t": "\\ud800"}\n\n'
    line = {
        "schema": 1,
        "kind": "http",
        "request": {"method": "POST", "url": "https://x.test/v1", "body": '{"seed": 99999999999999999999}'},
        "response": {"status": 200, "headers": [["content-type", "text/event-stream"]], "body": stream},
    }
    capture = tmp_path / "traffic.jsonl"
    capture.write_text(json.dumps(line).replace('"POST"', '"POST", "big": 123456789012345678901234567890') + "\n")
    [exchange] = iter_exchanges(capture, [])
    assert exchange.request_body.value == {"seed": 99999999999999999999}
    events = exchange.stream_events()
    assert events[0].data["id"] == 123456789012345678901234 and events[0].data["score"] != events[0].data["score"]
    assert events[1].data == {"t": "\ud800"}
    assert exchange.stream_events() is events  # parsed once, whoever asks
    assert sse.parse(stream)[0].data["id"] == 123456789012345678901234


def test_what_orjson_cannot_write_is_still_strict_json():
    """A lone surrogate or a number past 64 bits sends a record to Python's writer, which would write a NaN beside it
    bare: it is null there too, as orjson writes it, a key included."""
    record = {"odd": "\ud800", "big": 2**70, "nan": float("nan"), "in": [float("inf"), {"x": float("-inf")}]}
    text = fastjson.encoded(record)

    def refused(constant: str):
        raise ValueError(f"not JSON: {constant}")

    assert json.loads(text, parse_constant=refused) == {
        "odd": "\ud800",
        "big": 2**70,
        "nan": None,
        "in": [None, {"x": None}],
    }
    assert fastjson.encoded({"nan": float("nan")}) == b'{"nan":null}'  # (orjson's own way)
    assert json.loads(fastjson.strict_text({float("nan"): [float("nan")]}), parse_constant=refused) == {"NaN": [None]}
