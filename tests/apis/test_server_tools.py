"""Tools the API runs itself (web search, code execution, MCP), codex's tool search and compaction items are read as
calls, results and items of their own, streamed or whole, and never listed as not recognised."""

import json
from pathlib import Path

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.openai_responses import reader as openai_responses
from probe.read.conversation import Turn
from probe.read.sse import Event

DATA = Path(__file__).resolve().parent.parent / "data" / "server-tools"


def loaded(name: str):
    return json.loads((DATA / name).read_text())


def new_turn(reader) -> Turn:
    return Turn(
        number=1, line=1, kind="http", proxy="p", method="POST", path="/", status=200, complete=True, api=reader.API
    )


def answered(reader, events=None, body=None) -> Turn:
    turn = new_turn(reader)
    reader.read_response([Event(None, data) for data in events] if events is not None else None, body, turn)
    return turn


def parts(items) -> list[tuple]:
    """Each part of the items as (kind, type, name, call_id, arguments, text, is_error)."""
    return [
        (part.kind, part.type, part.name, part.call_id, part.arguments, part.text, part.is_error)
        for item in items
        for part in item.parts
    ]


def test_responses_stream_reads_web_search_code_interpreter_tool_search_and_compaction():
    turn = answered(openai_responses, events=loaded("responses-stream.json"))
    assert turn.unrecognised == [] and turn.unknown == []
    assert [item.type for item in turn.output] == [
        "web_search_call",
        "code_interpreter_call",
        "tool_search_call",
        "compaction",
    ]
    search = {
        "type": "search",
        "query": "tallest peak in Alberta",
        "sources": [{"type": "url", "url": "https://example.org/peaks"}],
    }
    assert parts(turn.output) == [
        ("tool_call", "web_search_call", "web_search", "ws_1", search, None, None),
        ("tool_result", "web_search_call", None, "ws_1", None, "https://example.org/peaks", None),
        # The code arrived in deltas and whole in .done; no output_item.done came.
        (
            "tool_call",
            "code_interpreter_call",
            "code_interpreter",
            "ci_1",
            {"code": "print(6 * 7)", "container_id": "cntr_1"},
            None,
            None,
        ),
        ("tool_call", "tool_search_call", "tool_search", "call_ts", {"query": "spawn agent", "limit": 5}, None, None),
        ("other", "compaction", None, None, None, None, None),
    ]
    assert turn.output[-1].parts[0].raw == {"encrypted_content": "gAAAAB-opaque"}
    assert all(part.complete for item in turn.output for part in item.parts)
    assert turn.events["response.code_interpreter_call_code.delta"] == 2


def test_responses_body_reads_a_code_interpreter_call_with_its_output():
    turn = answered(openai_responses, body=loaded("responses-body.json"))
    assert turn.unrecognised == []
    assert parts(turn.output) == [
        (
            "tool_call",
            "code_interpreter_call",
            "code_interpreter",
            "ci_2",
            {"code": "print(6 * 7)", "container_id": "cntr_1"},
            None,
            None,
        ),
        ("tool_result", "code_interpreter_call", None, "ci_2", None, "42\n", None),
        (
            "tool_call",
            "web_search_call",
            "web_search",
            "ws_2",
            {"type": "search", "query": "tallest peak in Alberta"},
            None,
            None,
        ),
        # Its item holds no result (none was asked to be included), but says the API ran it: answered.
        ("tool_result", "web_search_call", None, "ws_2", None, "", False),
        ("text", "output_text", None, None, None, "42, and Mount Columbia.", None),
    ]


def test_responses_request_reads_compaction_tool_search_output_and_its_tools():
    turn = new_turn(openai_responses)
    openai_responses.read_request(loaded("responses-request.json"), turn)
    assert turn.unrecognised == []
    assert [item.type for item in turn.input] == [
        "message",
        "compaction",
        "tool_search_call",
        "tool_search_output",
        "web_search_call",
        "compaction_trigger",
    ]
    found = turn.input[3]
    assert parts([found]) == [("tool_result", "tool_search_output", None, "call_ts", None, "agents.spawn_agent", None)]
    assert found.metadata["declares_tools"] == 1
    # The tools a search found are told to the model from then on, as declared tools are.
    assert [(tool.namespace, tool.name) for tool in turn.tools] == [
        ("", "shell"),
        ("", "agents"),
        ("agents", "spawn_agent"),
    ]
    assert turn.input[5].parts == [] and turn.input[1].parts[0].raw == {"encrypted_content": "gAAAAB-earlier"}


def test_messages_body_reads_every_server_tool_result_beside_its_call():
    turn = answered(anthropic_messages, body=loaded("messages-body.json"))
    assert turn.unrecognised == []
    assert parts(turn.output) == [
        ("tool_call", "server_tool_use", "web_search", "srvtoolu_1", {"query": "weather in Paris"}, None, None),
        (
            "tool_result",
            "web_search_tool_result",
            None,
            "srvtoolu_1",
            None,
            "Paris forecast https://example.org/paris",
            None,
        ),
        ("tool_call", "server_tool_use", "web_fetch", "srvtoolu_2", {"url": "https://example.org/paris"}, None, None),
        ("tool_result", "web_fetch_tool_result", None, "srvtoolu_2", None, "https://example.org/paris", None),
        ("tool_call", "server_tool_use", "code_execution", "srvtoolu_3", {"code": "print(6 * 7)"}, None, None),
        ("tool_result", "code_execution_tool_result", None, "srvtoolu_3", None, "42\n\nreturn code 0", None),
        ("tool_call", "server_tool_use", "bash_code_execution", "srvtoolu_4", {"command": "false"}, None, None),
        ("tool_result", "bash_code_execution_tool_result", None, "srvtoolu_4", None, "error: unavailable", True),
        (
            "tool_call",
            "server_tool_use",
            "text_editor_code_execution",
            "srvtoolu_5",
            {"command": "view", "path": "/tmp/a.txt"},
            None,
            None,
        ),
        ("tool_result", "text_editor_code_execution_tool_result", None, "srvtoolu_5", None, "line one", None),
        ("tool_call", "mcp_tool_use", "lookup", "mcptoolu_1", {"term": "probe"}, None, None),
        ("tool_result", "mcp_tool_result", None, "mcptoolu_1", None, "A probe.", False),
        ("text", "text", None, None, None, "Sunny, 42.", None),
    ]
    # What a part has no field for (the search result's encrypted content, the MCP server's name) is kept raw.
    assert turn.output[0].parts[1].raw["content"][0]["encrypted_content"] == "Ev-opaque"
    assert turn.output[0].parts[10].raw == {"server_name": "docs"}


def test_messages_stream_reads_a_web_search_and_its_result():
    turn = answered(anthropic_messages, events=loaded("messages-stream.json"))
    assert turn.unrecognised == []
    assert parts(turn.output) == [
        ("tool_call", "server_tool_use", "web_search", "srvtoolu_1", {"query": "weather in Paris"}, None, None),
        (
            "tool_result",
            "web_search_tool_result",
            None,
            "srvtoolu_1",
            None,
            "Paris forecast https://example.org/paris",
            None,
        ),
        ("text", "text", None, None, None, "Sunny.", None),
    ]
    assert all(part.complete for part in turn.output[0].parts)
