"""The conversation model: turns.jsonl read against traffic.jsonl field by field, and every way an API delivers
text, tool calls and usage assembled."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import captured_exchange

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.openai_responses import reader as openai_responses
from probe.read.conversation import SCHEMA, Turn
from probe.read.sse import Event
from probe.read.traffic import iter_exchanges
from probe.read.whole_turns import whole_turns

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))


def analysed(sample: Path, tmp_path: Path) -> tuple[list[dict], list]:
    """turns.jsonl as `invoke analyze` writes it for a copy of the sample, and the sample's exchanges."""
    copy = tmp_path / sample.name
    copy.mkdir()
    for name in ("traffic.jsonl", "manifest.json"):
        (copy / name).write_bytes((sample / name).read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(copy)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    turns = list(whole_turns(copy / "turns.jsonl"))
    return turns, list(iter_exchanges(copy / "traffic.jsonl", []))


def request_bodies(exchange) -> list:
    if exchange.kind == "websocket":
        return [frame.body.value for frame in exchange.frames if frame.from_client and frame.body.is_json]
    return [exchange.request_body.value] if exchange.request_body.is_json else []


def content_texts(content) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.parent.name == "codex"], ids=lambda s: s.name)
def test_codex_turns_hold_what_the_traffic_holds(sample, tmp_path):
    turns, exchanges = analysed(sample, tmp_path)
    # Each model call is a turn, read as Responses; codex's backend calls (analytics, plugins, the model list) are
    # other requests, each with its line in insight.jsonl, never turns.
    model_calls = [exchange for exchange in exchanges if exchange.path.split("?", 1)[0].endswith("/responses")]
    assert model_calls and len(turns) == len(model_calls) and {turn["schema"] for turn in turns} == {SCHEMA}
    insight = (tmp_path / sample.name / "insight.jsonl").read_text().splitlines()
    others = [line for line in map(json.loads, insight) if line["record"] == "request"]
    assert [(line["number"], line["method"], line["path"]) for line in others] == [
        (exchange.number, exchange.method, exchange.path) for exchange in exchanges if exchange not in model_calls
    ]
    model_turns = 0
    for turn, exchange in zip(turns, model_calls, strict=True):
        assert (turn["number"], turn["method"], turn["path"], turn["status"], turn["complete"]) == (
            exchange.number,
            exchange.method,
            exchange.path,
            exchange.status,
            exchange.complete,
        )
        assert (turn["api"], turn["provider"]) == ("openai.responses", "openai")
        [body] = request_bodies(exchange) or [None]
        if not isinstance(body, dict) or "input" not in body:
            continue
        model_turns += 1
        assert turn["model"] == body["model"]
        assert set(turn["config"]) == set(body) - {"input", "instructions", "tools", "model", "previous_response_id"}
        assert turn["config"]["client_metadata"] == body["client_metadata"]
        assert turn["previous_response_id"] == body.get("previous_response_id")
        # Every input item, in order, with its id, its metadata and each content part apart.
        assert [item["id"] for item in turn["input"]] == [item.get("id") for item in body["input"]]
        for item, sent in zip(turn["input"], body["input"]):
            assert item["type"] == sent["type"] and item["role"] == sent.get("role")
            if "internal_chat_message_metadata_passthrough" in sent:
                assert (
                    item["metadata"]["internal_chat_message_metadata_passthrough"]
                    == sent["internal_chat_message_metadata_passthrough"]
                )
            if sent["type"] == "message":
                assert [part["text"] for part in item["parts"]] == content_texts(sent["content"])
            if sent["type"] == "function_call":
                [call] = item["parts"]
                assert (call["name"], call["call_id"], call["arguments"]) == (
                    f"{sent['namespace']}.{sent['name']}",
                    sent["call_id"],
                    json.loads(sent["arguments"]),
                )
                assert item["metadata"]["namespace"] == sent["namespace"]
            if sent["type"] == "function_call_output":
                assert item["parts"][0]["text"] == sent["output"]
        # Instructions: each developer text part is one block, named by the kind codex gave it.
        developer = [
            (item, part)
            for item in body["input"]
            if item.get("role") == "developer" and item["type"] == "message"
            for part in item["content"]
        ]
        assert [block["text"] for block in turn["system"]] == [part["text"] for _, part in developer]
        if developer:  # a request continuing a response by id sends only new items
            assert turn["system"][0]["metadata"] == {"kind": "model.base_instructions"}
        # Tools: those of additional_tools, each namespace first (its own fields, its description included),
        # then its tools, with their namespace, type as sent and a hash.
        declared = [
            tool
            for item in body["input"]
            if item["type"] == "additional_tools"
            for space in item["tools"]
            for tool in [{key: value for key, value in space.items() if key != "tools"}, *space["tools"]]
        ]
        assert [tool["namespace"] for tool in turn["tools"] if tool["type"] == "namespace"] == [""] * len(
            [tool for tool in declared if tool.get("type") == "namespace"]
        )
        assert [(tool["name"], tool["type"], tool["description"]) for tool in turn["tools"]] == [
            (tool["name"], tool.get("type"), tool.get("description", "")) for tool in declared
        ]
        assert all(len(tool["hash"]) == 16 for tool in turn["tools"])
        # The response: output items, usage in the API's kinds and normalised, the stop reason and ids.
        events = [event.data for event in exchange.stream_events()]
        [final] = [event["response"] for event in events if event.get("type") == "response.completed"]
        assert turn["response_id"] == final["id"] and turn["stop_reason"] == final["status"]
        if final.get("usage") is None:  # the warm-up request (generate: false) reports none
            assert turn["usage"] is None and body.get("generate") is False
        else:
            assert turn["usage"]["raw"] == final["usage"]
            assert turn["usage"]["input"] == final["usage"]["input_tokens"]
            assert turn["usage"]["output"] == final["usage"]["output_tokens"]
            assert turn["usage"]["cache_read"] == final["usage"]["input_tokens_details"]["cached_tokens"]
        deltas = "".join(event["delta"] for event in events if event.get("type") == "response.output_text.delta")
        texts = "".join(
            part["text"] or "" for item in turn["output"] for part in item["parts"] if part["kind"] == "text"
        )
        assert texts == deltas
        counted = {}
        for event in events:
            counted[event["type"]] = counted.get(event["type"], 0) + 1
        assert turn["events"] == counted
        assert (
            turn["request_bytes"] == sum(frame.body.size for frame in exchange.frames if frame.from_client)
            if exchange.kind == "websocket"
            else exchange.request_body.size
        )
    assert model_turns >= 2


