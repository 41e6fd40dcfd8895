"""What filled each turn's context: every corpus turn's parts add up to the input tokens its API reported; instruction
blocks, tools (grouped by namespace or MCP server) and history kinds are named, history carried from the turn
before is told from what is new; the fast tokenizer counts as the package's own API does; SQL and the diff read
the same split."""

import io
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import PROJECT_ROOT, captured_exchange

from probe.analyse.context import HistoryTotals
from probe.analyse.token_count import TokenCounter
from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.read.whole_turns import whole_turns
from probe.write.diff import diff_runs

CORPUS = sorted(
    [*PROJECT_ROOT.glob("data/*/*-sample-*/traffic.jsonl"), *PROJECT_ROOT.glob("tests/data/subagents/*/traffic.jsonl")]
)
# The readers' conformance corpus: one capture per stream or body shape of each API, edge cases included.
SHAPES = sorted(path for path in PROJECT_ROOT.glob("tests/corpus/*/*.jsonl") if not path.name.endswith(".turns.jsonl"))
TOOLS = [
    {"name": "Bash", "description": "Run a shell command.\nUse it for git.", "input_schema": {"type": "object"}},
    {"name": "Read", "description": "Read a file.", "input_schema": {"type": "object", "properties": {"path": {}}}},
    {"name": "mcp__github__create_issue", "description": "Open an issue.", "input_schema": {"type": "object"}},
    {"name": "mcp__github__list_issues", "description": "List issues.", "input_schema": {"type": "object"}},
]


def insight_of(traffic: Path) -> list[dict]:
    out = io.BytesIO()
    build_report(traffic, anthropic_messages, None, insight=out)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("traffic", CORPUS, ids=lambda path: f"{path.parent.parent.name}/{path.parent.name}")
def test_every_sample_turn_adds_up_to_its_reported_input(traffic):
    turns = [record for record in insight_of(traffic) if record["record"] == "turn" and record["context"]]
    assert turns, "each sample has turns with usage"
    assert_adds_up(turns)


def test_every_turn_of_the_stream_shape_corpus_adds_up_to_its_reported_input():
    split = 0
    for traffic in SHAPES:
        turns = [record for record in insight_of(traffic) if record["record"] == "turn" and record["context"]]
        assert_adds_up(turns)
        split += len(turns)
    assert len(SHAPES) > 90 and split > 60  # (error and token-count shapes spend nothing: they have no split)


def assert_adds_up(turns: list[dict]) -> None:
    for record in turns:
        context = record["context"]
        assert context["encoding"] == "o200k_base" and context["scaled_to"] == record["cache"]["input"]
        if context["scaled_to"] is not None:
            assert sum(part["tokens"] for part in context["categories"]) == context["scaled_to"], record["number"]
        assert sum(part["counted"] for part in context["categories"]) == context["counted"]
        assert {part["kind"] for part in context["categories"]} <= {"instructions", "tools", "history"}


def test_the_fast_tokenizer_counts_as_the_package_api_on_every_corpus_text():
    """The Rust tokenizer loaded alone (fast) against bpe-openai's public encode_ordinary (slow): the same counts for
    every instruction block, tool and text of the corpus, and for texts the JSON of a capture may hold."""
    fast, slow = TokenCounter(fast=True), TokenCounter(fast=False)
    assert fast.counted is not slow.counted
    texts = {
        "",
        "<|endoftext|> and <|fim_prefix|> as plain text",
        "日本語のテキスト",
        "emoji 👩‍💻 and ZWJ",
        "x" * 250_000,
    }
    turn_files = [traffic.parent / "turns.jsonl" for traffic in CORPUS]
    # The runs' turns.jsonl made whole, and the corpus's expected turns (whole already).
    wholes = [list(whole_turns(turns)) for turns in turn_files if turns.is_file()]
    for turns in [*wholes, *(orjson_lines(shape.with_suffix(".turns.jsonl")) for shape in SHAPES)]:
        for turn in turns:
            texts.update(block["text"] for block in turn.get("system") or [])
            texts.update(tool.get("description") or "" for tool in turn.get("tools") or [])
            texts.update(orjson.dumps(tool.get("schema")).decode() for tool in turn.get("tools") or [])
            for item in (turn.get("input") or []) + (turn.get("output") or []):
                texts.update(part["text"] for part in item.get("parts") or [] if isinstance(part.get("text"), str))
                texts.update(orjson.dumps(part["arguments"]).decode() for part in item.get("parts") or []
                             if part.get("arguments") is not None)  # fmt: skip
    assert len(texts) > 150
    assert {text: fast.count(text) for text in texts} == {text: slow.count(text) for text in texts}


def orjson_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()] if path.is_file() else []


