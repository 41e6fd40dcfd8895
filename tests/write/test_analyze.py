"""The generic analyzer: report sections, the original tool's format, and damaged captures."""

import json

import pytest
from conftest import captured_exchange, run_manifest

from probe.analysis.analyze import main as analyze_main
from probe.common.errors import run_main
from probe.read.whole_turns import whole_turns

SSE = (
    'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n'
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"m","delta":"Hello"}\n\n'
    'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed",'
    '"usage":{"input_tokens":100,"output_tokens":5,"total_tokens":105,'
    '"input_tokens_details":{"cached_tokens":40}}}}\n\n'
)


def entry(**overrides):
    line = captured_exchange(
        "/v1/responses",
        {"model": "gpt-x", "input": [{"type": "message", "role": "user", "content": "hi"}]},
        SSE,
        request_headers=[["authorization", "Bearer sk-abcdefghijklmnop"], ["content-type", "application/json"]],
    )
    line["request"]["body_size"], line["response"]["body_size"] = 80, len(SSE)
    return line | overrides


def analyze(tmp_path, lines, capsys, target="codex"):
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_bytes(
        b"".join(line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode() for line in lines)
    )
    code = run_main(
        analyze_main, ["--input", str(traffic), "--output", str(tmp_path / "report.md"), "--target", target]
    )
    captured = capsys.readouterr()
    report = (tmp_path / "report.md").read_text() if code == 0 else ""
    return code, report, captured.err


def test_report_has_header_tables_structure_and_log(tmp_path, capsys):
    code, report, _ = analyze(tmp_path, [entry(), entry(id="f2")], capsys)
    assert code == 0
    assert "- Totals: 2 exchanges (2 HTTP, 0 WebSocket)" in report
    tokens = "- Tokens: 2 turns with usage: input 200, cache read 80, output 10; not reported: cache write, reasoning"
    assert tokens in report
    assert "- Read as: `openai.responses` ×2 (`probe.apis.openai_responses.report`)" in report
    assert "| model | `/v1/responses` | POST | 2 |" in report
    assert "| 200 | 2 |" in report
    assert "| `input[].content` | string | 1 |" in report  # the repeated history is counted once
    assert "**Input**: + 0 new items; 1 carried over from #1" in report
    assert "### #1 POST `/v1/responses` → 200 (model)" in report
    assert "time to first byte 5.0 ms; duration 250.0 ms" in report
    assert "Hello" in report and "response.completed ×1" in report
    # Headers are redacted again at render time, for captures made before redaction existed.
    assert "sk-" + "abcdefghijklmnop" not in report and "[REDACTED sha256:" in report


def test_original_tool_format_is_read(tmp_path, capsys):
    legacy = {
        "timestamp": 1700000000.0,
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/responses",
            "headers": {"content-type": "application/json"},
            "body": {"model": "gpt-4", "input": "hey"},
        },
        "response": {"status_code": 200, "headers": {"content-type": "text/event-stream"}, "body": SSE},
    }
    code, report, _ = analyze(tmp_path, [legacy], capsys)
    assert code == 0
    assert "### #1 POST `/v1/responses` → 200 (legacy)" in report
    assert '- **model**: `"gpt-4"`' in report and "Hello" in report


def test_original_tool_captures_show_calls_from_done_events_sizes_and_no_missing_status(tmp_path, capsys):
    """The original tool's captures, read against the report it made from them: a tool call that arrives only
    as `response.function_call_arguments.done`, a final event without a status, and JSON bodies without sizes."""
    events = [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 0,
            "name": "shell",
            "call_id": "call_1",
            "arguments": '{"command": ["ls"]}',
        },
        {
            "type": "response.completed",
            "response": {"id": "resp_1", "usage": {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}},
        },
    ]
    stream = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    body = {"model": "gpt-4", "input": "list the files"}
    legacy = {
        "timestamp": 1700000000.0,
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/responses",
            "headers": {"content-type": "application/json"},
            "body": body,
        },
        "response": {"status_code": 200, "headers": {"content-type": "text/event-stream"}, "body": stream},
    }
    code, report, _ = analyze(tmp_path, [legacy], capsys)
    assert code == 0
    assert "**Tool call** `shell` (call_id `call_1`)" in report and '"ls"' in report
    assert "**Response**: id `resp_1`" in report and "None" not in report
    sent = len(json.dumps(body, separators=(",", ":")))
    assert f"{sent:,} bytes sent, {len(stream):,} bytes received" in report


def test_damaged_lines_are_skipped_with_warnings(tmp_path, capsys):
    lines = [
        entry(),
        b"garbage that is not json\n",
        b"\xff\xfe not utf-8\n",
        b"[1, 2]\n",
        {"schema": 1, "kind": "http", "request": "wrong type"},
        entry(id="f3"),
        b'{"schema": 1, "kind": "ht',
    ]
    code, report, err = analyze(tmp_path, lines, capsys)
    assert code == 0
    assert "- Totals: 2 exchanges" in report
    for line in (2, 3, 4, 5):
        assert f"warning: line {line}:" in err
    assert "line 7: not valid JSON, skipped (the last line is cut off" in err
    assert "- Warning: line 7:" in report
    assert "Traceback" not in err


