"""Which drops in cached tokens are cache breaks, on captures written here with known cache behaviour: instructions
sent as messages, a compaction, a context the server holds (counted whole, or only its new input), and a real
break where the prefix matched and the cache read less; the report's text and insight.jsonl's numbers."""

import io
import json

import orjson
import pytest
from conftest import PROJECT_ROOT, captured_exchange

from probe.analyse.token_count import TokenCounter
from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages

RULES = "".join(f"Rule {n}: keep the build green, and say what you changed and why. " for n in range(1, 120))
SYSTEM = "You are a coding agent working in /tmp/project.\n" + RULES
SUMMARY = "Summary of the conversation so far: the build was fixed; the tests pass."
TOOL = {"type": "function", "name": "shell", "description": "Run a command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}  # fmt: skip
NO_BREAKS = "- Cache breaks: 0 ("
# codex against the bundled mock: its sub-agents' run, and the samples whose continuations the mock counted apart.
CODEX_RUNS = [PROJECT_ROOT / "tests/data/subagents/codex/traffic.jsonl",
              *(PROJECT_ROOT / "data/codex" / name / "traffic.jsonl"
                for name in ("20261125-122558-sample-websocket", "20261125-122602-sample-v0.166.0",
                             "20261125-122607-sample-v0.169.0"))]  # fmt: skip


def report_of(tmp_path, lines: list[dict]) -> tuple[str, list[dict]]:
    tmp_path.mkdir(exist_ok=True)
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = io.BytesIO()
    report = build_report(traffic, anthropic_messages, None, insight=out)[0]
    turns = [record for record in map(orjson.loads, out.getvalue().splitlines()) if record["record"] == "turn"]
    return report.split("## Prompt cache", 1)[1].split("\n## ", 1)[0], turns


def responses_turn(number: int, body: dict, usage: tuple[int, int], start: float | None = None) -> dict:
    """A Responses API exchange, streamed, whose usage is (input tokens, of which cached), started at `start` (by
    default 10 seconds a turn)."""
    completed = {"type": "response.completed", "response": {
        "id": f"resp_{number}", "status": "completed", "model": body["model"],
        "output": [{"type": "message", "id": f"msg_{number}", "role": "assistant",
                    "content": [{"type": "output_text", "text": f"Step {number}."}]}],
        "usage": {"input_tokens": usage[0], "input_tokens_details": {"cached_tokens": usage[1]},
                  "output_tokens": 5}}}  # fmt: skip
    start = 1000.0 + number * 10 if start is None else start
    return captured_exchange("/v1/responses", body, f"data: {json.dumps(completed)}\n\n", id=f"f{number}",
                             timing={"start": start, "first_byte": start + 0.1, "end": start + 0.5})  # fmt: skip


def codex_like(input_items: list[dict], **fields) -> dict:
    """A request as codex sends it: its instructions as a developer message at the head of `input`."""
    developer = {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": SYSTEM}]}
    return {"model": "gpt-5", "tools": [TOOL], "input": [developer, *input_items], **fields}


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def said(number: int) -> dict:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"Step {number}."}]}


def test_a_continuation_counted_as_its_new_input_only_is_no_break_and_says_the_capture_cannot_tell(tmp_path):
    # As a server that counts only what a continuation by response id adds: 576 tokens after 17,208, half cached.
    first = codex_like([user("Fix the build.")])
    second = {"model": "gpt-5", "previous_response_id": "resp_1", "input": [user("Go on.")]}
    section, turns = report_of(tmp_path, [responses_turn(1, first, (17_208, 8_604)),
                                          responses_turn(2, second, (576, 288))])  # fmt: skip
    assert NO_BREAKS in section and "cache break at" not in section
    assert (
        "- Fewer cached tokens without a break: 1\n  - #2 (against #1): the request continues all of #1, yet the "
        "server counted 576 input tokens after 17,208: it counts only what is new, so the capture cannot tell what "
        "the cache could read" in section
    )
    assert turns[1]["cache"]["cause"] is None and turns[1]["cache"]["drop"]["kind"] == "uncounted"
    assert turns[1]["cache"]["hit_rate"] == 0.5


