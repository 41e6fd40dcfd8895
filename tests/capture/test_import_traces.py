"""claude-tap traces (its JSONL and a session's JSON), agent-probe's own traffic.jsonl and the original tool's JSONL
imported (`probe.import_capture`): each exchange read by its API's reader, a codex WebSocket turn kept as one,
claude-tap's times where it gives them and none made up where it does not."""

import json
import shutil
from datetime import UTC, datetime

import pytest

from probe.analysis import analyze
from probe.common.paths import PROJECT_ROOT
from probe.import_capture import import_file
from probe.read.whole_turns import whole_turns

SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
ORIGINAL = PROJECT_ROOT / "tests/corpus/openai.responses/original-tool-format.jsonl"
ANTHROPIC_ANSWER = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "Tapped hello"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 20, "cache_read_input_tokens": 100, "output_tokens": 4},
}


def event(kind: str, **fields) -> dict:
    """An event as claude-tap keeps a stream's events when asked to: {event, data}, the data parsed."""
    return {"event": kind, "data": {"type": kind, **fields}}


ANTHROPIC_EVENTS = [
    event("message_start", message={**ANTHROPIC_ANSWER, "content": []}),
    event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Tapped hello"}),
    event("content_block_stop", index=0),
    event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 4}),
    event("message_stop"),
]
ANTHROPIC_REQUEST = {"model": "claude-x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8"}
CODEX_REQUEST = {"type": "response.create", "model": "gpt-z", "input": [{"role": "user", "content": "hello"}]}


def codex_answer(status: str) -> dict:
    message = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi from codex"}]}
    usage = {"input_tokens": 50, "output_tokens": 6, "total_tokens": 56}
    return {"id": "resp_9", "object": "response", "status": status, "model": "gpt-z", "output": [message]} | (
        {"usage": usage} if status == "completed" else {}
    )


def record(path: str, method: str, request_body, status: int, headers: dict, body, **more) -> dict:
    """A record as claude-tap's proxy builds one."""
    return {
        "timestamp": "2026-06-27T16:40:24.500000+00:00",
        "request_id": "req_1",
        "turn": 1,
        "duration_ms": 1500,
        "request": {"method": method, "path": path, "headers": {"Host": "127.0.0.1:61341"}, "body": request_body},
        "response": {"status": status, "headers": headers, "body": body},
        **more,
    }


