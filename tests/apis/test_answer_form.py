"""An answer in the other form than the request asked for (a stream for `stream: false`, one JSON body for
`stream: true`, a stream from Gemini's `:generateContent`) is named in the report: the client could not read it,
however complete the exchange looked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import captured_exchange

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANALYZE = "probe.analysis.analyze"

RESPONSES_STREAM = (
    'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed",'
    '"output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],'
    '"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
)
RESPONSES_JSON = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}],
    "usage": {"input_tokens": 5, "output_tokens": 1},
}
CHAT_STREAM = (
    'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},'
    '"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)
GEMINI_CHUNK = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}
JSON_HEADERS = (("content-type", "application/json"),)
SSE_HEADERS = (("content-type", "text/event-stream"),)
GEMINI = "https://generativelanguage.googleapis.com"
GEMINI_REQUEST = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
ASKED_JSON = "asked for one JSON body and was answered with a stream"
ASKED_STREAM = "asked for a stream and was answered with one JSON body"

CASES = {
    "responses stream:false answered with SSE": (
        captured_exchange("/v1/responses", {"model": "m", "input": "hi", "stream": False}, RESPONSES_STREAM),
        ASKED_JSON,
    ),
    "responses stream:true answered with JSON": (
        captured_exchange(
            "/v1/responses",
            {"model": "m", "input": "hi", "stream": True},
            RESPONSES_JSON,
            response_headers=JSON_HEADERS,
        ),
        ASKED_STREAM,
    ),
    "chat stream:false answered with SSE": (
        captured_exchange(
            "/v1/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": False},
            CHAT_STREAM,
        ),
        ASKED_JSON,
    ),
    "gemini generateContent answered with SSE": (
        captured_exchange(
            "/v1beta/models/gemini-2.5-pro:generateContent",
            GEMINI_REQUEST,
            f"data: {json.dumps(GEMINI_CHUNK)}\n\n",
            host=GEMINI,
        ),
        ASKED_JSON,
    ),
    "responses stream:true answered with SSE": (
        captured_exchange("/v1/responses", {"model": "m", "input": "hi", "stream": True}, RESPONSES_STREAM),
        None,
    ),
    "responses stream:false answered with JSON": (
        captured_exchange(
            "/v1/responses",
            {"model": "m", "input": "hi", "stream": False},
            RESPONSES_JSON,
            response_headers=JSON_HEADERS,
        ),
        None,
    ),
    "gemini streamGenerateContent answered with a JSON array": (
        captured_exchange(
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            GEMINI_REQUEST,
            [GEMINI_CHUNK],
            host=GEMINI,
            response_headers=JSON_HEADERS,
        ),
        None,
    ),
    "gemini streamGenerateContent?alt=sse answered with SSE": (
        captured_exchange(
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            GEMINI_REQUEST,
            f"data: {json.dumps(GEMINI_CHUNK)}\n\n",
            host=GEMINI,
            response_headers=SSE_HEADERS,
        ),
        None,
    ),
    "an error answered in JSON to a stream request": (
        captured_exchange(
            "/v1/responses",
            {"model": "m", "input": "hi", "stream": True},
            {"error": {"message": "bad key", "type": "invalid_request_error"}},
            response_headers=JSON_HEADERS,
            status=401,
        ),
        None,
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_answer_in_the_other_form_is_named(case, tmp_path):
    record, expected = CASES[case]
    (tmp_path / "traffic.jsonl").write_text(json.dumps(record) + "\n")
    output = tmp_path / "report.md"
    result = subprocess.run(
        [sys.executable, "-m", ANALYZE, "--input", str(tmp_path / "traffic.jsonl"), "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = output.read_text()
    if expected is None:
        assert ASKED_JSON not in report and ASKED_STREAM not in report
        assert ASKED_JSON not in result.stderr and ASKED_STREAM not in result.stderr
    else:
        line = f"exchange #1: the request {expected}"
        assert line in report, report[:3000]
