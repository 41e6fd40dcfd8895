"""Nothing the agent sent is invisible: the report, read against the capture, shows every field and part."""

import json
from pathlib import Path

from conftest import captured_exchange

from probe.analysis.report import build_report, write_report
from probe.read.whole_turns import whole_turns
from probe.runs.importer import import_renderer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OPENAI = import_renderer("probe.apis.openai_responses.report")
ANTHROPIC = import_renderer("probe.apis.anthropic_messages.report")


def report_of(tmp_path: Path, renderer, *exchanges: tuple[dict, list | dict]) -> str:
    """The report of HTTP exchanges: each a request body and its SSE events (a list) or JSON answer (a dict)."""
    lines = []
    for request, answer in exchanges:
        streamed = isinstance(answer, list)
        body = "".join(f"data: {json.dumps(event)}\n\n" for event in answer) if streamed else answer
        content_type = "text/event-stream" if streamed else "application/json"
        lines.append(
            captured_exchange(
                "/v1/x",
                request,
                body,
                host="https://x",
                request_headers=[],
                response_headers=[["content-type", content_type]],
            )
        )
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report, warnings = build_report(traffic, renderer, None)
    assert warnings == []
    return report


def test_codex_sample_shows_item_ids_metadata_part_kinds_and_one_tool_table():
    [sample] = (PROJECT_ROOT / "data" / "codex").glob("*-sample-http")
    report = (sample / "report.md").read_text()
    request = json.loads((sample / "traffic.jsonl").read_text().splitlines()[1])["request"]["body"]
    for item in request["input"]:
        assert f"id `{item['id']}`" in report  # every item's id
    passthrough = request["input"][2]["internal_chat_message_metadata_passthrough"]
    assert json.dumps(passthrough["turn_id"]) in report  # its metadata, as sent
    # Each part of a message under its own heading, named by the kind codex gave it.
    for position, kind in enumerate(passthrough["content_item_kinds"], start=1):
        assert f"**part {position} of 3: input_text**: kind `{kind}`" in report
    first_request = report.split("### #3 ")[0]
    assert first_request.count("<details><summary>Tool table (11, in 3 namespaces)</summary>") == 1
    assert first_request.count("<details><summary>Full tool definitions</summary>") == 1
    assert "input[1] additional_tools developer: declares_tools 11" in first_request


def test_unknown_content_parts_are_shown_raw_and_listed(tmp_path):
    request = {
        "model": "m",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "hi"},
                    {"type": "input_audio", "input_audio": {"format": "wav", "data": "UklG"}},
                ],
            }
        ],
    }
    answer = [
        {
            "type": "response.output_item.done",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "refusal", "refusal": "I will not."}],
            },
        },
        {"type": "response.completed", "response": {"id": "r", "status": "completed"}},
    ]
    report = report_of(tmp_path, OPENAI, (request, answer))
    assert "content part input_audio" in report and "content part refusal" not in report  # in "Unrecognised"
    assert '"format": "wav"' in report  # the unknown part, raw
    assert "**Output text**\n\n```text\nI will not.\n```" in report  # a refusal is the model's words: text


def test_an_unknown_event_type_is_shown_once_with_its_payload(tmp_path):
    rate = {"type": "codex.rate_limits", "primary": {"used_percent": 7}}
    answer = [rate, {"type": "response.completed", "response": {"id": "r", "status": "completed"}}]
    report = report_of(tmp_path, OPENAI, ({"model": "m", "input": "a"}, answer), ({"model": "m", "input": "b"}, answer))
    assert report.count('"used_percent": 7') == 1
    assert "Unknown event codex.rate_limits: as shown in #1" in report
    assert "- Unrecognised: 1 kind (event codex.rate_limits)" in report


def test_claude_code_is_error_false_types_as_sent_and_a_search_result_block(tmp_path):
    request = {
        "model": "claude",
        "max_tokens": 10,
        "tools": [
            {"name": "Bash", "description": "Run it.", "input_schema": {}},
            {"type": "web_search_20250305", "name": "web_search"},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "tu_1", "content": "done", "is_error": False},
                    {"type": "search_result", "source": "https://example.com", "title": "Found", "content": []},
                ],
            }
        ],
    }
    answer = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "stop_reason": "end_turn",
        "content": [{"type": "text", "text": "ok"}],
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    report = report_of(tmp_path, ANTHROPIC, (request, answer))
    assert "(call_id `tu_1`); is_error `false`" in report
    assert "| Bash |  | Run it. |  |" in report and "| web_search | web_search_20250305 |" in report
    assert '"title": "Found"' in report and "content block search_result" in report


def test_a_200_turn_session_in_bare_deltas_keeps_every_answer(tmp_path):
    """The original tool's shape, at length: no item events, no ids, no indices, each request re-sending the
    history; with no target and no manifest, every turn's answer and reasoning reach turns.jsonl, report.md and
    the viewer."""
    history, lines = [], []
    for number in range(1, 201):
        history.append({"role": "user", "type": "message", "content": f"Step {number}: extend the parser."})
        answer = f"Answer {number}: the parser now handles case {number}."
        events = [
            {"type": "response.created", "response": {"id": f"resp_{number}"}},
            {"type": "response.reasoning_summary_text.delta", "delta": f"Thinking about case {number}"},
            {"type": "response.reasoning_summary_text.delta", "delta": " before answering."},
            {"type": "response.reasoning_summary_text.done"},
            *[{"type": "response.output_text.delta", "delta": piece} for piece in answer.split(" ")[:-1]],
            {"type": "response.output_text.delta", "delta": answer.split(" ")[-1]},
            {"type": "response.output_text.done"},
            {"type": "response.completed", "response": {"id": f"resp_{number}", "usage": {"input_tokens": number}}},
        ]
        for event in events[4:-3]:  # the pieces, with the spaces that split them put back (the last has none)
            event["delta"] += " "
        body = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
        lines.append(
            {
                "timestamp": 1707000000.0 + number,
                "request": {
                    "method": "POST",
                    "url": "https://api.openai.com/v1/responses",
                    "headers": {"content-type": "application/json"},
                    "body": {"model": "o4-mini", "stream": True, "input": list(history)},
                },
                "response": {"status_code": 200, "headers": {"content-type": "text/event-stream"}, "body": body},
            }
        )
        history.append({"role": "assistant", "type": "message", "content": answer})
    traffic = tmp_path / "capture.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report_path, _ = write_report(traffic, tmp_path / "session.md", None, tmp_path)
    report = report_path.read_text()
    turns = list(whole_turns(tmp_path / "session.turns.jsonl"))
    page = report_path.with_suffix(".html").read_text()
    assert len(turns) == 200
    for number, turn in enumerate(turns, start=1):
        answer = f"Answer {number}: the parser now handles case {number}."
        reasoning, message = turn["output"]
        assert [(part["kind"], part["text"], part["complete"]) for part in message["parts"]] == [("text", answer, True)]
        assert reasoning["parts"][0]["text"] == f"Thinking about case {number} before answering."
        assert f"```text\n{answer}\n```" in report and json.dumps(answer)[1:-1] in page
        # The history re-sends each answer as a plain message, not as the reasoning and text it streamed: what
        # the previous request sent is carried over, its answer is new.
        assert turn["usage"]["input"] == number and turn["carried"] == (
            None if number == 1 else {"items": 2 * number - 3, "source": number - 1, "by": "prefix"}
        )
    assert "cut off" not in report
    assert "- Tokens: 200 turns with usage: input 20,100; not reported: cache read, cache write, output, reasoning" in (
        report
    )