def test_codex_history_carried_by_prefix_and_by_previous_response_id(tmp_path):
    [http] = [s for s in SAMPLES if s.name.endswith("sample-http")]
    turns, _ = analysed(http, tmp_path)
    posts = [turn for turn in turns if turn["method"] == "POST"]
    assert posts[0]["carried"] is None
    # The second request re-sends the first's 7 input items and its 2 output items (reasoning, the tool call).
    assert posts[1]["carried"] == {"items": 9, "source": posts[0]["number"], "by": "prefix"}
    [websocket] = [s for s in SAMPLES if s.name.endswith("sample-websocket")]
    turns, _ = analysed(websocket, tmp_path)
    continued = [turn for turn in turns if turn["previous_response_id"]]
    assert continued, "the WebSocket sample continues responses by id"
    for turn in continued:
        [origin] = [earlier for earlier in turns if earlier["response_id"] == turn["previous_response_id"]]
        context = (
            len(origin["input"]) + len(origin["output"]) + (origin["carried"] or {}).get("items", 0)
            if origin["previous_response_id"]
            else len(origin["input"]) + len(origin["output"])
        )
        assert turn["carried"] == {"items": context, "source": origin["number"], "by": "previous_response_id"}


def test_claude_code_turns_hold_what_the_traffic_holds(tmp_path):
    [sample] = [s for s in SAMPLES if s.parent.name == "claude-code" and s.name.endswith("sample-mock")]
    turns, exchanges = analysed(sample, tmp_path)
    answered = 0
    for turn, exchange in zip(turns, exchanges):
        body = exchange.request_body.value if exchange.request_body.is_json else None
        assert turn["api"] == "anthropic.messages"
        if not isinstance(body, dict) or "messages" not in body:
            continue
        assert turn["model"] == body["model"]
        assert set(turn["config"]) == set(body) - {"system", "messages", "tools", "model"}
        system = body["system"] if isinstance(body["system"], list) else [{"type": "text", "text": body["system"]}]
        assert [block["text"] for block in turn["system"]] == [block["text"] for block in system]
        assert [block["metadata"].get("cache_control") for block in turn["system"]] == [
            block.get("cache_control") for block in system
        ]
        # A tool carries its type only as sent: Claude Code's own tools send none.
        assert [(tool["name"], tool["type"], tool["schema"]) for tool in turn["tools"]] == [
            (tool["name"], tool.get("type"), tool.get("input_schema")) for tool in body["tools"]
        ]
        assert [item["role"] for item in turn["input"]] == [message["role"] for message in body["messages"]]
        for item, message in zip(turn["input"], body["messages"]):
            content = (
                message["content"]
                if isinstance(message["content"], list)
                else [{"type": "text", "text": message["content"]}]
            )
            assert [part["type"] for part in item["parts"]] == [block["type"] for block in content]
            for part, block in zip(item["parts"], content):
                if block["type"] == "tool_result":
                    assert part["call_id"] == block["tool_use_id"] and part["is_error"] == block.get("is_error")
                if block["type"] == "tool_use":
                    assert (part["name"], part["arguments"]) == (block["name"], block["input"])
        if exchange.stream_events():
            answered += 1
            events = [event.data for event in exchange.stream_events()]
            [start] = [event["message"] for event in events if event["type"] == "message_start"]
            [delta] = [event for event in events if event["type"] == "message_delta"]
            assert turn["response_id"] == start["id"] and turn["stop_reason"] == delta["delta"]["stop_reason"]
            usage = {**start["usage"], **delta["usage"]}
            assert turn["usage"]["raw"] == usage and turn["usage"]["output"] == usage["output_tokens"]
            assert turn["usage"]["input"] == usage["input_tokens"] + usage.get(
                "cache_creation_input_tokens", 0
            ) + usage.get("cache_read_input_tokens", 0)
    assert answered >= 2
    assert turns[-1]["carried"]["by"] == "prefix" and turns[-1]["carried"]["items"] >= 3


