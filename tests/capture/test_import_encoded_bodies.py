"""A body a recording says it holds decoded, that is still in its Content-Encoding (a HAR's base64 or text content,
a cassette's or trace's text, a traffic.jsonl line's body not marked decoded), is decoded before it is masked, in
every encoding and nested: the key inside it cannot be recovered from anything the import and its analysis write,
however what was written is decoded again."""

import base64
import binascii
import contextlib
import json

import pytest

from probe.analysis.report import refresh
from probe.common.decoding import decode_body
from probe.import_capture import import_file
from tests.capture.hostile_imports import COMPRESS, ENCODINGS
from tests.secret_corpus import CORPUS

[(_, SAID, SECRET)] = [entry for entry in CORPUS if entry[0] == "env-db-password"]
BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"run this: {SAID}"}]}).encode()


def encoded(encoding: str) -> bytes:
    data = BODY
    for name in encoding.split(", "):
        data = COMPRESS[name](data)
    return data


def as_text(data: bytes) -> str:
    return data.decode("latin-1")  # bytes written into a JSON or YAML string, as some tools do


def har(path) -> None:
    entries = []
    for encoding in ENCODINGS:
        for content in ({"text": base64.b64encode(encoded(encoding)).decode(), "encoding": "base64"},
                        {"text": as_text(encoded(encoding))}):  # fmt: skip
            entries.append({
                "startedDateTime": "2026-01-01T00:00:00Z",
                "request": {"method": "POST", "url": "https://api.example.com/v1/chat/completions", "headers": [
                    {"name": "Content-Encoding", "value": encoding}], "postData": content},
                "response": {"status": 200, "headers": [{"name": "Content-Encoding", "value": encoding}],
                             "content": content},
            })  # fmt: skip
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x"}, "entries": entries}}))


def vcr(path) -> None:
    interactions = [
        {"request": {"method": "POST", "uri": "https://api.example.com/v1/x", "headers": {"Content-Encoding": [enc]},
                     "body": as_text(encoded(enc))},
         "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Encoding": [enc]},
                      "body": {"string": as_text(encoded(enc))}}}
        for enc in ENCODINGS
    ]  # fmt: skip
    path.write_text(json.dumps({"interactions": interactions, "version": 1}))  # VCR.py's JSON serializer


def claude_tap(path) -> None:
    path.write_text("".join(
        json.dumps({"timestamp": "2026-01-01T00:00:00", "request_id": str(n), "upstream_base_url": "https://a.example",
                    "request": {"method": "POST", "path": "/v1/x", "headers": {"content-encoding": enc},
                                "body": as_text(encoded(enc))},
                    "response": {"status": 200, "headers": {"content-encoding": enc}, "body": as_text(encoded(enc))}})
        + "\n" for n, enc in enumerate(ENCODINGS)
    ))  # fmt: skip


def traffic(path) -> None:
    def message(enc):
        return {"headers": [["content-encoding", enc]], "body": base64.b64encode(encoded(enc)).decode(),
                "body_format": "base64"}  # fmt: skip

    path.write_text("".join(
        json.dumps({"schema": 1, "kind": "http", "id": enc, "proxy": "model", "complete": True, "error": None,
                    "timing": {}, "request": {"method": "POST", "url": "https://a.example/v1/x", "path": "/v1/x",
                                              **message(enc)},
                    "response": {"status": 200, **message(enc)}}) + "\n"
        for enc in ENCODINGS
    ))  # fmt: skip


def original(path) -> None:
    path.write_text("".join(
        json.dumps({"timestamp": 1767225600, "request": {"method": "POST", "url": "https://a.example/v1/x",
                                                         "headers": {"content-encoding": enc},
                                                         "body": as_text(encoded(enc))},
                    "response": {"status_code": 200, "headers": {"content-encoding": enc},
                                 "body": as_text(encoded(enc))}}) + "\n"
        for enc in ENCODINGS
    ))  # fmt: skip


FORMATS = {"har": har, "vcr": vcr, "claude-tap": claude_tap, "traffic": traffic, "original": original}


def readings(text: str) -> list[bytes]:
    """Every way a string written out may hold bytes: as UTF-8, as base64, as Latin-1; each decoded again from
    every encoding."""
    forms = [text.encode("utf-8", "surrogatepass")]
    with contextlib.suppress(binascii.Error, ValueError):
        forms.append(base64.b64decode(text, validate=True))
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(text.encode("latin-1"))
    return forms + [decode_body(form, encoding, 1 << 24).data for form in forms for encoding in ENCODINGS]


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def recoverable(run) -> list[str]:
    """The files of the run folder from which the secret can be read back, raw or decoded."""
    found = []
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        data = path.read_bytes()
        held = SECRET.encode() in data
        if not held and path.suffix in (".jsonl", ".json"):
            lines = data.splitlines() if path.suffix == ".jsonl" else [data]
            values = [json.loads(line) for line in lines if line.strip()]
            held = any(SECRET.encode() in form for text in strings(values) for form in readings(text))
        if held:
            found.append(path.name)
    return found


@pytest.mark.parametrize("name", FORMATS)
def test_a_key_in_a_body_still_encoded_is_masked_in_every_output(tmp_path, private_data_dir, name):
    source = tmp_path / f"recording-{name}"
    FORMATS[name](source)
    assert any(SECRET.encode() in form for form in readings(source.read_text(encoding="latin-1")) + [BODY])
    run = import_file(source, None, "")
    refresh(run)
    assert (run / "report.md").is_file() and (run / "turns.jsonl").is_file()
    assert recoverable(run) == []
    lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    bodies = [line[part] for line in lines for part in ("request", "response")]
    assert len(bodies) == 2 * len(ENCODINGS) * (2 if name == "har" else 1)
    # Each decoded, its encoding said, the key masked as a fingerprint where it was.
    assert all(body["body_format"] == "json" and body["content_encoding"] for body in bodies), bodies
    assert all("DB_PASSWORD=[REDACTED sha256:" in body["body"]["messages"][0]["content"] for body in bodies)
