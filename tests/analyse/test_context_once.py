"""Every token of a request in exactly one part of its context: instructions wherever the API carries them (a
top-level field, a system or developer message), tools, history. On captures of known composition in each API's
forms, and on every turn of the samples and the readers' corpus: the instruction messages add nothing to the
history, and the parts add up to the reported input."""

import copy
import io
import json

import orjson
import pytest
from conftest import PROJECT_ROOT, captured_exchange

from probe.analyse import context
from probe.analyse.context import HISTORY, INSTRUCTIONS, NOT_READ, SYSTEM_ROLES, ContextFilling
from probe.analyse.token_count import TokenCounter
from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages

RULES = "".join(f"Rule {n}: keep the build green, and say what you changed and why. " for n in range(1, 70))
QUESTION = "Fix the failing build, then run the tests."
CHAT_USAGE = {"prompt_tokens": 0, "completion_tokens": 2, "total_tokens": 0}
JSON = (("content-type", "application/json"),)
CAPTURES = sorted(
    [*PROJECT_ROOT.glob("data/*/*-sample-*/traffic.jsonl"), *PROJECT_ROOT.glob("tests/data/subagents/*/traffic.jsonl"),
     *(path for path in PROJECT_ROOT.glob("tests/corpus/*/*.jsonl") if not path.name.endswith(".turns.jsonl"))]
)  # fmt: skip


def reported_input() -> int:
    """What a server would report: the instructions and the question, with a little framing."""
    counter = TokenCounter()
    return counter.count(RULES) + counter.count(QUESTION) + 8


def chat(role: str) -> dict:
    body = {"model": "gpt-4.1", "messages": [{"role": role, "content": RULES}, {"role": "user", "content": QUESTION}]}
    answer = {"id": "c1", "object": "chat.completion", "model": "gpt-4.1",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done."}, "finish_reason": "stop"}],
              "usage": {**CHAT_USAGE, "prompt_tokens": reported_input()}}  # fmt: skip
    return captured_exchange(
        "/v1/chat/completions", body, answer, response_headers=(("content-type", "application/json"),)
    )


def responses(instructions_as: str) -> dict:
    question = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": QUESTION}]}
    body = {"model": "gpt-5", "input": [question]}
    if instructions_as == "instructions":
        body["instructions"] = RULES
    else:
        body["input"].insert(0, {"type": "message", "role": instructions_as,
                                 "content": [{"type": "input_text", "text": RULES}]})  # fmt: skip
    answer = {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-5",
              "output": [{"type": "message", "role": "assistant",
                          "content": [{"type": "output_text", "text": "Done."}]}],
              "usage": {"input_tokens": reported_input(), "output_tokens": 2}}  # fmt: skip
    return captured_exchange("/v1/responses", body, answer, response_headers=JSON)


def anthropic() -> dict:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": [{"type": "text", "text": RULES}],
            "messages": [{"role": "user", "content": QUESTION}]}  # fmt: skip
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn",
              "usage": {"input_tokens": reported_input(), "output_tokens": 2}}  # fmt: skip
    return captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com",
                             response_headers=JSON)  # fmt: skip


def gemini() -> dict:
    body = {
        "systemInstruction": {"parts": [{"text": RULES}]},
        "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
    }
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Done."}]}, "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": reported_input(), "candidatesTokenCount": 2},
              "modelVersion": "gemini-2.5-pro"}  # fmt: skip
    return captured_exchange("/v1beta/models/gemini-2.5-pro:generateContent", body, answer,
                             host="https://generativelanguage.googleapis.com",
                             response_headers=JSON)  # fmt: skip


KNOWN = {
    "chat-system-message": lambda: chat("system"),
    "chat-developer-message": lambda: chat("developer"),
    "responses-instructions-field": lambda: responses("instructions"),
    "responses-developer-message": lambda: responses("developer"),
    "responses-system-message": lambda: responses("system"),
    "anthropic-system": anthropic,
    "gemini-system-instruction": gemini,
}


