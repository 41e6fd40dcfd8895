"""Each compaction against its window, on each wire form (Claude Code's summarising request, codex's
compaction_trigger answered by a compaction item, gemini's compression request and a bare shorter history, Anthropic's
server-side compaction block) and from the agent's own account, with the share at the agent's last turn before it and
its first turn after; and the report's summary line and Context section for them, a sub-agent on another model, and a
model whose window nothing says."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import captured_exchange
from test_agents import report_of
from test_window import model_list

from probe.analyse.prices import PRICES_ENV, PriceBook
from probe.analyse.window import compactions as compactions_module
from probe.analyse.window.compactions import ACCOUNT, Compactions, Seen
from probe.apis.gemini import report as gemini
from probe.apis.openai_responses import report as openai_responses
from probe.write import window_section

SESSION = ("x-claude-code-session-id", "5e551011-aaaa-bbbb-cccc-000000000003")
LONG_CONTEXT = ("anthropic-beta", "claude-code-20250219,context-1m-2025-08-07")
SUB_AGENT = ("x-claude-code-agent-id", "a1c0ffee")
TOOLS = [{"name": "Read", "description": "Read a file.", "input_schema": {"type": "object"}}]
SONNET, HAIKU = "claude-sonnet-4-20250514", "claude-haiku-4-5"


@pytest.fixture(autouse=True)
def database_prices(monkeypatch):
    monkeypatch.delenv(PRICES_ENV, raising=False)


def timed(number):
    start = 1000.0 + number * 10
    return {"start": start, "first_byte": start + 0.5, "end": start + 1.0}


def history(count, last="Go on."):
    """`count` messages, alternately the user's and the model's, the last one the user's `last`."""
    said = [{"role": "user" if (count - index) % 2 else "assistant", "content": f"Message {index}."}
            for index in range(count - 1)]  # fmt: skip
    return [*said, {"role": "user", "content": last}]


def claude(number, model, input_tokens, messages, headers=(LONG_CONTEXT,), tools=TOOLS):
    body = {"model": model, "max_tokens": 1024, "system": "You are an agent.", "messages": messages, "tools": tools}
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": model,
              "content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn",
              "usage": {"input_tokens": input_tokens, "output_tokens": 10}}  # fmt: skip
    return captured_exchange(
        "/v1/messages", body, answer, host="https://api.anthropic.com",
        request_headers=(("content-type", "application/json"), SESSION, *headers),
        response_headers=(("content-type", "application/json"),), timing=timed(number), id=f"f{number}",
    )  # fmt: skip


def records_of(tmp_path, exchanges, renderer=None):
    report, records = report_of(tmp_path, exchanges, **({"renderer": renderer} if renderer else {}))
    agents = {record["id"]: record["window"] for record in records if record["record"] == "agent"}
    run = next(record for record in records if record["record"] == "run")
    return report.read_text() if hasattr(report, "read_text") else report, agents, run["window"]


def section(report: str) -> str:
    return report[report.index("### Window") :].split("\n\n## ")[0]


def turn_row(report: str, number: int) -> list[str]:
    """The first cells of turn `number`'s row in the Context section's table by turn: turn, input, of window."""
    table = report[report.index("By turn:") :]
    row = next(line for line in table.splitlines() if line.startswith(f"| #{number} |"))
    return [cell.strip() for cell in row.strip("|").split("|")][:3]


def summary_line(report: str) -> str:
    return next(line for line in report.splitlines() if line.startswith("- Window: "))


