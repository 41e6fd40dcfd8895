"""Property tests: whatever a capture file holds, analyze never raises and reports every good exchange."""

import io
import json
import os
import re
import subprocess
import sys

from conftest import PROJECT_ROOT, captured_exchange, run_manifest, run_with_traffic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.turns import TurnBuilder
from probe.read.conversation import Turn
from probe.read.sse import Event
from probe.read.turn_lines import turn_line
from probe.read.whole_turns import WholeTurns, whole_turns
from probe.runs.importer import import_renderer

RENDERERS = [
    import_renderer("probe.apis.openai_responses.report"),
    import_renderer("probe.apis.generic.report"),
    anthropic_messages,
]
EXAMPLES = settings(
    max_examples=examples(500),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=25,
)
# Shapes the OpenAI renderer looks into, with wrong types mixed in.
item_types = st.sampled_from(
    [
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "additional_tools",
        "custom_tool_call",
        "brand_new",
        7,
        None,
    ]
)
items = st.fixed_dictionaries(
    {"type": item_types},
    optional={
        "role": scalars,
        "content": json_values,
        "summary": json_values,
        "tools": json_values,
        "name": scalars,
        "namespace": scalars,
        "arguments": scalars | json_values,
        "call_id": scalars,
        "output": json_values,
    },
)
request_bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": scalars,
        "input": st.lists(items, max_size=5) | json_values,
        "instructions": scalars,
        "previous_response_id": scalars,
        "tools": json_values,
        "type": scalars,
    },
)
event_types = st.sampled_from(
    [
        "response.created",
        "response.output_text.delta",
        "response.output_item.added",
        "response.output_item.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_text.done",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.custom_tool_call_input.done",
        "response.completed",
        "response.failed",
        "response.incomplete",
        "error",
        "surprise",
        3,
    ]
)
events = st.fixed_dictionaries(
    {"type": event_types},
    optional={
        "delta": scalars,
        "item_id": scalars,
        "item": items | json_values,
        "text": scalars,
        "name": scalars,
        "call_id": scalars,
        "arguments": scalars | json_values,
        "input": scalars,
        "output_index": json_values,
        "content_index": json_values,
        "summary_index": json_values,
        "response": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "id": scalars,
                "status": scalars,
                "usage": json_values,
                "output": st.lists(items, max_size=3) | json_values,
                "incomplete_details": json_values,
                "error": json_values,
            },
        ),
    },
)


def sse_text(event_list, garbage):
    return "".join(f"event: {event.get('type')}\ndata: {json.dumps(event)}\n\n" for event in event_list) + garbage


well_formed_http = st.builds(
    lambda body, event_list, garbage, status: captured_exchange(
        "/v1/responses",
        body,
        sse_text(event_list, garbage),
        host="https://x",
        request_headers=[["a", "b"]],
        status=status,
        timing={"start": 1.0, "first_byte": 1.1, "end": 2.0},
    ),
    request_bodies,
    st.lists(events, max_size=6),
    st.text(max_size=30),
    st.integers(100, 599),
)
well_formed_websocket = st.builds(
    lambda frames: {
        "schema": 1,
        "kind": "websocket",
        "proxy": "model",
        "complete": False,
        "request": {"method": "GET", "url": "http://x/v1/responses", "headers": []},
        "response": {"status": 101},
        "messages": [{"from": origin, "t": 1.0, "body": body, "body_format": "json"} for origin, body in frames],
    },
    st.lists(st.tuples(st.sampled_from(["client", "server"]), request_bodies | events | json_values), max_size=5),
)
legacy = st.builds(
    lambda body, response: {
        "timestamp": 1.0,
        "request": {"method": "POST", "url": "https://x/v1/responses", "headers": {"h": "v"}, "body": body},
        "response": {"status_code": 200, "headers": {}, "body": response},
    },
    request_bodies | json_values | st.text(max_size=50),
    st.text(max_size=80) | json_values,
)
garbage = st.one_of(
    st.binary(max_size=60).filter(lambda data: b"\n" not in data),
    json_values.map(lambda value: json.dumps(value).encode()),  # valid JSON, but rarely an exchange
    st.dictionaries(
        st.sampled_from(["schema", "kind", "request", "response", "timing", "messages"]), json_values, max_size=6
    ).map(lambda value: json.dumps(value).encode()),
)