def test_a_continuation_counted_whole_reads_more_and_has_nothing_to_explain(tmp_path):
    first = codex_like([user("Fix the build.")])
    second = {"model": "gpt-5", "previous_response_id": "resp_1", "input": [user("Go on.")]}
    section, turns = report_of(tmp_path, [responses_turn(1, first, (17_208, 8_604)),
                                          responses_turn(2, second, (17_790, 8_895))])  # fmt: skip
    assert NO_BREAKS in section and "without a break" not in section
    assert "| #2 | 17,790 | 8,895 | 50.0% | #1 |  |" in section
    assert turns[1]["cache"]["cause"] is None and turns[1]["cache"]["drop"] is None


def test_a_prefix_that_matched_and_read_less_is_a_break_the_provider_made(tmp_path):
    # Instructions as a developer message, the history re-sent whole: the third request reads 100 of 3,400.
    lines = [
        responses_turn(1, codex_like([user("Fix the build.")]), (3_200, 0)),
        responses_turn(2, codex_like([user("Fix the build."), said(1), user("Go on.")]), (3_300, 3_100)),
        responses_turn(3, codex_like([user("Fix the build."), said(1), user("Go on."), said(2), user("More.")]),
                       (3_400, 100)),
    ]  # fmt: skip
    section, turns = report_of(tmp_path, lines)
    assert (
        "- Cache breaks: 1 (a turn that read fewer tokens from the cache than it could have: than the turn before left "
        "in the cache, or, if the request shrank, than the prefix it still shares with it)\n"
        "  - cache break at #3 (against #2): the requests' prefixes match: the provider dropped or missed the cache"
    ) in section
    assert turns[2]["cache"]["cause"]["kind"] == "unseen" and turns[2]["cache"]["drop"] is None
    assert (turns[2]["cache"]["input"], turns[2]["cache"]["cached"], turns[2]["cache"]["compared_with"]) == (
        3_400, 100, 2)  # fmt: skip


def compaction(tmp_path, read: int) -> tuple[str, list[dict], int]:
    """A session whose third request replaces its history with a summary, reading `read` tokens from the cache;
    and the tokens of the prefix it shares with the turn before (instructions and tools), as o200k counts them."""
    history = [user("Fix the build."), said(1), user("Go on."), said(2), user("More.")]
    counter = TokenCounter()
    shared = counter.count(SYSTEM) + counter.count("shell\nRun a command.\n" + json.dumps(TOOL["parameters"]))
    size = shared + counter.count(SUMMARY)
    lines = [
        responses_turn(1, codex_like(history[:1]), (9_000, 0)),
        responses_turn(2, codex_like(history[:3]), (9_100, 8_900)),
        responses_turn(3, codex_like([user(SUMMARY)]), (size, read)),
    ]
    section, turns = report_of(tmp_path, lines)
    return section, turns, shared


def test_a_compaction_that_reads_its_whole_shared_prefix_is_named_and_is_no_break(tmp_path):
    _, _, shared = compaction(tmp_path / "count", read=0)
    section, turns, shared = compaction(tmp_path, read=shared)
    assert NO_BREAKS in section and "cache break at" not in section
    [line] = [line for line in section.splitlines() if line.startswith("  - #3")]
    assert line.startswith(
        "  - #3 (against #2): compaction: the 4 history items of #2 were replaced by 2 (the first kept); the request "
        f"shrank, and the cache read {shared:,} of the ~"
    ) and line.endswith(" tokens it shares with #2: all of them, near enough")
    estimate = int(line.split("~")[1].split(" ")[0].replace(",", ""))
    assert abs(estimate - shared) <= shared * 0.05  # the instructions and the tool, and not the summary
    assert turns[2]["cache"]["cause"] is None and turns[2]["cache"]["drop"]["kind"] == "compaction"


def test_a_compaction_that_reads_less_than_its_shared_prefix_is_a_break(tmp_path):
    section, turns, _ = compaction(tmp_path, read=128)
    [line] = [line for line in section.splitlines() if line.startswith("  - cache break")]
    assert line.startswith(
        "  - cache break at #3 (against #2): compaction: the 4 history items of #2 were replaced by 2 (the first "
        "kept); the cache read 128 of the ~"
    ) and line.endswith(" tokens the request shares with #2")
    assert "- Cache breaks: 1 (" in section
    assert turns[2]["cache"]["cause"]["kind"] == "compaction" and turns[2]["cache"]["drop"] is None


