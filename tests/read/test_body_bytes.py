"""A stored body back as bytes: a JSON body, kept parsed, is written in the form its recorded size says, so that
a replay, a flow file or a cassette gives back the bytes the server sent; a text body is its text."""

import json

import pytest

from probe.read.traffic import Body, body_bytes

VALUE = {"id": "resp_1", "output": [{"text": "héllo, wörld", "n": 1.5, "ok": True, "none": None}], "empty": {}}
FORMS = {
    "compact, as JavaScript and orjson write it": dict(separators=(",", ":"), ensure_ascii=False),
    "Python's json.dumps": dict(),
    "Python's json.dumps, UTF-8": dict(ensure_ascii=False),
    "compact, non-ASCII escaped": dict(separators=(",", ":")),
    "indented by two": dict(indent=2),
    "indented by two, UTF-8": dict(indent=2, ensure_ascii=False),
}


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_a_json_body_comes_back_as_the_bytes_sent(form):
    sent = json.dumps(VALUE, **FORMS[form]).encode()
    assert body_bytes(Body(json.loads(sent), "json", len(sent))) == sent


def test_a_json_body_of_another_size_comes_back_compact():
    # A masked body (a key replaced by its fingerprint) no longer has the recorded size.
    assert body_bytes(Body(VALUE, "json", 3)) == json.dumps(VALUE, separators=(",", ":"), ensure_ascii=False).encode()
    assert body_bytes(Body(VALUE, "json", 0)) == json.dumps(VALUE, separators=(",", ":"), ensure_ascii=False).encode()


def test_text_and_empty_bodies():
    assert body_bytes(Body('data: {"a": 1}\r\n\r\n', "text", 18)) == b'data: {"a": 1}\r\n\r\n'
    assert body_bytes(Body(None, "empty", 0)) == b""