def test_claude_codes_summarising_request_is_a_compaction_measured_on_its_own_model_beside_a_haiku_sub_agent(
    tmp_path,
):
    database = PriceBook().database
    summarise = "Summarise the conversation. Answer with an <analysis> block, then a <summary> block."
    report, agents, run = records_of(tmp_path, [
        claude(1, SONNET, 300_000, history(1)),
        claude(2, HAIKU, 1_000, history(1, "Title?"), tools=[]),  # a title request: no tools, its own model
        claude(3, SONNET, 920_000, history(3)),
        claude(4, SONNET, 921_000, history(4, summarise)),  # the summarising request
        claude(5, HAIKU, 150_000, history(1), headers=(LONG_CONTEXT, SUB_AGENT)),  # a sub-agent on haiku
        claude(6, SONNET, 100_000, history(1, "Summary: the user asked.")),
        claude(7, SONNET, 250_000, history(3)),
    ])  # fmt: skip
    (compaction,) = agents["main"]["compactions"]
    assert compaction == {"agent": "main", "model": SONNET, "request": 4, "trigger_turn": 3, "tokens_before": 920_000,
                          "share_before": 920_000 / 1_000_000, "after_turn": 6, "tokens_after": 100_000,
                          "share_after": 100_000 / 1_000_000, "window": 1_000_000,
                          "found_by": ["a request asking for a summary block"]}  # fmt: skip
    assert agents["a1c0ffee"]["compactions"] == [] and run["compactions"] == 1
    # The summarising request is its fullest turn. Recomputed: the main agent's last turn left 1,000,000 - 250,000,
    # the haiku sub-agent's 200,000 - 150,000.
    assert summary_line(report) == (
        "- Window: peak 92.1% of 1,000,000 (context-1m header), compacted once at 92.0%; 750,000 tokens (75.0%) left "
        "at the end"
    )
    assert [turn_row(report, number) for number in (2, 3, 5)] == [
        ["#2", "1,000", f"{1_000 / 200_000:.1%}"], ["#3", "920,000", f"{920_000 / 1_000_000:.1%}"],
        ["#5", "150,000", f"{150_000 / 200_000:.1%}"]]  # fmt: skip
    assert section(report) == "\n".join([
        "### Window", "",
        "Each agent's context window on each of its models, the share of it its input took at its fullest turn and at "
        "its last, and what was left at its last; a sub-agent is measured against its own model's window. "
        "Compactions: the share at the agent's last turn before → at its first turn after.", "",
        "| agent | model | window | source | effective | peak | at the end | left at the end | compactions |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| `main` | `{SONNET}` | 1,000,000 | context-1m header |  | 92.1% (#4) | 25.0% (#7) | 750,000 (75.0%) | "
        "92.0% → 10.0% |",
        f"| `main` | `{HAIKU}` | 200,000 | {database} |  | 0.5% (#2) | 0.5% (#2) | 199,000 (99.5%) |  |",
        f"| `sub-agent` `a1c0ffee` | `{HAIKU}` | 200,000 | {database} |  | 75.0% (#5) | 75.0% (#5) | 50,000 (25.0%) "
        "|  |",
        "",
        "Compactions:", "",
        f"- `main` on `{SONNET}`, summed up by #4 (found by a request asking for a summary block): 920,000 tokens "
        "(92.0%) at #3 → 100,000 tokens (10.0%) at #6",
    ])  # fmt: skip


def codex(number, input_items, input_tokens, output=None):
    """One Responses exchange on gpt-5 (400,000 tokens in genai-prices) with `input_items`."""
    output = output or [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}]
    body = {
        "model": "gpt-5",
        "instructions": "You are codex.",
        "input": input_items,
        "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object"}}],
        "stream": False,
    }
    answer = {"id": f"resp_{number}", "object": "response", "status": "completed", "model": "gpt-5",
              "output": output, "usage": {"input_tokens": input_tokens, "output_tokens": 5}}  # fmt: skip
    headers = [("content-type", "application/json"), ("session-id", "root"), ("thread-id", "root")]
    return captured_exchange("/v1/responses", body, answer, request_headers=headers,
                             response_headers=(("content-type", "application/json"),), timing=timed(number),
                             id=f"f{number}")  # fmt: skip


def said(role, text):
    kind = "input_text" if role == "user" else "output_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def test_codexs_compaction_trigger_answered_by_a_compaction_item_is_measured_against_its_window(tmp_path):
    talk = [said("user", "Go."), said("assistant", "Done."), said("user", "Again."), said("assistant", "Done.")]
    compacted = {"type": "compaction", "encrypted_content": "c3VtbWFyeQ=="}
    listed = [{"slug": "gpt-5", "context_window": 272_000, "effective_context_window_percent": 95}]
    report, agents, run = records_of(tmp_path, [
        model_list(listed),
        codex(1, talk[:1], 200_000),
        codex(2, talk[:3], 360_000),
        codex(3, [*talk, {"type": "compaction_trigger"}], 361_000, output=[{"id": "cmp_1", **compacted}]),
        codex(4, [compacted, said("user", "Now in French.")], 40_000),
        codex(5, [compacted, said("user", "Now in French."), said("assistant", "Fait."), said("user", "Merci.")],
              60_000),
    ], openai_responses)  # fmt: skip
    (compaction,) = agents["main"]["compactions"]
    assert compaction == {"agent": "main", "model": "gpt-5", "request": 4, "trigger_turn": 3, "tokens_before": 360_000,
                          "share_before": 360_000 / 400_000, "after_turn": 5, "tokens_after": 40_000,
                          "share_after": 40_000 / 400_000, "window": 400_000,
                          "found_by": ["a compaction_trigger item", "a compaction in the answer"]}  # fmt: skip
    assert run["compactions"] == 1
    # The model list (#1) gives codex's own limit, 95% of its 272,000; the table's window stays. 361,000 / 400,000 at
    # the trigger request; 400,000 - 60,000 left at the end.
    database = PriceBook().database
    assert summary_line(report) == (
        f"- Window: peak 90.2% of 400,000 ({database}), compacted once at 90.0%; 340,000 tokens (85.0%) left at the end"
    )
    assert section(report).splitlines()[6:] == [
        f"| `main` | `gpt-5` | 400,000 | {database} | 258,400 | 90.2% (#4) | 15.0% (#6) | 340,000 (85.0%) | "
        "90.0% → 10.0% |",
        "", "Compactions:", "",
        "- `main` on `gpt-5`, summed up by #4 (found by a compaction_trigger item; a compaction in the answer): "
        "360,000 tokens (90.0%) at #3 → 40,000 tokens (10.0%) at #5",
    ]  # fmt: skip