@pytest.mark.parametrize("traffic", CODEX_RUNS, ids=lambda path: path.parent.name)
def test_codex_runs_against_the_mock_show_no_phantom_break(traffic):
    # The bundled mock counts a continuation's new input only; every run read half its input from the cache.
    out = io.BytesIO()
    report = build_report(traffic, anthropic_messages, None, insight=out)[0]
    section = report.split("## Prompt cache", 1)[1].split("\n## ", 1)[0]
    assert NO_BREAKS in section and "cache break at" not in section and "1 break" not in report
    turns = [record for record in map(orjson.loads, out.getvalue().splitlines()) if record["record"] == "turn"]
    drops = [record["cache"]["drop"] for record in turns if record["cache"] and record["cache"]["drop"]]
    assert drops and {drop["kind"] for drop in drops} == {"uncounted"}
    assert all(0.49 <= record["cache"]["hit_rate"] <= 0.51 for record in turns if record["cache"])


def test_a_request_that_re_sends_only_the_start_of_the_history_is_judged_on_that_start(tmp_path):
    # A side request re-sending the first items of the turn before (codex does so): the cache could read them all.
    history = [user("Fix the build."), said(1), user("Go on."), said(2), user("More.")]
    lines = [
        responses_turn(1, codex_like(history[:3]), (9_000, 0)),
        responses_turn(2, codex_like(history), (9_200, 8_900)),
        responses_turn(3, codex_like(history[:3]), (9_000, 4_000)),
    ]
    section, turns = report_of(tmp_path, lines)
    [line] = [line for line in section.splitlines() if line.startswith("  - cache break")]
    assert line == (
        "  - cache break at #3 (against #2): the request re-sends only the first 4 of the 6 history items of #2; "
        "the cache read 4,000 of the ~9,000 tokens the request shares with #2"
    )
    assert turns[2]["cache"]["cause"]["kind"] == "history"


def messages_turn(number: int, messages: list[dict], usage: tuple[int, int, int]) -> dict:
    """An Anthropic Messages exchange, as JSON, whose usage is (uncached input, cache written, cache read)."""
    bash = {"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}
    system = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": [bash], "system": system, "messages": messages}
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": body["model"],
              "content": [{"type": "text", "text": f"Step {number}."}], "stop_reason": "end_turn",
              "usage": {"input_tokens": usage[0], "cache_creation_input_tokens": usage[1],
                        "cache_read_input_tokens": usage[2], "output_tokens": 5}}  # fmt: skip
    start = 1000.0 + number * 10
    return captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com", id=f"f{number}",
                             response_headers=(("content-type", "application/json"),),
                             timing={"start": start, "first_byte": start + 0.1, "end": start + 0.5})  # fmt: skip


def anthropic_pair(tmp_path, second_read: int) -> tuple[str, list[dict]]:
    """Two turns of one conversation: the first reads nothing and writes 10,000 tokens to the cache; the second
    re-sends all of it and more, and reads `second_read` of it."""
    ask = [{"role": "user", "content": "Fix the build."}]
    again = [*ask, {"role": "assistant", "content": "Step 1."}, {"role": "user", "content": "Go on."}]
    return report_of(tmp_path, [messages_turn(1, ask, (12, 10_000, 0)),
                                messages_turn(2, again, (20, 10_000 - second_read + 30, second_read))])  # fmt: skip


def test_a_turn_that_reads_nothing_of_what_the_turn_before_wrote_is_a_break(tmp_path):
    # The turn before read nothing, but wrote 10,000 tokens: the cache held them, and the next turn read none.
    section, turns = anthropic_pair(tmp_path, 0)
    assert "- Cache breaks: 1 (" in section
    assert "cache break at #2 (against #1): the requests' prefixes match: the provider dropped or missed the cache" in (
        section
    )
    assert turns[1]["cache"]["cause"]["kind"] == "unseen"


def test_a_turn_that_reads_all_the_turn_before_wrote_is_no_break(tmp_path):
    section, turns = anthropic_pair(tmp_path, 10_000)
    assert NO_BREAKS in section and "cache break at" not in section
    assert turns[1]["cache"]["cause"] is None and turns[1]["cache"]["drop"] is None