# Every way the Responses API delivers an answer -------------------------------------------------


def read(events=None, body=None, reader=openai_responses) -> Turn:
    turn = Turn(
        number=1, line=1, kind="http", proxy="p", method="POST", path="/", status=200, complete=True, api=reader.API
    )
    reader.read_response([Event(None, data) for data in events] if events is not None else None, body, turn)
    return turn


CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell", "arguments": '{"cmd": "ls"}'}


def calls(turn: Turn) -> list[tuple]:
    return [
        (part.name, part.call_id, part.arguments)
        for item in turn.output
        for part in item.parts
        if part.kind == "tool_call"
    ]


def texts(turn: Turn) -> str:
    return "".join(part.text or "" for item in turn.output for part in item.parts if part.kind == "text")


@pytest.mark.parametrize(
    "how, events",
    [
        ("a whole output item", [{"type": "response.output_item.done", "output_index": 0, "item": CALL}]),
        (
            "arguments .done only (the original tool's captures)",
            [
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": "fc_1",
                    "output_index": 0,
                    "name": "shell",
                    "call_id": "call_1",
                    "arguments": '{"cmd": "ls"}',
                }
            ],
        ),
        (
            "an added item and argument deltas, cut off before its .done",
            [
                {"type": "response.output_item.added", "output_index": 0, "item": {**CALL, "arguments": ""}},
                {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '{"cmd": '},
                {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '"ls"}'},
            ],
        ),
        (
            "the final response's output only",
            [{"type": "response.completed", "response": {"id": "r", "status": "completed", "output": [CALL]}}],
        ),
    ],
)
def test_a_tool_call_is_assembled_however_it_arrives(how, events):
    assert calls(read(events)) == [("shell", "call_1", {"cmd": "ls"})]