def gemini_turn(number, contents, input_tokens, tools=True):
    """One generateContent exchange on gemini-2.5-pro, a model whose window genai-prices leaves out (it is tiered)."""
    body = {"contents": [{"role": role, "parts": [{"text": text}]} for role, text in contents]}
    if tools:
        body["tools"] = [{"functionDeclarations": [{"name": "read_file", "parameters": {"type": "object"}}]}]
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": input_tokens, "candidatesTokenCount": 3,
                                "totalTokenCount": input_tokens + 3},
              "modelVersion": "gemini-2.5-pro", "responseId": f"g{number}"}  # fmt: skip
    return captured_exchange("/v1beta/models/gemini-2.5-pro:generateContent", body, answer,
                             host="https://generativelanguage.googleapis.com",
                             response_headers=(("content-type", "application/json"),), timing=timed(number),
                             id=f"f{number}")  # fmt: skip


def test_geminis_chat_compression_and_a_bare_shorter_history_against_a_window_said_unknown_never_guessed(tmp_path):
    talk = [("user", "Read it."), ("model", "Read."), ("user", "And this."), ("model", "Read."), ("user", "Fix it.")]
    restart = [("user", "The state so far."), ("model", "Got it."), ("user", "Fix it.")]
    newer = [("user", "A newer state."), *restart[1:]]
    snapshot = ("user", "First, reason in your scratchpad. Then, generate the <state_snapshot>.")
    report, agents, run = records_of(tmp_path, [
        gemini_turn(1, talk[:3], 30_000),
        gemini_turn(2, talk, 50_000),
        gemini_turn(3, [*talk, snapshot], 51_000, tools=False),  # the compression request
        gemini_turn(4, restart, 8_000),
        gemini_turn(5, [*restart, ("model", "Fixed."), ("user", "Test it.")], 20_000),
        gemini_turn(6, newer, 6_000),  # shorter, with no summarising request
        gemini_turn(7, [*newer, ("model", "Tested."), ("user", "Ship it.")], 7_000),
        gemini_turn(8, newer[:1], 5_000),  # only a first part of #7 re-sent: cut (an edit, a rewind), not compacted
    ], gemini)  # fmt: skip
    unknown = {"model": "gemini-2.5-pro", "share_before": None, "share_after": None, "window": None}
    assert agents["main"]["compactions"] == [
        {"agent": "main", **unknown, "request": 3, "trigger_turn": 2, "tokens_before": 50_000, "after_turn": 4,
         "tokens_after": 8_000, "found_by": ["a request asking for a summary block"]},
        {"agent": "main", **unknown, "request": None, "trigger_turn": 5, "tokens_before": 20_000, "after_turn": 6,
         "tokens_after": 6_000, "found_by": ["a shorter history"]},
    ]  # fmt: skip
    assert (agents["main"]["tokens"], agents["main"]["source"], run["headroom_tokens"]) == (None, "unknown", None)
    assert summary_line(report) == (f"- Window: window unknown for `gemini-2.5-pro`: {PriceBook().database} gives no "
                                    "window for it: give it as context_window in a price file (--prices FILE or "
                                    "$PROBE_PRICES)")  # fmt: skip
    assert turn_row(report, 2) == ["#2", "50,000", "window unknown"]
    assert section(report).splitlines()[6:] == [
        f"| `main` | `gemini-2.5-pro` | window unknown | {PriceBook().database} gives no window for it: give it as "
        "context_window in a price file (--prices FILE or $PROBE_PRICES) |  | unknown | unknown | unknown | share "
        "unknown → share unknown, share unknown → share unknown |",
        "", "Compactions:", "",
        "- `main` on `gemini-2.5-pro`, summed up by #3 (found by a request asking for a summary block): 50,000 tokens "
        "(share unknown) at #2 → 8,000 tokens (share unknown) at #4",
        "- `main` on `gemini-2.5-pro` (found by a shorter history): 20,000 tokens (share unknown) at #5 → 6,000 "
        "tokens (share unknown) at #6",
    ]  # fmt: skip