def test_websocket_exchange_renders_like_http(tmp_path, capsys):
    frames = [
        {
            "from": "client",
            "t": 1.0,
            "type": "text",
            "body_format": "json",
            "body": {"type": "response.create", "model": "gpt-x", "previous_response_id": "resp_1", "input": []},
        },
        {
            "from": "server",
            "t": 1.01,
            "type": "text",
            "body_format": "json",
            "body": {
                "type": "response.completed",
                "response": {"id": "resp_2", "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}},
            },
        },
    ]
    socket = entry(kind="websocket", messages=frames, timing={"start": 1.0, "first_byte": 1.01, "end": 1.01})
    socket["request"] = {"method": "GET", "url": "http://x/v1/responses", "path": "/v1/responses", "headers": []}
    socket["response"] = {"status": 101, "headers": []}
    _code, report, _ = analyze(tmp_path, [entry(), socket], capsys)
    assert "### #2 WebSocket GET `/v1/responses` (model)" in report
    assert "Continues response `resp_1` from exchange #1" in report
    assert "2 WebSocket messages (1 from the client)" in report


def test_missing_input_and_unknown_target_give_one_line(tmp_path, capsys):
    assert run_main(analyze_main, ["--input", str(tmp_path / "absent.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "absent.jsonl: no such file" in err
    (tmp_path / "t.jsonl").write_text(json.dumps(entry()) + "\n")
    assert run_main(analyze_main, ["--input", str(tmp_path / "t.jsonl"), "--target", "nope"]) == 2
    assert 'unknown target "nope"' in capsys.readouterr().err


def test_without_a_target_each_model_call_is_read_by_its_api_and_the_rest_are_other_requests(tmp_path, capsys):
    analytics = entry(id="f2")
    analytics["request"] |= {"url": "https://x/api/track", "path": "/api/track", "body": {"event": "started"}}
    analytics["response"] |= {"headers": [["content-type", "application/json"]], "body": {"ok": True}}
    analytics["response"] |= {"body_format": "json", "body_size": 11}
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(entry()) + "\n" + json.dumps(analytics) + "\n")
    assert run_main(analyze_main, ["--input", str(traffic)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "- Read as: `openai.responses` ×1 (`probe.apis.openai_responses.report`)\n" in report
    assert "### #2 " not in report and '"event": "started"' not in report
    first = report[report.index("### #1 ") :]
    assert '- **model**: `"gpt-x"`' in first and "**Output text**" in first and "Request JSON" not in first
    # The analytics call is another request, with its sizes, in the Other hosts section and insight.jsonl.
    assert "| `x` | unknown | 1 | POST ×1 | 80 | 11 | 0 | 0 |" in report
    assert "- Requests: `POST /api/track` ×1" in report
    turns = list(whole_turns(tmp_path / "turns.jsonl"))
    assert [turn["api"] for turn in turns] == ["openai.responses"] and turns[0]["usage"]["input"] == 100
    insight = [json.loads(line) for line in (tmp_path / "insight.jsonl").read_text().splitlines()]
    [request] = [line for line in insight if line["record"] == "request"]
    assert (request["number"], request["path"], request["bytes_sent"], request["bytes_received"]) == (
        2, "/api/track", 80, 11
    )  # fmt: skip


def test_a_failing_renderer_costs_one_exchange_not_the_report(tmp_path, capsys, monkeypatch):
    from probe.apis.openai_responses import report as openai_responses

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(openai_responses, "render_response", broken)
    code, report, err = analyze(tmp_path, [entry()], capsys)
    assert code == 0 and "exchange #1: the renderer failed (RuntimeError: boom)" in err
    assert "response text" in report and '- **model**: `"gpt-x"`' in report


def test_report_masks_tokens_and_url_secrets_unless_asked_not_to(tmp_path, capsys):
    line = entry()
    line["request"]["url"] = "https://g.example/v1/x?alt=sse&api_key=plainurlsecret"
    line["request"]["body"]["input"][0]["content"] = "use sk-ant-api03-ABCDEFGHIJKL please"
    code, report, _ = analyze(tmp_path, [line], capsys)
    assert code == 0 and "plainurlsecret" not in report and "sk-ant-api03-" + "ABCDEFGHIJKL" not in report
    assert "api_key=[REDACTED sha256:" in report
    traffic = tmp_path / "traffic.jsonl"
    assert (
        run_main(
            analyze_main,
            ["--input", str(traffic), "--output", str(tmp_path / "raw.md"), "--no-redact", "--target", "codex"],
        )
        == 0
    )
    assert "sk-ant-api03-" + "ABCDEFGHIJKL" in (tmp_path / "raw.md").read_text()


def test_report_of_a_run_still_marked_running_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "traffic.jsonl").write_text(json.dumps(entry()) + '\n{"schema": 1, "kind": "ht')
    (run / "manifest.json").write_text(json.dumps({"target": "codex", "status": "running"}))
    assert run_main(analyze_main, ["--run", str(run)]) == 0
    report = (run / "report.md").read_text()
    assert "status **running**" in report and "this run is marked running" in report
    assert "- Totals: 1 exchange (" in report and "line 2: not valid JSON, skipped (the last line is cut off" in report


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_progress_shows_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text((json.dumps(entry()) + "\n") * 4000)
    command = [sys.executable, "-m", "probe.analysis.analyze", "--input", str(traffic), "--target", "codex"]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and "analysing" not in quiet.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
    assert process.wait(timeout=120) == 0
    assert b"analysing:" in output and b"MB" in output


def test_a_websocket_turn_ended_by_the_next_client_message_counts_as_incomplete(tmp_path, capsys):
    """Older captures marked such a turn complete; no terminal event ever came, so it is not."""
    frames = [
        {
            "from": "client",
            "t": 1.0,
            "type": "text",
            "body_format": "json",
            "body": {"type": "response.create", "model": "gpt-x", "input": []},
        },
        {
            "from": "server",
            "t": 1.01,
            "type": "text",
            "body_format": "json",
            "body": {"type": "response.created", "response": {"id": "resp_2"}},
        },
    ]
    socket = entry(
        kind="websocket",
        messages=frames,
        complete=True,
        ended_by="next-client-message",
        timing={"start": 1.0, "first_byte": 1.01, "end": 1.01},
    )
    socket["request"] = {"method": "GET", "url": "http://x/v1/responses", "path": "/v1/responses", "headers": []}
    socket["response"] = {"status": 101, "headers": []}
    code, report, _ = analyze(tmp_path, [entry(), socket], capsys)
    assert code == 0 and "- Incomplete exchanges: 1" in report


def test_a_key_streamed_in_pieces_is_masked_where_the_report_joins_them(tmp_path, capsys):
    """Each delta is too short to be a token when it is captured; the report's output text joins them."""
    from probe.redact.masking import RULES_VERSION, fingerprint

    key = "sk-proj-" + "AbCdEfGhIjKlMnOpQrStUv1234"
    deltas = ["Your key is sk-proj-Ab", "CdEfGhIj", "KlMnOpQrStUv1234"]
    stream = (
        'event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'
        + "".join(
            "event: response.output_text.delta\ndata: "
            + json.dumps({"type": "response.output_text.delta", "item_id": "m", "delta": delta})
            + "\n\n"
            for delta in deltas
        )
        + 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'
    )
    line = entry()
    line["response"]["body"] = stream
    run = tmp_path / "20261122-120000-split"
    run.mkdir()
    (run / "traffic.jsonl").write_text(json.dumps(line) + "\n")
    # The manifest says the capture was masked with the rules in force: the report masks all the same.
    (run / "manifest.json").write_text(json.dumps(run_manifest("codex", redaction=RULES_VERSION)))
    assert run_main(analyze_main, ["--run", str(run)]) == 0
    report = (run / "report.md").read_text()
    assert key not in report and f"Your key is {fingerprint(key)}" in report


def test_an_exchange_of_another_api_is_read_by_its_own_reader_and_the_report_says_so_once(tmp_path, capsys):
    """A codex run whose capture also holds Messages exchanges (a gateway, a second client): each is read by the
    Messages reader, the Responses ones by the target's, and the header names the others once."""
    messages = entry(id="m1")
    messages["request"] |= {
        "url": "https://x/v1/messages?beta=true",
        "path": "/v1/messages?beta=true",
        "body": {"model": "claude-x", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]},
    }
    stream = [
        {"type": "message_start", "message": {"id": "msg_1", "role": "assistant", "model": "claude-x", "content": []}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi from Messages"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        {"type": "message_stop"},
    ]
    body = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in stream)
    messages["response"] |= {"body": body, "body_size": len(body)}
    second = json.loads(json.dumps(messages))
    code, report, _ = analyze(tmp_path, [entry(), messages, entry(id="f3"), second], capsys)
    assert code == 0
    assert (
        "- Read as: `openai.responses` ×2 (`probe.apis.openai_responses.report`), "
        "`anthropic.messages` ×2 (`probe.apis.anthropic_messages.report`)" in report
    )
    notes = [line for line in report.splitlines() if line.startswith("- Note: ")]
    assert notes == [
        "- Note: 2 exchanges (#2, #4) speak `anthropic.messages`, not the API of the target's renderer: read and "
        "shown by `probe.apis.anthropic_messages.report`"
    ]
    for section in (report.split("### #2 ")[1].split("### #3 ")[0], report.split("### #4 ")[1]):
        assert "**Output text**\n\n```text\nHi from Messages\n```" in section and "**Message**: id `msg_1`" in section
    turns = list(whole_turns(tmp_path / "turns.jsonl"))
    assert [turn["api"] for turn in turns] == ["openai.responses", "anthropic.messages"] * 2
    assert turns[1]["usage"]["output"] == 4 and turns[1]["usage"]["input"] is None
