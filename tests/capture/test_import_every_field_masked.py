"""A key planted in every string a recording holds, one position at a time, for every import format (the positions
generated from a template of each, so that a field the template gains is covered too): no key reaches what the
import writes, nor what it says. And an imported traffic.jsonl holding keys in its proxy, ids, timings and unknown
fields: none reaches traffic.jsonl, turns.jsonl, the report, the viewer or .analysis/."""

import json
from pathlib import Path

import yaml
from mitmproxy.io import tnetstring
from mitmproxy.test import tflow

from probe import import_capture
from probe.capture.imports.formats import Skipped, detect
from probe.capture.imports.masking import mask_line
from probe.capture.recorder.line import dumps
from probe.common.errors import RunError

BODY = '{"model": "m", "input": "hi"}'


def key(position: int) -> str:
    """A key of a token's shape, distinct for each position."""
    return f"sk-proj-{position:06d}Qw7Er9Ty2Ui4Op6As8Df0Gh3Jk5Lz"


def har() -> dict:
    entry = {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "time": 12,
        "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "httpVersion": "HTTP/2",
                    "headers": [{"name": "content-type", "value": "application/json"}],
                    "postData": {"mimeType": "application/json", "text": BODY}},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "_error": None,
                     "headers": [{"name": "content-type", "value": "application/json"}],
                     "content": {"mimeType": "application/json", "text": '{"id": "r"}'}},
        "timings": {"send": 1, "wait": 5, "receive": 6},
    }  # fmt: skip
    socket = {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "request": {"method": "GET", "url": "wss://api.openai.com/v1/responses", "headers": []},
        "response": {"status": 101, "headers": []},
        "_webSocketMessages": [{"type": "send", "time": 1.0, "opcode": 1, "data": '{"type":"response.create"}'},
                               {"type": "receive", "time": 2.0, "opcode": 1, "data": '{"type":"response.completed"}'}],
    }  # fmt: skip
    return {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry, socket]}}


def traffic_lines() -> list[dict]:
    http = {
        "schema": 1, "kind": "http", "id": "x-1", "proxy": "openai", "complete": True, "error": None,
        "timing": {"start": 1.0, "end": 2.0, "note": "slow"}, "extra": {"nested": ["text"]},
        "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "path": "/v1/responses",
                    "http_version": "HTTP/1.1", "headers": [["content-type", "application/json"]],
                    "body": {"input": "hi"}, "body_format": "json", "extra": "text"},
        "response": {"status": 200, "reason": "OK", "http_version": "HTTP/1.1", "headers": [],
                     "body": "done", "body_format": "text", "content_encoding": "gzip"},
    }  # fmt: skip
    socket = {
        "schema": 1, "kind": "websocket", "id": "f-1:0", "flow_id": "f-1", "seq": 0, "proxy": "openai",
        "complete": False, "ended_by": "socket-closed", "error": "socket-closed before a terminal event",
        "timing": {"start": 1.0}, "request": {"method": "GET", "url": "wss://h/v1/responses", "headers": []},
        "response": {"status": 101, "headers": []},
        "messages": [{"from": "client", "t": 1.0, "type": "text", "body": "hi", "body_format": "text",
                      "note": "text"}],
    }  # fmt: skip
    return [http, socket]


def tap_record() -> dict:
    return {
        "timestamp": "2026-01-01T00:00:00Z", "request_id": "r1", "duration_ms": 12, "transport": "http",
        "upstream_base_url": "https://api.anthropic.com",
        "request": {"method": "POST", "path": "/v1/messages", "headers": {"content-type": "application/json"},
                    "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "error": None,
                     "body": {"type": "message", "content": [{"type": "text", "text": "hello"}]}},
    }  # fmt: skip


def original_line() -> dict:
    return {
        "timestamp": 1767225600.5,
        "request": {"method": "POST", "url": "https://h/v1/chat/completions", "headers": {"a": "b"}, "body": BODY},
        "response": {"status_code": 200, "headers": {"c": "d"}, "body": '{"id": "x"}'},
    }


def vcr() -> dict:
    return {
        "version": 1,
        "interactions": [
            {"request": {"method": "POST", "uri": "https://h/v1/chat/completions", "body": BODY,
                         "headers": {"content-type": ["application/json"]}},
             "response": {"status": {"code": 200, "message": "OK"}, "headers": {"x-a": ["b"]},
                          "body": {"string": '{"id": "x"}'}}},
        ],
    }  # fmt: skip


def go_vcr() -> dict:
    return {
        "version": 2,
        "interactions": [
            {"id": 0, "request": {"proto": "HTTP/1.1", "method": "POST", "url": "https://h/v1/messages",
                                  "body": BODY, "form": {}, "headers": {"Content-Type": ["application/json"]}},
             "response": {"proto": "HTTP/2.0", "status": "200 OK", "code": 200, "duration": "1.5s",
                          "headers": {"X-A": ["b"]}, "body": '{"id": "x"}'}},
        ],
    }  # fmt: skip