def test_a_compaction_the_agents_account_names_is_paired_with_the_turns_around_its_request():
    compactions = Compactions()
    compactions.seen = [Seen(1, "main", "m", 150_000, 200_000, 0.75), Seen(2, "main", "small", 500, 200_000, 0.0025),
                        Seen(3, "main", "m", 160_000, 200_000, 0.8), Seen(4, "main", "m", None, 200_000, None),
                        Seen(5, "main", "m", 30_000, 200_000, 0.15)]  # fmt: skip
    logged = [SimpleNamespace(numbers=[3]), SimpleNamespace(numbers=[3]), SimpleNamespace(numbers=[])]
    account = SimpleNamespace(compactions=logged)  # logged twice (telemetry, session file), and once unplaced
    (found,) = compactions.finish(account)
    # The turn before is the last on the same model (the small model's #2 apart); the failed #4 spent nothing, so
    # the turn after is #5. A compaction the account could not place beside a request is not paired.
    assert (found.request, found.before.number, found.after.number, found.found_by) == (3, 1, 5, [ACCOUNT])


def test_usage_past_the_tables_window_is_a_finding_in_the_report(tmp_path):
    database = PriceBook().database
    report, agents, run = records_of(tmp_path, [
        claude(1, HAIKU, 250_000, history(1), headers=()), claude(2, HAIKU, 100_000, history(3), headers=()),
    ])  # fmt: skip
    assert agents["main"]["compactions"] == [] and run["compactions"] == 0
    # The window becomes the 250,000 seen: 100,000 / 250,000 at the end, 150,000 left.
    assert summary_line(report) == (
        "- Window: peak 100.0% of 250,000 (largest input seen), never compacted; 150,000 tokens (60.0%) left at the end"
    )
    assert section(report).splitlines()[6:] == [
        f"| `main` | `{HAIKU}` | 250,000 | largest input seen |  | 100.0% (#1) | 40.0% (#2) | 150,000 (60.0%) |  |",
        "", "Where a table's window was wrong for this run:", "",
        f"- `{HAIKU}`: 250,000 input tokens seen, past {database}'s 200,000: the window is taken as what was seen",
    ]  # fmt: skip


def test_anthropics_server_side_compaction_block_is_a_compaction_in_the_answer(tmp_path):
    corpus = Path(__file__).parent.parent / "corpus" / "anthropic.messages" / "compaction-block.jsonl"
    exchange = json.loads(corpus.read_text().splitlines()[0])
    report, agents, _ = records_of(tmp_path, [exchange])
    (compaction,) = agents["main"]["compactions"]
    # The capture's one request is its own turn before; no turn came after it.
    assert (compaction["request"], compaction["trigger_turn"], compaction["after_turn"], compaction["found_by"]) == (
        1, 1, None, ["a compaction in the answer"])  # fmt: skip
    tokens, share = compaction["tokens_before"], compaction["share_before"]
    assert share == round(tokens / compaction["window"], 4)
    assert section(report).splitlines()[-1] == (
        f"- `main` on `claude-sonnet-4-5`, summed up by #1 (found by a compaction in the answer): {tokens:,} tokens "
        f"({share:.1%}) at #1 → no turn after"
    )


def test_a_run_longer_than_the_turns_kept_for_compactions_says_where_it_stopped_looking(tmp_path, monkeypatch):
    monkeypatch.setattr(compactions_module, "TURNS_KEPT", 2)
    monkeypatch.setattr(window_section, "TURNS_KEPT", 2)
    summarise = "Summarise the conversation. Answer with a <summary> block."
    report, agents, _ = records_of(tmp_path, [
        claude(1, HAIKU, 1_000, history(1), headers=()), claude(2, HAIKU, 2_000, history(3), headers=()),
        claude(3, HAIKU, 3_000, history(4, summarise), headers=()),  # past the turns kept: not looked at
    ])  # fmt: skip
    assert agents["main"]["compactions"] == []
    assert section(report).splitlines()[-1] == (
        "Compactions were looked for over the run's first 2 turns, not the 1 after them."
    )


def test_a_prompt_holding_a_summary_tag_a_fresh_start_and_a_cut_that_grew_are_no_compactions(tmp_path):
    faq = "Add a <details><summary>FAQ</summary> block to the README."  # the tag, but no summary asked for
    report, agents, run = records_of(tmp_path, [
        claude(1, SONNET, 30_000, history(5)),
        claude(2, SONNET, 31_000, history(7, faq)),
        claude(3, SONNET, 2_000, history(1, "/clear, then a new task.")),  # a history of one: started afresh
        claude(4, SONNET, 9_000, history(5)),
        claude(5, SONNET, 12_000, history(3, "Rewound, and asked again.")),  # shorter, but took more input
    ])  # fmt: skip
    assert agents["main"]["compactions"] == [] and run["compactions"] == 0
    assert "never compacted" in summary_line(report)