@EXAMPLES
@given(
    good=st.lists(well_formed_http | well_formed_websocket | legacy, max_size=6),
    bad=st.lists(garbage, max_size=4),
    order=st.randoms(use_true_random=False),
    renderer=st.sampled_from(RENDERERS),
    cut_last=st.booleans(),
)
def test_analyze_never_raises_and_keeps_every_good_exchange(tmp_path_factory, good, bad, order, renderer, cut_last):
    lines = [(True, json.dumps(entry).encode()) for entry in good] + [(False, line) for line in bad]
    order.shuffle(lines)
    content = b"".join(line + b"\n" for _, line in lines)
    if cut_last and content:
        content = content[:-1]  # no newline after the last line, as after a kill
    traffic = tmp_path_factory.mktemp("hostile") / "traffic.jsonl"
    traffic.write_bytes(content)
    turns = io.BytesIO()
    report, warnings = build_report(traffic, renderer, None, turns=turns)
    headings = [line for line in report.splitlines() if line.startswith("### #")]
    others = other_requests(report)  # an exchange no reader recognises as a model call is another request
    # Garbage that happens to parse may add exchanges, never remove them.
    assert len(headings) + others >= len(good)
    # Every exchange of the report is a turn too, written as one JSON line under its number.
    written = [json.loads(line) for line in turns.getvalue().splitlines()]
    assert [f"### #{turn['number']} " for turn in written] == [
        heading[: heading.index(" ", 4) + 1] for heading in headings
    ]
    assert not [warning for warning in warnings if "the reader failed" in warning]
    assert len(headings) + others + len([w for w in warnings if "skipped" in w]) == len(
        [line for line in lines if line[1].strip()]
    )


def other_requests(report: str) -> int:
    """The requests the report's Other hosts section counts (0 without the section)."""
    found = re.search(r"^## Other hosts\n\n([\d,]+) requests? to ", report, re.MULTILINE)
    return int(found.group(1).replace(",", "")) if found else 0


@settings(max_examples=examples(50), deadline=None)
@given(depth=st.integers(500, 5000), size=st.integers(0, 2_000_000))
def test_deep_nesting_and_huge_strings(tmp_path_factory, depth, size):
    deep = "[" * depth + "]" * depth
    body = json.dumps({"input": [{"type": "message", "role": "user", "content": "x" * size}]})
    line = '{"schema":1,"kind":"http","request":{"method":"POST","url":"http://x/","body":%s,"body_format":"json"}}'
    traffic = tmp_path_factory.mktemp("deep") / "traffic.jsonl"
    traffic.write_text(line % deep + "\n" + line % body + "\n")
    turns = io.BytesIO()
    report, warnings = build_report(traffic, RENDERERS[0], None, turns=turns)
    whole = WholeTurns()
    written = [whole.whole(json.loads(line)) for line in turns.getvalue().splitlines()]
    # The deep line is no model call: another request, unless it could not be read; the model call is the one turn.
    assert len(written) == report.count("\n### #") == 1 and f"\n### #{written[0]['number']} " in report
    assert other_requests(report) + len([w for w in warnings if "skipped" in w]) == 1
    assert written[-1]["input"][0]["parts"][0]["text"] == "x" * size
    assert "x" * min(size, 1000) in report


# Shapes the Messages renderer looks into, with wrong types mixed in.
block_types = st.sampled_from(
    [
        "text",
        "image",
        "document",
        "tool_use",
        "server_tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "hologram",
        5,
        None,
    ]
)
blocks = st.fixed_dictionaries(
    {"type": block_types},
    optional={
        "text": scalars | json_values,
        "source": json_values,
        "id": scalars,
        "name": scalars,
        "input": json_values,
        "tool_use_id": scalars,
        "content": json_values,
        "is_error": scalars,
        "thinking": scalars,
        "signature": scalars,
        "data": scalars,
        "cache_control": json_values,
        "title": scalars,
    },
)
message_lists = st.lists(
    st.fixed_dictionaries({"role": scalars}, optional={"content": st.lists(blocks, max_size=4) | json_values}),
    max_size=4,
)
messages_bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": scalars,
        "max_tokens": scalars,
        "stream": scalars,
        "system": st.lists(blocks, max_size=3) | json_values,
        "tools": st.lists(
            st.fixed_dictionaries(
                {}, optional={"name": scalars, "type": scalars, "description": scalars, "cache_control": json_values}
            ),
            max_size=3,
        )
        | json_values,
        "messages": message_lists | json_values,
    },
)
deltas = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta", "odd_delta", 2]
        )
    },
    optional={
        "text": scalars,
        "partial_json": scalars,
        "thinking": scalars,
        "signature": scalars,
        "citation": json_values,
        "stop_reason": scalars,
    },
)
messages_events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
                "ping",
                "error",
                "surprise",
                4,
            ]
        )
    },
    optional={
        "index": scalars,
        "content_block": blocks | json_values,
        "delta": deltas | json_values,
        "usage": json_values,
        "error": json_values,
        "message": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "id": scalars,
                "type": scalars,
                "usage": json_values,
                "content": json_values,
                "stop_reason": scalars,
            },
        ),
    },
)