TAP_LINES = [
    record("/v1/messages?beta=true", "POST", ANTHROPIC_REQUEST, 200, SSE_HEADERS, ANTHROPIC_ANSWER,
           upstream_base_url="https://api.anthropic.com") | {"response": {"status": 200, "headers": SSE_HEADERS,
                                                             "body": ANTHROPIC_ANSWER, "sse_events": ANTHROPIC_EVENTS}},
    record("/v1/messages?beta=true", "POST", ANTHROPIC_REQUEST, 200, SSE_HEADERS, ANTHROPIC_ANSWER),
    record("/v1/responses", "WEBSOCKET", CODEX_REQUEST, 101, {}, codex_answer("completed"), transport="websocket"),
    {"timestamp": "2026-06-27T16:40:25Z", "request_id": "req_4", "request": ["not", "a", "request"]},
]  # fmt: skip
SESSION = {
    "session": "00000000-0000-0000-0000-000000000001",
    "agent": "codex",
    "task": "say hello",
    "packets": [
        {"index": 1, "method": "POST", "path": "/v1/messages", "http_status": 200, "summary": {},
         "request": {"headers": {}, "body": ANTHROPIC_REQUEST},
         "response": {"status": 200, "headers": SSE_HEADERS, "body": ANTHROPIC_ANSWER}},
        {"index": 2, "method": "WEBSOCKET", "path": "/v1/responses", "http_status": 101, "summary": {},
         "request": {"headers": {}, "body": CODEX_REQUEST},
         "response": {"status": 101, "headers": {}, "body": codex_answer("in_progress")}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict:
    """Each file imported once and analysed: its run folder, manifest, traffic lines and turns."""
    root = tmp_path_factory.mktemp("traces")
    sources = {
        "tap": "\n".join(json.dumps(line) for line in TAP_LINES) + "\n",
        "session": json.dumps(SESSION, indent=2),
    }
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(root / "data"))
        for name in ("tap", "session", "own", "original"):
            source = root / f"{name}.trace"
            if name in sources:
                source.write_text(sources[name])
            else:
                shutil.copyfile(SAMPLE / "traffic.jsonl" if name == "own" else ORIGINAL, source)
            run = import_file(source, None, name)
            assert analyze.main(["--run", str(run)]) == 0
            lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
            manifest = json.loads((run / "manifest.json").read_text())["imported"]
            runs[name] = manifest, lines, list(whole_turns(run / "turns.jsonl"))
    return runs


def texts(turn: dict) -> list:
    return [part["text"] for item in turn["output"] for part in item["parts"] if part["kind"] == "text"]


def test_a_claude_tap_trace_is_read_by_each_api_reader_with_the_times_it_gives(imported):
    manifest, lines, turns = imported["tap"]
    assert (manifest["format"], manifest["entries"], manifest["skipped"]) == ("claude-tap trace", 3, 1)
    assert [(turn["kind"], turn["api"]) for turn in turns] == [
        ("http", "anthropic.messages"),
        ("http", "anthropic.messages"),
        ("websocket", "openai.responses"),
    ]
    # The stream rebuilt from its kept events, or the reassembled answer where none were kept: the same turn.
    assert lines[0]["response"]["body"].startswith("event: message_start\ndata: {")
    assert lines[1]["response"]["body_format"] == "json"
    for turn in turns[:2]:
        assert texts(turn) == ["Tapped hello"]
        assert (turn["usage"]["input"], turn["usage"]["cache_read"], turn["usage"]["output"]) == (120, 100, 4)
    # The upstream where the trace names it, else the proxy's own address the agent spoke to.
    assert [line["request"]["url"] for line in lines[:2]] == [
        "https://api.anthropic.com/v1/messages?beta=true",
        "http://127.0.0.1:61341/v1/messages?beta=true",
    ]
    # claude-tap stamps a record when the answer ended, and says how long it took: nothing else is known.
    end = datetime(2026, 6, 27, 16, 40, 24, 500000, tzinfo=UTC).timestamp()
    assert lines[0]["timing"] == {
        "start": end - 1.5,
        "request_end": None,
        "response_headers": None,
        "first_byte": None,
        "end": end,
    }


def test_a_codex_websocket_turn_is_its_request_and_the_answer_that_ends_it(imported):
    _, lines, turns = imported["tap"]
    socket = lines[2]
    assert (socket["kind"], socket["complete"], socket["ended_by"]) == ("websocket", True, "terminal-event")
    sent, answer = socket["messages"]
    assert (sent["from"], sent["body"]["type"], answer["from"], answer["body"]["type"]) == (
        "client",
        "response.create",
        "server",
        "response.completed",
    )
    assert sent["t"] is None and answer["t"] is None  # frames' times the trace does not keep
    assert texts(turns[2]) == ["Hi from codex"] and turns[2]["usage"]["input"] == 50


def test_a_claude_tap_session_imports_without_times_and_a_cut_answer_stays_cut(imported):
    manifest, lines, turns = imported["session"]
    assert (manifest["format"], manifest["entries"], manifest["skipped"]) == ("claude-tap session", 2, 0)
    assert [turn["api"] for turn in turns] == ["anthropic.messages", "openai.responses"]
    assert all(value is None for line in lines for value in line["timing"].values())
    # A Responses object still in progress: its event says so, and the turn is not complete.
    assert lines[1]["messages"][1]["body"]["type"] == "response.in_progress"
    assert lines[1]["complete"] is False and turns[1]["complete"] is False


def test_agent_probes_own_traffic_jsonl_imports_back_with_the_same_turns(imported):
    manifest, _, turns = imported["own"]
    original = list(whole_turns(SAMPLE / "turns.jsonl"))
    assert (manifest["format"], manifest["skipped"]) == ("agent-probe traffic.jsonl", 0)
    assert len(turns) == len(original) == manifest["entries"] >= 2
    for new, old in zip(turns, original, strict=True):
        for key in ("api", "model", "input", "output", "tools", "usage", "timing", "proxy"):
            assert new[key] == old[key], key


def test_the_original_tools_jsonl_imports_with_its_one_time(imported):
    manifest, lines, turns = imported["original"]
    source = [json.loads(line) for line in ORIGINAL.read_text().splitlines()]
    assert (manifest["format"], manifest["entries"], manifest["skipped"]) == ("original tool's JSONL", len(source), 0)
    assert [line["timing"]["start"] for line in lines] == [entry["timestamp"] for entry in source]
    assert all(line["timing"]["end"] is None for line in lines)
    assert [turn["api"] for turn in turns] == ["openai.responses"] * len(source)
    assert any(texts(turn) for turn in turns)
