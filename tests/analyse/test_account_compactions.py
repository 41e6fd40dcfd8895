"""Compactions on small records: each agent's record read with what it says (trigger, tokens before and after), put
beside its summarisation request by the response id it names, the agent's own record of that request, or time; and
the mock answers a request for a summary with one, never a tool call."""

from probe.analyse.account.compactions import summarising_call
from probe.analyse.account.pairs import Match
from probe.analyse.account.timeline import Timeline
from probe.analyse.account.wire import WireCall
from probe.mock import messages_api, responses_api
from probe.read.account import claude_code, gemini
from probe.read.account.event import COMPACTION, MODEL_CALL, AccountEvent
from probe.read.account.transcript import compaction_of


def call(number: int, start: float, end: float, response_id: str | None = None) -> WireCall:
    return WireCall(number, start, end, None, None, None, response_id, None, None, None, None, None, None)


def test_each_agents_compaction_record_is_read_with_its_counts():
    logged = claude_code.event(
        {
            "name": "compaction",
            "time": 10.0,
            "attributes": {
                "trigger": "manual",
                "pre_tokens": "2599",
                "post_tokens": "2683",
                "duration_ms": "340",
                "prompt.id": "p1",
            },
        },
        4,
    )
    assert (logged.kind, logged.trigger, logged.tokens_before, logged.tokens_after, logged.duration_ms, logged.prompt) \
        == (COMPACTION, "manual", 2599, 2683, 340, "p1")  # fmt: skip
    request = claude_code.event({"name": "api_request", "attributes": {"query_source": "compact"}}, 3)
    assert (request.kind, request.purpose) == (MODEL_CALL, "compact")
    squeezed = gemini.event({"name": "gemini_cli.chat_compression", "signal": "logs",
                             "attributes": {"tokens_before": 9000, "tokens_after": "1200"}}, 7)  # fmt: skip
    assert (squeezed.kind, squeezed.tokens_before, squeezed.tokens_after) == (COMPACTION, 9000, 1200)
    told = {"trigger": "auto", "preTokens": 12605, "postTokens": 2683}
    record = {"type": "system", "subtype": "compact_boundary", "timestamp": "2026-11-27T09:16:36.902Z",
              "sessionId": "s", "compactMetadata": told}  # fmt: skip
    boundary = compaction_of("claude-code", record, 37)
    assert (boundary.name, boundary.source, boundary.trigger, boundary.tokens_before, boundary.tokens_after) == (
        "compact_boundary",
        "transcript.jsonl",
        "auto",
        12605,
        2683,
    )
    record = {"type": "compacted", "timestamp": "2026-11-27T09:19:19.282Z",
              "payload": {"compaction_response_id": "resp_1", "message": ""}}  # fmt: skip
    compacted = compaction_of("codex", record, 30)
    assert (compacted.name, compacted.response_id, compacted.tokens_before) == ("compacted", "resp_1", None)
    # A record of another agent's shape, or a hostile one, is no compaction.
    assert compaction_of("codex", {"type": "system", "subtype": "compact_boundary"}, 1) is None
    assert compaction_of("claude-code", {"type": "system", "subtype": "compact_boundary", "compactMetadata": [1]}, 1)


def test_a_compaction_finds_its_summarisation_request_by_the_most_exact_key():
    calls = [call(1, 0.0, 1.0), call(2, 5.0, 6.0, "resp_s"), call(3, 7.0, 8.0)]
    timeline = Timeline(calls)
    by_id = AccountEvent(COMPACTION, "compacted", 1, 20.0, response_id="resp_s")
    assert summarising_call(by_id, timeline, {}) == (calls[1], "response id")
    # The agent's own record of its summarisation request, matched to #2, though #3 ended later.
    request = AccountEvent(MODEL_CALL, "api_request", 2, 6.0, prompt="p", purpose="compact")
    of_call = {2: [Match(request, calls[1], "request id")]}
    logged = AccountEvent(COMPACTION, "compaction", 3, 8.5, prompt="p", duration_ms=4000)
    assert summarising_call(logged, timeline, of_call) == (calls[1], "its summarisation request's record")
    # By time: the answer that ended last before it, begun within the time it took; none when it began earlier.
    assert summarising_call(AccountEvent(COMPACTION, "c", 4, 8.5, duration_ms=2000), timeline, {}) == (calls[2], "time")
    assert summarising_call(AccountEvent(COMPACTION, "c", 5, 30.0, duration_ms=100), timeline, {}) == (None, None)
    assert summarising_call(AccountEvent(COMPACTION, "c", 6, None), timeline, {}) == (None, None)


def test_the_mock_answers_a_request_for_a_summary_with_one():
    instruction = "Respond with an <analysis> block followed by a <summary> block."
    asked = {"model": "m", "messages": [{"role": "user", "content": "write a hello world function"},
                                        {"role": "user", "content": instruction}]}  # fmt: skip
    message = messages_api.plan_message(asked)
    (block,) = message["content"]
    assert message["stop_reason"] == "end_turn" and block["type"] == "text"
    assert "<summary>" in block["text"] and "write a hello world function" in block["text"]
    trigger = {"model": "m", "input": [{"type": "message", "role": "user", "content": "hi"},
                                       {"type": "compaction_trigger"}]}  # fmt: skip
    events = responses_api.plan_events(trigger)
    (done,) = [event for event in events if event["type"] == "response.completed"]
    (item,) = done["response"]["output"]
    assert item["type"] == "compaction" and item["encrypted_content"]