@EXAMPLES
@given(turns=st.lists(st.tuples(messages_bodies, st.lists(messages_events, max_size=8) | json_values), max_size=4))
def test_messages_renderer_never_raises_on_odd_shapes(turns):
    """Stricter than the report test, which would show a failing renderer's input raw: this one must not fail,
    nor may its reader, whose turns are then written as JSON."""
    builder, state = TurnBuilder(anthropic_messages), {}
    for number, (body, answer) in enumerate(turns, start=1):
        turn = Turn(
            number=number,
            line=number,
            kind="http",
            proxy="p",
            method="POST",
            path="/",
            status=200,
            complete=True,
            api=anthropic_messages.API,
        )
        warnings = []
        builder.request(turn, body, warnings)
        anthropic_messages.render_request(turn, f"#{number}", state)
        if isinstance(answer, list) and all(isinstance(event, dict) for event in answer):
            builder.response(turn, [Event(str(event.get("type")), event) for event in answer], None, warnings)
        else:
            builder.response(turn, None, answer, warnings)
        state["last_context"] = (number, builder.last_context[1], turn.output)
        anthropic_messages.render_response(turn, f"#{number}", state)
        assert warnings == []  # the reader never failed
        assert json.loads(turn_line(turn))["number"] == number
    anthropic_messages.render_epilogue(state)


def test_an_event_nested_past_the_limit_is_one_warning_in_every_command(tmp_path):
    """A hostile capture whose one SSE event is nested 1,100 levels deep: analyze, diff and both exports go on, and
    say so in one line; none stops with a traceback."""
    deep = "[" * 1100 + "]" * 1100
    answer = (
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi","x":'
        + deep
        + "}\n\n"
        'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'
    )
    data_dir = tmp_path / "data"
    run = run_with_traffic(data_dir, [captured_exchange("/v1/responses", {"model": "m", "input": "hi"}, answer)])
    (run / "manifest.json").write_text(json.dumps(run_manifest(exchanges=1)))
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    for argv in (
        ["probe.analysis.analyze", "--run", str(run), "--force"],
        ["probe.write.diff", "--run", str(run), "--run", str(run)],
        ["probe.analysis.export", "--run", str(run), "--format", "har", "--force"],
        ["probe.analysis.sql", "select count(*) from turns", "--format", "csv"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", *argv], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0 and "Traceback" not in result.stderr, (argv, result.stderr)
    report = (run / "report.md").read_text()
    assert "hi" in report
    analyzed = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), "--force"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert analyzed.stderr.count("nested deeper than 1,024 levels") == 1


def test_a_request_of_thousands_of_items_is_summarised_in_the_report_and_the_viewer_and_whole_in_turns(tmp_path):
    items = [{"role": "user", "content": f"tiny {number}"} for number in range(2_000)]
    answer = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'
    data_dir = tmp_path / "data"
    run = run_with_traffic(data_dir, [captured_exchange("/v1/responses", {"model": "m", "input": items}, answer)])
    (run / "manifest.json").write_text(json.dumps(run_manifest(exchanges=1)))
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), "--force"],
        cwd=PROJECT_ROOT, env=dict(os.environ, PROBE_DATA_DIR=str(data_dir)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = (run / "report.md").read_text()
    assert "1,600 items left out here: turns.jsonl holds every one" in report
    assert "tiny 199" in report and "tiny 1800" in report and "tiny 1000" not in report
    [turn] = list(whole_turns(run / "turns.jsonl"))
    assert len(turn["input"]) == 2_000 and turn["input"][1000]["parts"][0]["text"] == "tiny 1000"
    page = (run / "report.html").read_text()
    assert '"input_left_out":{"at":200,"count":1600}' in page  # (the raw request view is cut at its own limit)
