"""VCR.py, pytest-recording and go-vcr cassettes imported (`probe.import_capture`): a cassette written by vcrpy's
own serializer (a stream, bodies gzip-, brotli- and zstd-compressed as !!binary, and pytest-recording's
decode_compressed_response form), one in pydantic-ai's `parsed_body` form and a go-vcr one are each read by its
API's reader, with the texts, tool calls and usage they hold, and no time made up (go-vcr's duration kept)."""

import gzip
import json

import brotli
import pytest
import yaml
import zstandard
from secret_corpus import SECRETS
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import jsonserializer, yamlserializer

from probe.analysis import analyze
from probe.capture.imports import vcr_cassette
from probe.capture.imports.formats import detect
from probe.import_capture import import_file
from probe.read.whole_turns import whole_turns


def sse(events: list[tuple[str | None, dict | str]]) -> str:
    """A stream as an API sends it: each event's name (if it has one) and its data."""
    return "".join((f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events)


def block(kind: str, **fields) -> tuple[str, dict]:
    return kind, {"type": kind, **fields}


ANTHROPIC_SSE = sse(
    [
        block("message_start", message={"id": "m1", "model": "claude-x", "role": "assistant", "content": [],
                                        "usage": {"input_tokens": 12, "output_tokens": 1}}),
        block("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        block("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hello from "}),
        block("content_block_delta", index=0, delta={"type": "text_delta", "text": "a cassette"}),
        block("content_block_stop", index=0),
        block("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 7}),
        block("message_stop"),
    ]
)  # fmt: skip
CHAT_REQUEST = {"model": "gpt-x", "messages": [{"role": "user", "content": "say ok"}]}


def chat_answer(text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        }
    ).encode()


def vcrpy_cassette() -> str:
    """Four interactions as vcrpy records them (its Request, its response dict, its YAML serializer)."""
    chat = "https://api.openai.com/v1/chat/completions"
    json_headers = {"Content-Type": ["application/json"]}
    requests = [
        Request("POST", "https://api.anthropic.com/v1/messages", json.dumps({"model": "claude-x", "stream": True,
                "messages": [{"role": "user", "content": "hi"}]}), {"content-type": "application/json"}),
        *[Request("POST", chat, json.dumps(CHAT_REQUEST), {"content-type": "application/json"}) for _ in range(4)],
    ]  # fmt: skip
    sse_headers = {"Content-Type": ["text/event-stream"]}
    responses = [
        {"status": {"code": 200, "message": "OK"}, "headers": sse_headers, "body": {"string": ANTHROPIC_SSE}},
        *[
            {
                "status": {"code": 200, "message": "OK"},
                "headers": json_headers | {"Content-Encoding": [name]},
                "body": {"string": compress(chat_answer(f"ok {name}"))},
            }
            for name, compress in [("gzip", gzip.compress), ("br", brotli.compress), ("zstd", zstd)]
        ],
        # pytest-recording's decode_compressed_response: decoded, its Content-Encoding dropped.
        {
            "status": {"code": 200, "message": "OK"},
            "headers": json_headers,
            "body": {"string": chat_answer("ok plain")},
        },
    ]
    return serialize({"requests": requests, "responses": responses}, yamlserializer)


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "clock", "arguments": '{"zone":"UTC"}'}
RESPONSES_SSE = sse(
    [
        block("response.created", response={"id": "resp_1", "status": "in_progress", "output": []}),
        block("response.output_item.done", output_index=0, item=CALL),
        block("response.completed", response={"id": "resp_1", "status": "completed", "model": "gpt-y",
                                              "output": [CALL], "usage": {"input_tokens": 30, "output_tokens": 5}}),
    ]
)  # fmt: skip
# pydantic-ai's form of a VCR.py cassette: the request body kept parsed (`parsed_body`), keys sorted.
PARSED_BODY = {
    "interactions": [
        {
            "request": {
                "headers": {"content-type": ["application/json"]},
                "method": "POST",
                "parsed_body": {
                    "input": [{"content": "what time is it", "role": "user"}],
                    "model": "gpt-y",
                    "stream": True,
                    "tools": [{"name": "clock", "parameters": {"type": "object"}, "type": "function"}],
                },
                "uri": "https://api.openai.com/v1/responses",
            },
            "response": {
                "body": {"string": RESPONSES_SSE},
                "headers": {"content-type": ["text/event-stream; charset=utf-8"]},
                "status": {"code": 200, "message": "OK"},
            },
        }
    ],
    "version": 1,
}


def chunk(**fields) -> tuple[None, dict]:
    return None, {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-x", **fields}


TOOL_START = {"index": 0, "id": "call_9", "type": "function", "function": {"name": "ls", "arguments": ""}}
TOOL_ARGUMENTS = {"index": 0, "function": {"arguments": '{"path":"."}'}}
USAGE = {
    "prompt_tokens": 40,
    "completion_tokens": 8,
    "total_tokens": 48,
    "prompt_tokens_details": {"cached_tokens": 32},
}
CHAT_SSE = (
    sse(
        [
            chunk(choices=[{"index": 0, "delta": {"role": "assistant", "tool_calls": [TOOL_START]}}]),
            chunk(choices=[{"index": 0, "delta": {"tool_calls": [TOOL_ARGUMENTS]}}]),
            chunk(choices=[{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
            chunk(choices=[], usage=USAGE),
        ]
    )
    + "data: [DONE]\n\n"
)
CHAT_TOOLS_REQUEST = {
    "model": "gpt-x",
    "stream": True,
    "messages": [{"role": "user", "content": "list files"}],
    "tools": [{"type": "function", "function": {"name": "ls", "parameters": {"type": "object"}}}],
}
# go-vcr's recorder's form (cassette version 2): version first, each request and response with Go's fields.
GO_VCR = {
    "version": 2,
    "interactions": [
        {
            "id": 0,
            "request": {
                "proto": "HTTP/1.1",
                "proto_major": 1,
                "proto_minor": 1,
                "content_length": 0,
                "host": "",
                "body": json.dumps(CHAT_TOOLS_REQUEST, separators=(",", ":")),
                "headers": {"Content-Type": ["application/json"]},
                "url": "https://api.openai.com/v1/chat/completions",
                "method": "POST",
            },
            "response": {
                "proto": "HTTP/2.0",
                "content_length": -1,
                "uncompressed": True,
                "body": CHAT_SSE,
                "headers": {"Content-Type": ["text/event-stream"]},
                "status": "200 OK",
                "code": 200,
                "duration": "1.5s",
            },
        },
        {
            "id": 1,
            "request": {
                "proto": "HTTP/1.1",
                "body": "",
                "form": {"grant_type": ["client_credentials"], "scope": ["read write"]},
                "headers": {"Content-Type": ["application/x-www-form-urlencoded"]},
                "url": "https://auth.example.com/token",
                "method": "POST",
            },
            "response": {
                "body": '{"ok":true}',
                "headers": {"Content-Type": ["application/json"]},
                "status": "403 Forbidden",
                "code": 403,
                "duration": "250ms",
            },
        },
    ],
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict:
    """Each cassette imported once and analysed: its run folder, its traffic lines and its turns."""
    root = tmp_path_factory.mktemp("cassettes")
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(root / "data"))
        for name, text in [
            ("vcrpy", vcrpy_cassette()),
            ("parsed", yaml.safe_dump(PARSED_BODY, allow_unicode=True)),
            ("go", "---\n" + yaml.safe_dump(GO_VCR, sort_keys=False, allow_unicode=True)),
        ]:
            source = root / f"{name}.cassette"  # the name says nothing of the format: the content does
            source.write_text(text)
            run = import_file(source, None, name)
            assert analyze.main(["--run", str(run)]) == 0
            lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
            runs[name] = run, lines, list(whole_turns(run / "turns.jsonl"))
    return runs


def texts(turn: dict) -> list:
    parts = [part for item in turn["output"] for part in item["parts"]]
    return [(part["kind"], part["text"] or part["name"], part["arguments"]) for part in parts]


def test_a_vcrpy_cassette_reads_its_stream_and_its_compressed_bodies(imported):
    run, lines, turns = imported["vcrpy"]
    manifest = json.loads((run / "manifest.json").read_text())["imported"]
    assert (manifest["format"], manifest["entries"], manifest["skipped"]) == ("VCR.py cassette", 5, 0)
    assert any(lost.startswith("timing") for lost in manifest["lost"])
    # No body of VCR.py's own was kept parsed: none lost its bytes to it.
    assert not [lost for lost in manifest["lost"] if "parsed" in lost]
    assert "parsed_body" not in (run / "report.md").read_text()
    assert [turn["api"] for turn in turns] == ["anthropic.messages"] + ["openai.chat_completions"] * 4
    assert texts(turns[0]) == [("text", "Hello from a cassette", None)]
    assert (turns[0]["usage"]["input"], turns[0]["usage"]["output"]) == (12, 7)
    for turn, name in zip(turns[1:], ["gzip", "br", "zstd", "plain"], strict=True):
        assert texts(turn) == [("text", f"ok {name}", None)] and turn["usage"]["output"] == 2
    # Decoded from their encoding, and said to be (the readers then take them as JSON, not as bytes still encoded).
    assert [line["response"].get("content_encoding") for line in lines] == [None, "gzip", "br", "zstd", None]
    assert lines[1]["response"]["body"]["choices"][0]["message"]["content"] == "ok gzip"
    # A cassette keeps no time: none is made up.
    assert all(value is None for line in lines for value in line["timing"].values())


def test_a_parsed_body_is_sent_again_as_compact_json_and_read_by_its_reader(imported):
    run, lines, turns = imported["parsed"]
    lost = json.loads((run / "manifest.json").read_text())["imported"]["lost"]
    assert lost.count(vcr_cassette.PARSED_LOST) == 1 and lost[: len(vcr_cassette.LOST)] == list(vcr_cassette.LOST)
    assert vcr_cassette.PARSED_LOST in (run / "report.md").read_text()
    request = lines[0]["request"]
    assert request["body_format"] == "json" and request["body"]["model"] == "gpt-y"
    assert request["body_size"] == len(json.dumps(request["body"], separators=(",", ":")))
    assert turns[0]["api"] == "openai.responses" and turns[0]["model"] == "gpt-y"
    assert texts(turns[0]) == [("tool_call", "clock", {"zone": "UTC"})]
    assert [tool["name"] for tool in turns[0]["tools"]] == ["clock"]
    assert (turns[0]["usage"]["input"], turns[0]["usage"]["output"]) == (30, 5)


def test_a_go_vcr_cassette_keeps_its_duration_and_nothing_else_of_time(imported):
    run, lines, turns = imported["go"]
    manifest = json.loads((run / "manifest.json").read_text())["imported"]
    assert (manifest["format"], manifest["entries"], manifest["skipped"]) == ("go-vcr cassette", 2, 0)
    assert [line["timing"] for line in lines] == [
        {"start": None, "request_end": None, "response_headers": None, "first_byte": None, "end": None, "duration": d}
        for d in (1.5, 0.25)
    ]
    assert lines[0]["request"]["http_version"] == "HTTP/1.1" and lines[0]["response"]["http_version"] == "HTTP/2.0"
    # The duration is the turn's, with no start and no time to the first byte invented.
    assert turns[0]["timing"] == {"start": None, "ttfb_ms": None, "duration_ms": 1500.0}
    assert turns[0]["api"] == "openai.chat_completions"
    assert texts(turns[0]) == [("tool_call", "ls", {"path": "."})]
    assert (turns[0]["usage"]["input"], turns[0]["usage"]["cache_read"], turns[0]["usage"]["output"]) == (40, 32, 8)
    # The form go-vcr parsed out of a body it sent is that body again; the status line's phrase is kept.
    token = lines[1]
    assert token["request"]["body"] == "grant_type=client_credentials&scope=read+write"
    assert (token["response"]["status"], token["response"]["reason"]) == (403, "Forbidden")


def test_vcrpys_json_serializer_is_read_as_its_yaml_is(tmp_path):
    request = Request("POST", "https://api.openai.com/v1/chat/completions", json.dumps(CHAT_REQUEST), {})
    answer = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": chat_answer("café / ok")}}
    source = tmp_path / "cassette"
    source.write_text(serialize({"requests": [request], "responses": [answer]}, jsonserializer))
    assert detect(source) is vcr_cassette
    (line,) = vcr_cassette.read(source)
    assert line["request"]["body"] == CHAT_REQUEST
    assert line["response"]["body"]["choices"][0]["message"]["content"] == "café / ok"


def test_secrets_a_cassette_holds_raw_are_masked_wherever_they_were(tmp_path, monkeypatch, capsys):
    """In a header, the URL, a gzip-compressed body (masked once decoded) and a go-vcr form: none reaches the run."""
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path / "data"))
    secrets = [SECRETS[32], SECRETS[30], SECRETS[0], SECRETS[2]]
    url = "https://api.openai.com/v1/chat/completions?session_token=" + SECRETS[30]
    request = Request("POST", url, json.dumps(CHAT_REQUEST), {"authorization": "Bearer " + SECRETS[32]})
    body = json.loads(chat_answer("ok")) | {"api_key": SECRETS[0], "metadata": {"db": {"password": SECRETS[2]}}}
    answer = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
        "body": {"string": gzip.compress(json.dumps(body).encode())},
    }
    form = GO_VCR["interactions"][1] | {
        "request": GO_VCR["interactions"][1]["request"] | {"form": {"api_key": [SECRETS[0]]}}
    }
    sources = {
        "vcr": serialize({"requests": [request], "responses": [answer]}, yamlserializer),
        "go": "---\n" + yaml.safe_dump({"version": 2, "interactions": [form]}, sort_keys=False),
    }
    for name, text in sources.items():
        source = tmp_path / name
        source.write_text(text)
        assert any(secret in text for secret in secrets)  # raw in the source
        run = import_file(source, None, name)
        assert analyze.main(["--run", str(run)]) == 0
        for path in run.rglob("*"):
            if path.is_file():
                written = path.read_text(errors="replace")
                for secret in secrets:
                    assert secret not in written and json.dumps(secret)[1:-1] not in written, (path.name, name)
        assert "unmasked" in json.loads((run / "manifest.json").read_text())["note"]
