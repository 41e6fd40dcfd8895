"""A Responses continuation is counted as the whole context the server holds, its cache read no more than the
prefix it shares with the answer it continues, and the mock remembers a bounded number of answers."""

from probe.mock import responses_api
from probe.mock.continuations import Memory, estimate_tokens

HEAD = {"instructions": "Be brief.", "tools": [{"type": "function", "name": "sleep"}]}
FIRST = [{"type": "message", "role": "user", "content": "write a hello world function"}]
SECOND = [{"type": "function_call_output", "call_id": "call_1", "output": "slept"}]


def test_a_continuation_counts_the_earlier_context_and_reads_its_shared_prefix():
    memory = Memory()
    first = memory.count(None, HEAD, FIRST)
    assert (first.input_tokens, first.cached_tokens) == (estimate_tokens(HEAD) + estimate_tokens(FIRST), 0)
    memory.remember("resp_1", HEAD, first, output_tokens=36)
    second = memory.count("resp_1", HEAD, SECOND)
    shared = first.input_tokens + 36  # the earlier request and its answer
    assert second.input_tokens == shared + estimate_tokens(SECOND)
    assert second.cached_tokens == shared < second.input_tokens
    # New instructions change the prefix from its start: nothing is read from the cache, all is still counted.
    changed = memory.count("resp_1", dict(HEAD, instructions="Be verbose."), SECOND)
    assert changed.cached_tokens == 0 and changed.input_tokens > estimate_tokens(SECOND)
    # An id the mock never gave (or has forgotten) is counted afresh.
    assert memory.count("resp_unknown", HEAD, SECOND).input_tokens == estimate_tokens(HEAD) + estimate_tokens(SECOND)


def test_memory_is_bounded_and_keeps_the_newest():
    memory = Memory(size=3)
    counted = memory.count(None, HEAD, FIRST)
    for number in range(5):
        memory.remember(f"resp_{number}", HEAD, counted, 1)
    assert list(memory.contexts) == ["resp_2", "resp_3", "resp_4"]


def test_planned_usage_carries_the_count():
    memory = Memory()
    request = {"model": "m", "input": FIRST, **HEAD}
    first = responses_api.plan_events(request, counted=memory.count(None, HEAD, FIRST))[-1]["response"]
    memory.remember(first["id"], HEAD, memory.count(None, HEAD, FIRST), first["usage"]["output_tokens"])
    follow = {"model": "m", "input": SECOND, "previous_response_id": first["id"], **HEAD}
    counted = memory.count(first["id"], HEAD, SECOND)
    usage = responses_api.plan_events(follow, counted=counted)[-1]["response"]["usage"]
    assert usage["input_tokens"] == counted.input_tokens > first["usage"]["input_tokens"]
    assert (
        usage["input_tokens_details"]["cached_tokens"]
        == first["usage"]["input_tokens"] + first["usage"]["output_tokens"]
    )
