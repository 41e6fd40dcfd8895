"""The prompt cache section: each turn's hit rate, and each cache break named by the first difference between the
request and the one before it in its conversation, through the real readers and the report."""

import json

import pytest
from conftest import captured_exchange

from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.openai_responses import report as openai_responses

SYSTEM = "You are a coding agent. Today's date is 2026-11-23. Work in /tmp/project."
AT_3 = "cache break at #3 (against #2): "
UNSEEN = "the requests' prefixes match: the provider dropped or missed the cache"
TOOLS = [
    {"name": "Bash", "description": "Run a command.", "input_schema": {"type": "object"}},
    {"name": "Read", "description": "Read a file.", "input_schema": {"type": "object"}},
]


def messages_session(tmp_path, turns: list[dict], headers=()) -> str:
    """A Claude-like session: each request re-sends the history, its answer and a new user message; `turns`
    give each turn's cache reads (`read`) and what differs (system, tools, model, at, messages). A request's input
    (`size`) grows by 100 tokens a turn unless told; what the cache did not read is not written to it unless told
    (`write`): a write is what the next turn's cache could read."""
    history = [{"role": "user", "content": "Fix the build."}]
    lines = []
    for number, spec in enumerate(turns, start=1):
        messages = spec.get("messages", history)
        body = {
            "model": spec.get("model", "claude-sonnet-4-5"),
            "max_tokens": 1024,
            "system": [{"type": "text", "text": spec.get("system", SYSTEM), **spec.get("marker", {})}],
            "tools": spec.get("tools", TOOLS),
            "messages": messages,
        }
        answer = {
            "id": f"msg_{number}", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": f"Step {number}."}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 10 if "write" in spec else spec.get("size", 3000 + 100 * number) - spec["read"],
                      "cache_read_input_tokens": spec["read"], "cache_creation_input_tokens": spec.get("write", 0),
                      "output_tokens": 5},
        }  # fmt: skip
        start = 1000.0 + spec.get("at", number * 10)
        exchange = captured_exchange(
            "/v1/messages", body, answer, host="https://api.anthropic.com",
            request_headers=(("content-type", "application/json"), *spec.get("headers", headers)),
            response_headers=(("content-type", "application/json"),),
            timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
        )  # fmt: skip
        lines.append(exchange)
        if spec.get("headers"):
            continue  # another agent's request: the main session's history goes on without it
        history = [
            *messages,
            {"role": "assistant", "content": [{"type": "text", "text": f"Step {number}."}]},
            {"role": "user", "content": f"Go on after step {number}."},
        ]
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return build_report(traffic, anthropic_messages, None)[0]


def cache_section(report: str) -> str:
    return report.split("## Prompt cache", 1)[1].split("\n## ", 1)[0]


def breaks(report: str) -> list[str]:
    return [line.strip()[2:] for line in cache_section(report).splitlines() if line.startswith("  - cache break")]


def test_hit_rate_per_turn_counts_cache_reads_and_writes_as_input(tmp_path):
    report = messages_session(tmp_path, [{"read": 0, "write": 2000}, {"read": 2000, "write": 50}])
    section = cache_section(report)
    # Anthropic's input_tokens leaves out cache reads and writes: input is 10 + 0 + 2000, then 10 + 2000 + 50.
    assert "| #1 | 2,010 | 0 | 0.0% |  |  |" in section
    assert "| #2 | 2,060 | 2,000 | 97.1% | #1 |  |" in section
    assert "- Read from the cache: 49.1% of 4,070 input tokens (2,000 tokens), over 2 turns" in section
    assert breaks(report) == []


def test_a_changed_instruction_block_is_named_with_where_it_changed(tmp_path):
    changed = SYSTEM.replace("2026-11-23", "2026-11-24")
    report = messages_session(
        tmp_path, [{"read": 0}, {"read": 3000}, {"read": 0, "system": changed}, {"read": 3100, "system": changed}]
    )
    assert breaks(report) == [f"{AT_3}instruction block 1 changed at `2026-11-24. Work in /tmp/project.`"]


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"tools": [TOOLS[0], {**TOOLS[1], "description": "Any file."}]}, "the tool set changed: `Read changed`"),
        ({"tools": [*TOOLS, {"name": "Grep", "input_schema": {}}]}, "the tool set changed: `+Grep`"),
        ({"tools": TOOLS[:1]}, "the tool set changed: `-Read`"),
        ({"model": "claude-opus-4-5"}, "the model changed from `claude-sonnet-4-5` to `claude-opus-4-5`"),
        ({"at": 20 + 301 + 1}, "5 min since #2, past the cache's 5 min lifetime"),
        ({"marker": {"cache_control": {"type": "ephemeral"}}},
         "a cache breakpoint moved: `none` before, `instruction block 1` now"),
        ({"messages": [{"role": "user", "content": "Fix the build, summarised."}]},
         "compaction: the 3 history items of #2 were replaced by 1 (none kept)"),
        ({}, UNSEEN),
    ],
)  # fmt: skip
def test_each_cause_of_a_cache_break_is_named_at_its_turn(tmp_path, change, cause):
    report = messages_session(tmp_path, [{"read": 0}, {"read": 3000}, {"read": 10, **change}])
    assert breaks(report) == [AT_3 + cause]