@pytest.mark.parametrize("make", KNOWN.values(), ids=KNOWN.keys())
def test_instructions_that_are_99_percent_of_a_request_read_99_percent_wherever_the_api_carries_them(tmp_path, make):
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(make()) + "\n")
    out = io.BytesIO()
    report = build_report(traffic, anthropic_messages, None, insight=out)[0]
    [turn] = [record for record in map(orjson.loads, out.getvalue().splitlines()) if record["record"] == "turn"]
    parts = turn["context"]["categories"]
    instructions = sum(part["tokens"] for part in parts if part["kind"] == INSTRUCTIONS)
    history = sum(part["tokens"] for part in parts if part["kind"] == HISTORY)
    assert instructions + history == turn["context"]["scaled_to"] == reported_input()
    counter = TokenCounter()
    share = counter.count(RULES) / (counter.count(RULES) + counter.count(QUESTION))
    assert 0.985 < share < 0.995  # the capture's known composition: instructions 99% of what was sent
    assert abs(instructions / reported_input() - share) < 0.001
    # In the report: the run's table gives the instructions their share, and the history only the question.
    section = report.split("## Context", 1)[1].split("\n## ", 1)[0]
    [row] = [line for line in section.splitlines() if line.startswith("| instructions |")]
    assert row.endswith(f" | {instructions:,} | {instructions / reported_input():.1%} |")
    assert "instructions in the history" not in section
    [row] = [line for line in section.splitlines() if line.startswith("| history |")]
    assert "`user text`" in row and row.endswith(f" | {history:,} | {history / reported_input():.1%} |")


def test_a_system_message_no_reader_takes_as_a_block_counts_as_instructions_once(tmp_path):
    # A system message amid Anthropic's messages (Claude Code sends one): instructions, not history.
    exchange = anthropic()
    exchange["request"]["body"]["messages"].insert(0, {"role": "system", "content": RULES + " Also: be brief."})
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(exchange) + "\n")
    out = io.BytesIO()
    build_report(traffic, anthropic_messages, None, insight=out)
    [turn] = [record for record in map(orjson.loads, out.getvalue().splitlines()) if record["record"] == "turn"]
    kinds = {part["name"]: part["kind"] for part in turn["context"]["categories"]}
    assert kinds == {"system block 1": "instructions", "instructions in the history": "instructions",
                     "user text": "history"}  # fmt: skip
    tokens = {part["name"]: part["counted"] for part in turn["context"]["categories"]}
    counter = TokenCounter()
    assert tokens["system block 1"] == counter.count(RULES)
    assert tokens["instructions in the history"] == counter.count(RULES + " Also: be brief.")


@pytest.mark.parametrize("traffic", CAPTURES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_text_is_in_two_parts_on_every_sample_and_corpus_turn(traffic, monkeypatch):
    """Each turn split as the report splits it, and again with its system and developer messages taken out of its
    history: the history's counts are the same (those messages add nothing to it), and the instructions are the
    instruction blocks' texts, counted once each."""
    counter = TokenCounter()
    checked = []
    add = ContextFilling.add
    # Each split again from scratch, every item walked (remembered items are counted once: a re-sent one is cheap).
    whole, without = ContextFilling(counter=counter, reuse=False), ContextFilling(counter=counter, reuse=False)

    def checking_add(self, turn):
        split = add(self, turn)
        if split is None or self in (whole, without):
            return split
        bare = copy.copy(turn)
        bare.input = [item for item in turn.input if item.role not in SYSTEM_ROLES]
        bare.carried = None
        plain = copy.copy(turn)
        plain.carried = None
        assert history_counts(whole.add(plain)) == history_counts(without.add(bare)), turn.number
        lifted = sum(counter.count(block.text) for block in turn.system)
        in_history = sum(c.counted for c in split.categories if c.name == context.IN_HISTORY)
        assert sum(c.counted for c in split.categories if c.kind == INSTRUCTIONS) == lifted + in_history
        if split.scaled_to is not None and split.counted > 0:
            assert sum(category.tokens for category in split.categories) == split.scaled_to
        checked.append(turn.number)
        return split

    monkeypatch.setattr(ContextFilling, "add", checking_add)
    build_report(traffic, anthropic_messages, None, insight=io.BytesIO())
    spent = [line for line in traffic.read_text().splitlines() if '"usage"' in line or "usageMetadata" in line]
    assert checked or not spent


def history_counts(split) -> dict[str, int]:
    """The history's counts by kind, new and carried together (what is carried depends on the turn before), the
    estimates that depend on the other parts' sizes left out."""
    counts: dict[str, int] = {}
    for category in split.categories:
        if category.kind == HISTORY and category.name not in (NOT_READ, "kept by the server"):
            counts[category.name] = counts.get(category.name, 0) + category.counted
    return counts