@pytest.mark.parametrize(
    "how, events",
    [
        (
            "deltas alone",
            [
                {"type": "response.output_text.delta", "item_id": "m", "delta": "Hel"},
                {"type": "response.output_text.delta", "item_id": "m", "delta": "lo"},
            ],
        ),
        ("a .done event alone", [{"type": "response.output_text.done", "item_id": "m", "text": "Hello"}]),
        (
            "deltas then .done",
            [
                {"type": "response.output_text.delta", "item_id": "m", "delta": "He"},
                {"type": "response.output_text.done", "item_id": "m", "text": "Hello"},
            ],
        ),
        (
            "a whole item",
            [
                {
                    "type": "response.output_item.done",
                    "item": {
                        "type": "message",
                        "id": "m",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "Hello"}],
                    },
                }
            ],
        ),
    ],
)
def test_text_is_assembled_however_it_arrives(how, events):
    turn = read(events)
    assert texts(turn) == "Hello" and [item.role for item in turn.output] == ["assistant"]


def test_reasoning_usage_and_a_completed_response_without_a_status():
    turn = read(
        [
            {"type": "response.reasoning_summary_text.delta", "item_id": "rs", "delta": "Think"},
            {
                "type": "response.completed",
                "response": {
                    "id": "r1",
                    "usage": {
                        "input_tokens": 10,
                        "output_tokens": 5,
                        "total_tokens": 15,
                        "input_tokens_details": {"cached_tokens": 4},
                        "output_tokens_details": {"reasoning_tokens": 2},
                    },
                },
            },
        ]
    )
    assert turn.stop_reason is None and turn.response_id == "r1"  # no status: None, never the text "None"
    assert [(part.kind, part.text) for item in turn.output for part in item.parts] == [("reasoning", "Think")]
    usage = turn.usage
    assert (usage.input, usage.output, usage.cache_read, usage.cache_write, usage.reasoning) == (10, 5, 4, None, 2)


def test_unknown_events_are_kept_once_per_kind_and_unknown_parts_raw():
    rate = {"type": "codex.rate_limits", "primary": {"used_percent": 3}}
    turn = read(
        [
            rate,
            dict(rate, primary={"used_percent": 4}),
            {
                "type": "response.output_item.done",
                "item": {
                    "type": "message",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": "a"},
                        {"type": "refusal", "refusal": "no"},
                        {"type": "input_audio", "input_audio": {"format": "wav"}},
                    ],
                },
            },
        ]
    )
    assert turn.events["codex.rate_limits"] == 2
    assert turn.unknown == [{"where": "event codex.rate_limits", "raw": rate}]
    [item] = turn.output
    assert [(part.kind, part.type) for part in item.parts] == [
        ("text", "output_text"),
        ("text", "refusal"),  # the model's own words, declining
        ("other", "input_audio"),
    ]
    assert item.parts[1].text == "no" and item.parts[1].raw is None
    assert set(turn.unrecognised) == {"event codex.rate_limits", "content part input_audio"}


# The Messages API --------------------------------------------------------------------------------