def flow_states() -> list[dict]:
    http_flow = tflow.tflow(resp=True)
    http_flow.request.headers["content-type"] = "application/json"
    http_flow.request.content = BODY.encode()
    return [http_flow.get_state(), tflow.twebsocketflow().get_state()]


def as_json(value) -> bytes:
    return json.dumps(value).encode()


def as_lines(values: list) -> bytes:
    return b"".join(json.dumps(value).encode() + b"\n" for value in values)


def as_yaml(value) -> bytes:
    return yaml.safe_dump(value, sort_keys=False).encode()


def as_flows(states: list) -> bytes:
    return b"".join(tnetstring.dumps(state) for state in states)


# Each format: a template and how it is written. Strings (and bytes, in a flow's state) are planted.
FORMATS = {
    "HAR": (har, as_json),
    "agent-probe traffic.jsonl": (traffic_lines, as_lines),
    "claude-tap trace": (lambda: [tap_record(), tap_record() | {"transport": "websocket"}], as_lines),
    "claude-tap session": (lambda: {"session": "s", "agent": "a", "task": "t", "packets": [tap_record()]}, as_json),
    "original tool's JSONL": (lambda: [original_line()], as_lines),
    "VCR.py cassette": (vcr, as_yaml),
    "go-vcr cassette": (go_vcr, as_yaml),
    "mitmproxy flows": (flow_states, as_flows),
}


def positions(value, path=()):
    """The path of every string (and bytes) in a template, and of every key of a mapping."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield (*path, ("key", name))
            yield from positions(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from positions(item, (*path, index))
    elif isinstance(value, str | bytes):
        yield path


def planted_at(value, path, secret: str):
    """A copy of `value` with the secret at `path`: in place of a key's name, or added to a string (so that a URL,
    a header or a JSON body still reads as one; a number-like string becomes the secret alone)."""
    if not path:
        if isinstance(value, bytes):
            return value + b" " + secret.encode() if value else secret.encode()
        return value + " " + secret if value and not value[:1].isdigit() else secret
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):  # a key renamed
        return {(secret if name == step[1] else name): item for name, item in value.items()}
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[step] = planted_at(value[step], rest, secret)
    return copied


def leaked(text: str, secret: str) -> bool:
    return secret in text or json.dumps(secret)[1:-1] in text


def test_a_key_in_any_string_of_any_format_reaches_nothing_written(tmp_path):
    checked = 0
    for name, (template, written) in FORMATS.items():
        base = template()
        for path in positions(base):
            secret = key(checked)
            source = tmp_path / f"{checked}.src"
            source.write_bytes(written(planted_at(base, path, secret)))
            try:
                reader = detect(source)
            except RunError:  # the file is told as no format: nothing of it is read, so nothing is written
                checked += 1
                continue
            for item in reader.read(source):
                said = item.said() if isinstance(item, Skipped) else dumps(mask_line(item)[0]).decode()
                assert not leaked(said, secret), (name, path, said[:400])
            checked += 1
    assert checked > 150  # every format's every string, not a few


def test_an_imported_traffic_jsonl_carries_no_key_into_any_output(tmp_path, monkeypatch, capsys):
    http, socket = traffic_lines()
    secrets = [key(900_000 + number) for number in range(8)]
    http |= {"proxy": secrets[0], "id": secrets[1], secrets[2]: "named by a key", "extra": {"k": secrets[3]}}
    http["timing"] |= {"end": secrets[4], secrets[5]: 3.0}
    socket |= {"flow_id": secrets[6], "ended_by": secrets[7], "proxy": "hunter22"}
    source, data_dir = tmp_path / "traffic.jsonl", tmp_path / "data"
    source.write_bytes(as_lines([http, socket]))
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    assert import_capture.main([str(source)]) == 0
    printed = capsys.readouterr()
    [run] = (data_dir / "imported").iterdir()
    outputs = [path for path in run.rglob("*") if path.is_file()]
    names = {path.name for path in outputs}
    assert {"traffic.jsonl", "turns.jsonl", "report.md", "report.html"} <= names
    assert any(".analysis" in path.parts for path in outputs)
    for path in outputs:
        text = path.read_text(errors="replace")
        assert not [secret for secret in secrets if leaked(text, secret)], path
    assert not [secret for secret in secrets if leaked(printed.out + printed.err, secret)]
    lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    # A proxy's name without a token's shape but not a name's shape either is masked; the socket's turns keep
    # one flow_id (its fingerprint), and a timing that is no number is left out.
    assert lines[1]["proxy"] == "hunter22" and lines[1]["flow_id"].startswith("[REDACTED sha256:")
    assert lines[1]["ended_by"] is None and "end" not in lines[0]["timing"]
    assert Path(run / "manifest.json").is_file()