def exchange(number, messages, content, tools=TOOLS, system=("You are an agent.", "Today's date is 2026-11-25."),
             usage=None):  # fmt: skip
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": tools, "messages": messages,
            "system": [{"type": "text", "text": text} for text in system]}  # fmt: skip
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": content, "stop_reason": "tool_use",
              "usage": usage or {"input_tokens": 900 + 100 * number, "output_tokens": 20}}  # fmt: skip
    start = 1000.0 + number * 10
    return captured_exchange(
        "/v1/messages", body, answer, host="https://api.anthropic.com",
        response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


TWO_BLOCKS = ("You are an agent.", "Today's date is 2026-11-25.")


def two_turns(tools=TOOLS, system=TWO_BLOCKS) -> list[dict]:
    ask = {"role": "user", "content": "list the issues, then read README.md"}
    call = {"type": "tool_use", "id": "toolu_1", "name": "mcp__github__list_issues", "input": {"repo": "probe"}}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                           "content": "issue 27: insight\n" * 40}]}  # fmt: skip
    history = [ask, {"role": "assistant", "content": [call]}, result]
    return [exchange(1, [ask], [call], tools, system),
            exchange(2, history, [{"type": "text", "text": "done"}], tools, system)]  # fmt: skip


def write_traffic(folder: Path, exchanges: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    traffic = folder / "traffic.jsonl"
    traffic.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in exchanges))
    return traffic


def test_parts_are_named_and_carried_history_is_told_from_new(tmp_path):
    records = insight_of(write_traffic(tmp_path, two_turns()))
    first, second = (record["context"] for record in records if record["record"] == "turn")
    parts = {(part["kind"], part["name"], part["new"]): part for part in second["categories"]}
    assert ("instructions", "system block 1", True) in parts and ("instructions", "system block 2", True) in parts
    assert parts[("tools", "mcp__github__list_issues", True)]["group"] == "mcp github"
    assert parts[("tools", "Bash", True)]["group"] is None
    # The question and the call were sent by turn #1 too: carried. The result is new, named by the call's tool.
    assert ("history", "user text", False) in parts and ("history", "tool calls", False) in parts
    assert parts[("history", "tool results: mcp__github__list_issues", True)]["counted"] > 40 * 4
    assert sum(part["tokens"] for part in second["categories"]) == 1100
    assert sum(part["tokens"] for part in first["categories"]) == 1000
    assert all(part["new"] for part in first["categories"] if part["kind"] == "history")
    run = next(record for record in records if record["record"] == "run")
    assert sum(entry["tokens"] for entry in run["context"]) == 2100


def test_the_report_sql_and_diff_read_the_same_split(tmp_path, monkeypatch):
    from probe.analysis.sql import connect

    data = tmp_path / "data"
    old = data / "claude-code" / "20261125-010000-old"
    new = data / "claude-code" / "20261125-020000-new"
    write_traffic(old, two_turns())
    longer = ("You are an agent.", "Today's date is 2026-11-25. " + "Follow the house style. " * 60)
    write_traffic(new, two_turns(tools=TOOLS[:2], system=longer))
    monkeypatch.setenv("PROBE_DATA_DIR", str(data))
    from probe.analysis.report import analyze_run

    for run in (old, new):
        analyze_run(run)
    report = (new / "report.md").read_text()
    assert "## Context" in report and "| #2 | 1,100 |" in report
    assert "**Context** (estimate: " in report and "scaled to the 1,100 input tokens reported" in report
    connection = connect([old, new])
    rows = connection.execute(
        "SELECT run, n, sum(tokens), any_value(input_tokens), count(*) FILTER (WHERE tool_group = 'mcp github') "
        "FROM context GROUP BY run, n ORDER BY run, n"
    ).fetchall()
    assert rows == [(old.name, 1, 1000, 1000, 2), (old.name, 2, 1100, 1100, 2),
                    (new.name, 1, 1000, 1000, 0), (new.name, 2, 1100, 1100, 0)]  # fmt: skip
    text, _ = diff_runs(old, new)
    section = text.split("## Context", 1)[1].split("\n## ", 1)[0]
    # Counted after the diff's volatile values are replaced (the date among them), as the instructions compare.
    assert re.search(r"instructions \+\d{3},? ?\d* tokens, tools \u22122, tool definitions \u2212\d+ tokens", section)
    assert re.search(r"\| `system block` \| — \| \d{3} \|", section)  # too changed to be paired: only in B
    assert "| tools | 4 | 2 | -2 (-50%) |" in section


def test_a_re_sent_history_taken_from_the_turn_that_sent_it_splits_as_walking_every_item(tmp_path, monkeypatch):
    """The fast path (a history re-sent whole takes its sums from the turn that sent it) against walking every item
    of every turn: the same split on every capture of the corpus and on a generated 200-turn session."""
    generated = tmp_path / "growing.jsonl"
    script = PROJECT_ROOT / "bench" / "generate_capture.py"
    subprocess.run([sys.executable, str(script), str(generated), "--megabytes", "3", "--shape", "growing"], check=True,
                   capture_output=True)  # fmt: skip
    captures = [*CORPUS, *SHAPES, generated]

    def splits() -> dict:
        return {(str(traffic), record["number"]): record["context"] for traffic in captures
                for record in insight_of(traffic) if record["record"] == "turn"}  # fmt: skip

    holds, reused = HistoryTotals.holds, []
    monkeypatch.setattr(HistoryTotals, "holds", lambda *args: reused.append(holds(*args)) or reused[-1])
    fast = splits()
    monkeypatch.setattr(HistoryTotals, "holds", lambda self, items, carried: False)
    assert splits() == fast
    assert len(fast) > 200 and sum(reused) > 100  # the fast path was taken, on most turns that carry history