def test_messages_stream_json_answer_and_count_tokens():
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "model": "claude-x",
                "role": "assistant",
                "usage": {"input_tokens": 3, "cache_read_input_tokens": 100},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "tu", "name": "Bash", "input": {}},
        },
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"c": '}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"ls"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}},
        {"type": "message_stop"},
    ]
    turn = read(events, reader=anthropic_messages)
    [item] = turn.output
    assert [(part.kind, part.text, part.name, part.arguments) for part in item.parts] == [
        ("reasoning", "hm", None, None),
        ("tool_call", None, "Bash", {"c": "ls"}),
    ]
    assert item.parts[0].raw == {"signature": "sig"}
    assert (turn.response_id, turn.model, turn.stop_reason) == ("msg_1", "claude-x", "tool_use")
    assert (turn.usage.input, turn.usage.cache_read, turn.usage.output) == (103, 100, 7)
    answer = read(
        body={
            "type": "message",
            "id": "m2",
            "role": "assistant",
            "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
        reader=anthropic_messages,
    )
    assert texts(answer) == "hi" and answer.stop_reason == "end_turn"
    assert read(body={"input_tokens": 42}, reader=anthropic_messages).usage.input == 42


def test_messages_stream_builds_blocks_as_the_sdk_does():
    """The official SDK's accumulator (anthropic-sdk-python, `accumulate_event`) is the rule: a signature_delta
    is the block's signature (not added to one the block started with), citations are added to the block's, and
    the events' other fields belong to the message. The captured events themselves are never changed: the report
    and the viewer read them too."""
    citation = {"type": "char_location", "cited_text": "sky is blue", "document_index": 0}
    text_start = {"type": "text", "text": "", "citations": []}
    metrics = {"inputTokenCount": 3, "outputTokenCount": 9}
    events = [
        {"type": "message_start", "message": {"id": "msg_1", "model": "claude-x-20260101", "role": "assistant"}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "signature": "old"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "new"}},
        {"type": "content_block_start", "index": 1, "content_block": text_start},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Blue."}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": citation}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "context_management": {"applied_edits": []}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics},
    ]
    turn = read(events, reader=anthropic_messages)
    [item] = turn.output
    assert [part.raw for part in item.parts] == [{"signature": "new"}, {"citations": [citation]}]
    assert text_start["citations"] == []
    # No block stopped, but the message did: every part is whole.
    assert [part.complete for part in item.parts] == [True, True]
    assert item.metadata == {"context_management": {"applied_edits": []}, "amazon-bedrock-invocationMetrics": metrics}
    assert turn.model == "claude-x-20260101"  # no request named one: the answer's is the turn's


def test_messages_usage_counts_sent_as_null_keep_the_earlier_ones_and_absent_ones_stay_none():
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}}
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"input_tokens": None, "cache_read_input_tokens": 40, "output_tokens": 9,
                  "output_tokens_details": {"thinking_tokens": 4}},
    }  # fmt: skip
    usage = read([start, end], reader=anthropic_messages).usage
    assert (usage.input, usage.output, usage.cache_read, usage.cache_write, usage.reasoning) == (45, 9, 40, None, 4)
    assert read([dict(start, message={"id": "m"}), dict(end, usage=None)], reader=anthropic_messages).usage is None


def test_messages_request_keeps_is_error_false_types_as_sent_and_unknown_blocks():
    turn = Turn(number=1, line=1, kind="http", proxy="p", method="POST", path="/", status=200, complete=True, api="x")
    anthropic_messages.read_request(
        {
            "model": "m",
            "max_tokens": 5,
            "system": "be brief",
            "tools": [
                {"name": "Bash", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search"},
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "tu", "content": "ok", "is_error": False},
                        {"type": "search_result", "source": "s", "title": "t", "content": []},
                    ],
                }
            ],
        },
        turn,
    )
    [result, unknown] = turn.input[0].parts
    assert result.is_error is False and result.text == "ok"
    assert (unknown.kind, unknown.raw["title"]) == ("other", "t")
    assert turn.unrecognised == ["content block search_result"]
    assert [(tool.name, tool.type) for tool in turn.tools] == [("Bash", None), ("web_search", "web_search_20250305")]
    assert turn.config == {"max_tokens": 5} and turn.system[0].text == "be brief"


# Writing turns.jsonl -----------------------------------------------------------------------------