def test_a_one_hour_marker_lengthens_the_lifetime(tmp_path):
    hour = {"marker": {"cache_control": {"type": "ephemeral", "ttl": "1h"}}}
    late = messages_session(tmp_path, [{"read": 0, **hour}, {"read": 3000, **hour}, {"read": 0, "at": 1820, **hour}])
    assert breaks(late) == [AT_3 + UNSEEN]  # 30 minutes is within an hour


def test_a_sub_agent_is_compared_with_its_own_turns_not_the_main_sessions(tmp_path):
    child = {"headers": [("x-claude-code-agent-id", "agent-1")], "system": "You are an agent for the coder.",
             "messages": [{"role": "user", "content": "Look around."}], "size": 110}  # fmt: skip
    report = messages_session(tmp_path, [{"read": 0}, {"read": 3000}, {"read": 0, **child}, {"read": 3100}])
    section = cache_section(report)
    assert "| #3 | 110 | 0 | 0.0% |  |  |" in section  # the child's first turn has no turn before it
    assert "| #4 | 3,400 | 3,100 | 91.2% | #2 |  |" in section  # the main session continues from #2
    assert breaks(report) == []


def test_captured_text_in_a_cause_stays_inert(tmp_path):
    hostile = SYSTEM.replace("Today's", "<img src=x onerror=alert(1)> `tick` | pipe")
    report = messages_session(tmp_path, [{"read": 0}, {"read": 3000}, {"read": 0, "system": hostile}])
    [line] = breaks(report)
    # In a code span, a zero-width space after `<` keeps renderers that pass HTML blocks through from reading a tag.
    assert line == AT_3 + "instruction block 1 changed at ``<\u200bimg src=x onerror=alert(1)> `tick` | pi``"


def test_a_continuation_by_response_id_keeps_the_instructions_and_tools_the_server_kept(tmp_path):
    def exchange(number, body, cached):
        events = [
            {
                "type": "response.completed",
                "response": {
                    "id": f"resp_{number}",
                    "status": "completed",
                    "output": [],
                    "usage": {
                        "input_tokens": 5000,
                        "input_tokens_details": {"cached_tokens": cached},
                        "output_tokens": 5,
                    },
                },
            }
        ]
        text = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
        start = 1000.0 + number
        return captured_exchange("/v1/responses", body, text, id=f"f{number}",
                                 timing={"start": start, "first_byte": start + 0.1, "end": start + 0.5})  # fmt: skip

    first = {"model": "gpt-5", "instructions": SYSTEM, "tools": [{"type": "function", "name": "shell"}],
             "input": [{"role": "user", "content": "Fix it."}]}  # fmt: skip
    second = {"model": "gpt-5", "previous_response_id": "resp_1", "input": [{"role": "user", "content": "More."}]}
    traffic = tmp_path / "traffic.jsonl"
    lines = [exchange(1, first, 4000), exchange(2, second, 100)]
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = build_report(traffic, openai_responses, None)[0]
    assert breaks(report) == ["cache break at #2 (against #1): " + UNSEEN]


def test_an_answer_re_sent_in_another_form_is_not_an_edited_history(tmp_path):
    # Some agents re-send an answer as a plain message rather than the items that streamed: the history the turn
    # before sent is intact, so the cause is the next difference, here the time between the turns.
    history = [
        {"role": "user", "content": "Fix the build."},
        {"role": "assistant", "content": [{"type": "text", "text": "Step 1."}]},
        {"role": "user", "content": "Go on after step 1."},
        {"role": "assistant", "content": "Step 2, as plain text."},
        {"role": "user", "content": "Go on after step 2."},
    ]
    report = messages_session(tmp_path, [{"read": 0}, {"read": 3000}, {"read": 0, "messages": history, "at": 420}])
    assert breaks(report) == [AT_3 + "7 min since #2, past the cache's 5 min lifetime"]
