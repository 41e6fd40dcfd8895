"""Each turn's context window and where it came from (a price table, the 1M-context header, the agent's own model
list, the largest input seen), the share of it each turn took, each agent's peak and last share against its own
models' windows, and the run's headroom at the end, through the real readers and the insight file."""

import json

import pytest
from conftest import captured_exchange
from test_agents import report_of

from probe.analyse.prices import MOCK_PRICES, PRICES_ENV, PriceBook, price_book, prices_from
from probe.apis.openai_responses import report as openai_responses
from probe.common import markdown as md
from probe.common.errors import UsageError

SESSION = ("x-claude-code-session-id", "5e551011-aaaa-bbbb-cccc-000000000002")
LONG_CONTEXT = ("anthropic-beta", "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14")
SUB_AGENT = ("x-claude-code-agent-id", "a1c0ffee")
DONE = [{"type": "text", "text": "Done."}]


@pytest.fixture(autouse=True)
def database_prices(monkeypatch):
    monkeypatch.delenv(PRICES_ENV, raising=False)  # priced, and so windowed, by the database unless a test says


def claude_turn(number, model, input_tokens, headers=()):
    """One Messages exchange on `model` that reported `input_tokens`."""
    start = 1000.0 + number * 10
    body = {"model": model, "max_tokens": 1024, "system": "You are an agent.",
            "messages": [{"role": "user", "content": f"Ask {number}."}]}  # fmt: skip
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": model, "content": DONE,
              "stop_reason": "end_turn", "usage": {"input_tokens": input_tokens, "output_tokens": 10}}  # fmt: skip
    return captured_exchange(
        "/v1/messages", body, answer, host="https://api.anthropic.com",
        request_headers=(("content-type", "application/json"), SESSION, *headers),
        response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


def codex_turn(number, model, input_tokens):
    start = 1000.0 + number * 10
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Go."}]}
    body = {"model": model, "instructions": "You are codex.", "input": [user], "tools": [], "stream": False}
    answer = {"id": f"resp_{number}", "object": "response", "status": "completed", "model": model,
              "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}],
              "usage": {"input_tokens": input_tokens, "output_tokens": 5}}  # fmt: skip
    headers = [("content-type", "application/json"), ("session-id", "root"), ("thread-id", "root")]
    return captured_exchange(
        "/v1/responses", body, answer, request_headers=headers,
        response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


def model_list(models):
    """codex's fetch of its backend's model list, answered with `models`."""
    record = captured_exchange("/v1/models?client_version=0.169.0", None, {"models": models},
                               response_headers=(("content-type", "application/json"),), id="models")  # fmt: skip
    record["request"].update(method="GET", body_format="empty")
    return record


def facts(tmp_path, exchanges, renderer=None):
    _, records = report_of(tmp_path, exchanges, **({"renderer": renderer} if renderer else {}))
    turns = {record["number"]: record for record in records if record["record"] == "turn"}
    agents = {record["id"]: record["window"] for record in records if record["record"] == "agent"}
    run = next(record for record in records if record["record"] == "run")
    return turns, agents, run["window"]


def test_the_1m_header_widens_only_a_model_that_takes_it_and_a_haiku_title_request_keeps_its_own_window(tmp_path):
    database = PriceBook().database
    turns, agents, run = facts(tmp_path, [
        claude_turn(1, "claude-sonnet-4-20250514", 50_000),
        claude_turn(2, "claude-haiku-4-5-20251001", 1_000, headers=[LONG_CONTEXT]),  # a title request
        claude_turn(3, "claude-sonnet-4-20250514", 300_000, headers=[LONG_CONTEXT]),
    ])  # fmt: skip
    standard = "standard window, no context-1m header"  # Sonnet 4 takes the beta: its window is the header's
    assert turns[1]["window"] == {"tokens": 200_000, "source": standard, "effective": None, "note": None}
    assert turns[1]["share"] == 0.25
    assert turns[2]["window"] == {
        "tokens": 200_000, "source": database, "effective": None,
        "note": "the context-1m header does not widen claude-haiku-4-5-20251001's window",
    }  # fmt: skip
    assert turns[2]["share"] == 0.005
    assert turns[3]["window"] == {"tokens": 1_000_000, "source": "context-1m header", "effective": None, "note": None}
    assert turns[3]["share"] == 0.3
    # The main agent is measured by its main model, the title request apart.
    main = agents["main"]
    assert (main["model"], main["tokens"], main["peak_share"], main["peak_turn"], main["last_share"]) == (
        "claude-sonnet-4-20250514", 1_000_000, 0.3, 3, 0.3)  # fmt: skip
    assert [(f["model"], f["turns"], f["last_share"]) for f in main["by_model"]] == [
        ("claude-sonnet-4-20250514", 2, 0.3), ("claude-haiku-4-5-20251001", 1, 0.005)]  # fmt: skip
    assert (run["agent"], run["tokens"], run["input"], run["headroom_tokens"], run["headroom_share"]) == (
        "main", 1_000_000, 300_000, 700_000, 0.7)  # fmt: skip
    assert run["findings"] == []


def test_each_sub_agent_is_measured_against_its_own_models_window(tmp_path):
    with prices_from(MOCK_PRICES):
        turns, agents, run = facts(tmp_path, [
            claude_turn(1, "claude-opus-5-5", 100_000, headers=[LONG_CONTEXT]),
            claude_turn(2, "claude-haiku-4-5", 150_000, headers=[LONG_CONTEXT, SUB_AGENT]),
            claude_turn(3, "claude-opus-5-5", 120_000, headers=[LONG_CONTEXT]),
        ])  # fmt: skip
    assert turns[1]["window"]["tokens"] == 1_000_000 and turns[1]["window"]["source"] == "mock_prices.yaml"
    assert turns[2]["window"]["tokens"] == 200_000 and turns[2]["window"]["source"] == PriceBook().database
    assert [turns[n]["share"] for n in (1, 2, 3)] == [0.1, 0.75, 0.12]
    assert (agents["main"]["model"], agents["main"]["peak_share"], agents["main"]["last_share"]) == (
        "claude-opus-5-5", 0.12, 0.12)  # fmt: skip
    assert (agents["a1c0ffee"]["model"], agents["a1c0ffee"]["tokens"], agents["a1c0ffee"]["peak_share"]) == (
        "claude-haiku-4-5", 200_000, 0.75)  # fmt: skip
    assert (run["model"], run["headroom_tokens"], run["headroom_share"]) == ("claude-opus-5-5", 880_000, 0.88)


def test_a_codex_model_list_gives_the_window_the_table_lacks_and_its_effective_share(tmp_path):
    listed = [{"slug": "codex-house-model", "context_window": 272_000, "max_context_window": 272_000},
              {"slug": "gpt-5", "context_window": 272_000, "effective_context_window_percent": 90}]  # fmt: skip
    turns, _, _ = facts(tmp_path, [
        model_list(listed), codex_turn(1, "codex-house-model", 68_000), codex_turn(2, "gpt-5", 100_000),
    ], openai_responses)  # fmt: skip
    # The model list is the run's first exchange: the turns are #2 and #3.
    assert turns[2]["window"] == {"tokens": 272_000, "source": "the agent's model list", "effective": 258_400,
                                  "note": None}  # fmt: skip
    assert turns[2]["share"] == 0.25
    # The table knows gpt-5 (400,000): the list does not deny it, and gives codex's own limit as the effective one.
    assert turns[3]["window"] == {"tokens": 400_000, "source": PriceBook().database, "effective": 244_800,
                                  "note": "the agent's model list gives 272,000, of which it fills 90%"}  # fmt: skip
    assert turns[3]["share"] == 0.25


# Anthropic's standard window, and the 1M one its context-1m beta opens, for each model that takes the beta; and the
# models whose own window is 1M (platform.claude.com/docs/en/models/…/overview): written here, not taken from the code
# under test.
GATED = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514"]
NATIVE = ["claude-opus-4-6", "claude-sonnet-4-6"]


@pytest.mark.parametrize("model", NATIVE)
def test_a_model_whose_own_window_is_1m_has_it_with_or_without_the_header_whatever_the_table_says(tmp_path, model):
    # genai-prices 0.0.61 (Python 3.11) gives Opus 4.6 200,000, 0.2.3 (3.12) 1,000,000: the window is the same on both.
    turns, _, _ = facts(tmp_path, [claude_turn(1, model, 150_000),
                                   claude_turn(2, model, 150_000, headers=[LONG_CONTEXT])])  # fmt: skip
    for number in (1, 2):
        window = turns[number]["window"]
        assert (window["tokens"], window["source"], turns[number]["share"]) == (
            1_000_000, "the model's own 1M window", 0.15)  # fmt: skip


@pytest.mark.parametrize("model", GATED)
def test_a_model_that_takes_the_1m_beta_has_the_standard_window_without_its_header_whatever_the_table_says(
    tmp_path, model
):
    # genai-prices 0.0.61 (Python 3.11) gives Sonnet 4.5 1,000,000: this test runs on both, and the window is the same.
    turns, _, _ = facts(tmp_path, [claude_turn(1, model, 150_000),
                                          claude_turn(2, model, 150_000, headers=[LONG_CONTEXT])])  # fmt: skip
    assert (turns[1]["window"]["tokens"], turns[1]["share"]) == (200_000, 0.75)
    assert turns[1]["window"]["source"] == "standard window, no context-1m header"
    assert (turns[2]["window"]["tokens"], turns[2]["window"]["source"], turns[2]["share"]) == (
        1_000_000, "context-1m header", 0.15)  # fmt: skip


def test_an_unknown_window_says_why_and_how_to_give_it_in_the_insight_the_window_table_and_the_summary(tmp_path):
    report, records = report_of(tmp_path, [claude_turn(1, "acme-house-model", 90_000)])
    [turn] = [record for record in records if record["record"] == "turn"]
    why = (f"{PriceBook().database} knows no such model: give it as context_window in a price file (--prices FILE or "
           "$PROBE_PRICES)")  # fmt: skip
    assert turn["window"] == {"tokens": None, "source": "unknown", "effective": None, "note": why}
    row = next(line for line in report.splitlines() if line.startswith("| `main` | `acme-house-model` |"))
    assert row.startswith(f"| `main` | `acme-house-model` | window unknown | {md.text(why)} |"), row
    assert "- Window: window unknown for `acme-house-model`: " in report and str(md.text(why)) in report


def test_a_model_no_table_knows_has_an_unknown_window_never_a_default(tmp_path):
    turns, agents, run = facts(tmp_path, [claude_turn(1, "acme-house-model", 90_000, headers=[LONG_CONTEXT])])
    assert turns[1]["window"] == {"tokens": None, "source": "unknown", "effective": None, "note": (
        "the context-1m header does not widen acme-house-model's window")}  # fmt: skip
    assert turns[1]["share"] is None
    assert (agents["main"]["tokens"], agents["main"]["source"], agents["main"]["peak_share"]) == (None, "unknown", None)
    assert (run["tokens"], run["source"], run["headroom_tokens"], run["headroom_share"]) == (
        None, "unknown", None, None)  # fmt: skip


def test_usage_past_the_tables_window_is_a_finding_and_the_window_is_at_least_what_was_seen(tmp_path):
    database = PriceBook().database
    turns, agents, run = facts(tmp_path, [
        claude_turn(1, "claude-haiku-4-5", 250_000), claude_turn(2, "claude-haiku-4-5", 100_000),
    ])  # fmt: skip
    assert turns[1]["window"] == {"tokens": 250_000, "source": "largest input seen", "effective": None, "note": (
        f"250,000 input tokens seen, past {database}'s 200,000: the table is wrong here")}  # fmt: skip
    assert (turns[1]["share"], turns[2]["window"]["tokens"], turns[2]["share"]) == (1.0, 250_000, 0.4)
    assert agents["main"]["peak_share"] == 1.0 and agents["main"]["last_share"] == 0.4
    assert run["findings"] == [{"model": "claude-haiku-4-5", "window": 200_000, "source": database, "seen": 250_000}]
    assert (run["headroom_tokens"], run["headroom_share"]) == (150_000, 0.6)


@pytest.mark.parametrize("value", [0, -5, 1.5, "many", True])
def test_a_price_files_window_is_a_whole_number_of_tokens_or_a_one_line_error(tmp_path, value):
    prices = tmp_path / "prices.yaml"
    prices.write_text(json.dumps({"models": {"house": {"input": 1, "output": 2, "context_window": value}}}))
    with pytest.raises(UsageError, match=r"house.*context_window: expected a whole number of tokens above 0"):
        price_book(prices)
    prices.write_text(json.dumps({"models": {"house": {"input": 1, "output": 2, "context_window": 64_000}}}))
    assert price_book(prices).from_file("house").context_window == 64_000


def test_the_main_model_is_the_one_that_carried_the_input_and_a_peak_keeps_the_window_it_was_measured_against(
    tmp_path,
):
    # Side calls on haiku (a title, a quota check) outnumber the conversation's turns, which carry nearly all the
    # input; the conversation moves to the 1M window after its peak against 200,000.
    sonnet, haiku = "claude-sonnet-4-20250514", "claude-haiku-4-5-20251001"
    exchanges = [
        claude_turn(1, haiku, 12), claude_turn(2, haiku, 400),
        claude_turn(3, sonnet, 100_000), claude_turn(4, sonnet, 180_000),
        claude_turn(5, haiku, 300),
        claude_turn(6, sonnet, 60_000, headers=[LONG_CONTEXT]), claude_turn(7, sonnet, 70_000, headers=[LONG_CONTEXT]),
        claude_turn(8, haiku, 20),
    ]  # fmt: skip
    _, agents, run = facts(tmp_path, exchanges)
    main = agents["main"]
    assert (main["model"], main["turns"], main["peak_share"], main["peak_turn"]) == (sonnet, 4, 0.9, 4)
    # the peak's own window, the standard one of a model that takes the 1M beta
    assert (main["peak_tokens"], main["peak_source"]) == (200_000, "standard window, no context-1m header")
    assert (main["tokens"], main["source"], main["last_share"], main["last_turn"]) == (
        1_000_000, "context-1m header", 0.07, 7)  # fmt: skip
    assert (run["model"], run["tokens"], run["input"], run["headroom_tokens"], run["headroom_share"]) == (
        sonnet, 1_000_000, 70_000, 930_000, 0.93)  # fmt: skip
    report, _ = report_of(tmp_path, exchanges)
    assert "- Window: peak 90.0% of 200,000 (standard window, no context-1m header), never compacted; 930,000 tokens " \
        "(93.0%) left" in report  # fmt: skip
    row = next(line for line in report.splitlines() if line.startswith("| `main` | `claude-sonnet"))
    assert "| 90.0% (#4) of 200,000 | 7.0% (#7) |" in row


def test_a_model_name_too_long_to_be_any_models_is_neither_looked_up_nor_kept(tmp_path):
    hostile = "claude-" + "x" * 300_000
    turns, agents, _ = facts(tmp_path, [claude_turn(1, hostile, 5_000), claude_turn(2, "claude-sonnet-4-20250514", 9)])
    assert turns[1]["window"] == {"tokens": None, "source": "unknown", "effective": None,
                                  "note": "the request's model name is too long to be any model's"}  # fmt: skip
    assert turns[1]["share"] is None and agents["main"]["model"] == "claude-sonnet-4-20250514"
    assert all(len(fill["model"]) < 100 for fill in agents["main"]["by_model"])