@pytest.mark.parametrize("masked_at_capture", [False, True], ids=["no manifest", "manifest: masked when recorded"])
def test_a_key_streamed_in_pieces_is_masked_in_turns(tmp_path, masked_at_capture):
    """Whatever the manifest says of how the capture was masked, the answer joined from deltas is masked, and so is
    the request: a manifest is part of the capture, and a hand-made one may claim anything."""
    from probe.redact.masking import RULES_VERSION

    pieces = ["sk-proj-", "Q2w3E4r5T6", "y7U8i9O0pAsDfGhJkL"]
    events = "".join(
        f"data: {json.dumps({'type': 'response.output_text.delta', 'item_id': 'm', 'delta': piece})}\n\n"
        for piece in pieces
    )
    request = {"model": "m", "input": "hi", "api_key": "plain-key-in-the-request"}
    entry = captured_exchange("/v1/responses", request, events, host="https://x", request_headers=[])
    run = tmp_path / "run"
    run.mkdir()
    (run / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    if masked_at_capture:  # a claim the key planted in the request belies
        (run / "manifest.json").write_text(json.dumps({"target": "codex", "redaction": RULES_VERSION}))
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), "--target", "codex"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    written = (run / "turns.jsonl").read_text()
    assert "".join(pieces) not in written and "[REDACTED sha256:" in written
    assert next(whole_turns(run / "turns.jsonl"))["input"][0]["parts"][0]["text"] == "hi"
    assert "plain-key-in-the-request" not in written


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_turns_are_written_beside_a_report_written_elsewhere_and_never_over_the_capture(tmp_path):
    capture = tmp_path / "turns.jsonl"
    capture.write_text(
        json.dumps(
            {
                "timestamp": 1,
                "request": {"method": "POST", "url": "https://x/v1/chat/completions", "headers": {}, "body": CHAT},
                "response": {"status_code": 200, "headers": {}, "body": ""},
            }
        )
        + "\n"
    )
    before = capture.read_bytes()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.analysis.analyze",
            "--input",
            str(capture),
            "--output",
            str(tmp_path / "report.md"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: --output") and capture.read_bytes() == before
    out = tmp_path / "elsewhere"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--input", str(capture), "--output", str(out / "r.md")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    [turn] = list(whole_turns(out / "r.turns.jsonl"))
    assert (turn["method"], turn["path"], turn["status"], turn["api"]) == (
        "POST", "/v1/chat/completions", 200, "openai.chat_completions"
    )  # fmt: skip


def test_two_reports_in_one_folder_each_get_their_own_derived_files(tmp_path):
    """--output names every derived file: Y.md gets Y.html and Y.turns.jsonl; report.md keeps a run folder's names."""
    [sample] = (PROJECT_ROOT / "data" / "codex").glob("*-sample-http")
    out = tmp_path / "reports"
    out.mkdir()
    written = {}
    for name, target in (("report-codex.md", "codex"), ("report-generic.md", "claude-code"), ("report.md", "codex")):
        command = [
            sys.executable,
            "-m",
            "probe.analysis.analyze",
            "--input",
            str(sample / "traffic.jsonl"),
            "--target",
            target,
        ]
        result = subprocess.run(
            [*command, "--output", str(out / name)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
        )
        assert result.returncode == 0, result.stderr
        turns = "turns.jsonl" if name == "report.md" else name.replace(".md", ".turns.jsonl")
        insight = "insight.jsonl" if name == "report.md" else name.replace(".md", ".insight.jsonl")
        assert result.stdout == (
            f"report: {out / name}\nviewer: {(out / name).with_suffix('.html')}\nturns: {out / turns}\n"
            f"insight: {out / insight}\n"
        )
        written[name] = (out / name).read_text()
    assert sorted(path.name for path in out.iterdir() if not path.name.startswith(".")) == [
        "insight.jsonl",
        "report-codex.html",
        "report-codex.insight.jsonl",
        "report-codex.md",
        "report-codex.turns.jsonl",
        "report-generic.html",
        "report-generic.insight.jsonl",
        "report-generic.md",
        "report-generic.turns.jsonl",
        "report.html",
        "report.md",
        "turns.jsonl",
    ]
    # Each report's turns are its own: the second, under another target, did not overwrite the first's.
    assert "renderer `probe.apis.openai_responses.report`" in written["report-codex.md"]
    assert "renderer `probe.apis.anthropic_messages.report`" in written["report-generic.md"]
    for name in ("report-codex", "report-generic", "report"):
        turns = (out / f"{name}.turns.jsonl" if name != "report" else out / "turns.jsonl").read_text().splitlines()
        assert len(turns) == 3 and json.loads(turns[1])["api"] == "openai.responses"
