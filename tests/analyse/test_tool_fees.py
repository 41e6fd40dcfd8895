"""Server tools the API runs itself and bills by use (web search, web fetch): each reader counts their uses, the
cost prices them with the installed price database where it has a fee for them, as a line of its own, and says
how many uses it leaves out where it has none; the expected fees are worked out here from the price data."""

import json
from decimal import Decimal

import genai_prices
import pytest
from test_cost import analysed, anthropic, gemini, price, responses, run_cost, turn_costs

from probe.apis.openai_chat.choices import usage_of as chat_usage

SEARCHING = {"input_tokens": 2_000, "output_tokens": 300, "server_tool_use": {"web_search_requests": 3,
                                                                              "web_fetch_requests": 2}}  # fmt: skip
RESPONSES_USAGE = {"input_tokens": 5_000, "output_tokens": 400}
GEMINI_USAGE = {"promptTokenCount": 4_000, "candidatesTokenCount": 200}
SEARCH_CALL = {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}}


def fee_per_use(model: str, provider: str) -> Decimal | None:
    """The database's web-search price for `model`, per use (it lists it per thousand); None where it has none,
    as releases before server-tool prices have for every model."""
    when = genai_prices.calc_price(genai_prices.Usage(input_tokens=1), model, provider_id=provider,
                                   genai_request_timestamp=None)  # fmt: skip
    per_thousand = getattr(when.model_price, "web_searches_kcount", None)
    return per_thousand / 1000 if per_thousand else None


def grounded(number, model, queries):
    """A Gemini answer grounded in Google Search, with the queries it ran."""
    record = gemini(number, model, GEMINI_USAGE)
    record["response"]["body"]["candidates"][0]["groundingMetadata"] = {"webSearchQueries": queries}
    return record


def test_server_tool_uses_are_priced_as_fees_or_said_to_be_left_out(tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    searching = responses(2, "gpt-5", RESPONSES_USAGE)
    output = searching["response"]["body"]["output"]
    output[:0] = [dict(SEARCH_CALL, id="ws_1"), dict(SEARCH_CALL, id="ws_2")]
    report, records = analysed(tmp_path, [
        anthropic(1, "claude-sonnet-4-5", SEARCHING), searching,
        # Gemini 2.5 is billed once per grounded prompt, whatever its queries; Gemini 3 per query.
        grounded(3, "gemini-2.5-flash", ["a", "b"]), grounded(4, "gemini-3-flash-preview", ["a", "b", "c"]),
    ])  # fmt: skip
    cases = {
        1: ("claude-sonnet-4-5", "anthropic", 3, price("claude-sonnet-4-5", "anthropic", 2_000, output=300)),
        2: ("gpt-5", "openai", 2, price("gpt-5", "openai", 5_000, output=400)),
        3: ("gemini-2.5-flash", "google", 1, price("gemini-2.5-flash", "google", 4_000, output=200)),
        4: ("gemini-3-flash-preview", "google", 3, price("gemini-3-flash-preview", "google", 4_000, output=200)),
    }
    costs = turn_costs(records)
    fees, priced, left_out = Decimal(0), 0, 0
    for number, (model, provider, searches, tokens) in cases.items():
        cost, per_use = costs[number], fee_per_use(model, provider)
        fee = per_use * searches if per_use else Decimal(0)
        assert cost["fees_usd"] == pytest.approx(float(fee), abs=1e-12), number
        assert cost["usd"] == pytest.approx(float(tokens + fee), rel=1e-9), number
        assert cost["input_usd"] + cost["output_usd"] == pytest.approx(float(tokens), rel=1e-9), number
        assert (cost["tool_uses_priced"], cost["tool_uses_left_out"].get("web_search")) == (
            ({"web_search": searches}, None) if per_use else ({}, searches)), number  # fmt: skip
        fees += fee
        priced, left_out = priced + (searches if per_use else 0), left_out + (0 if per_use else searches)
    # Web fetches have no price of their own in any release: the cost says it leaves them out.
    assert costs[1]["tool_uses_left_out"]["web_fetch"] == 2
    total = run_cost(records)
    assert total["fees_usd"] == pytest.approx(float(fees), abs=1e-12)
    assert total["tool_uses_left_out"] == {"web_fetch": 2, **({"web_search": left_out} if left_out else {})}
    cost_section = report.split("## Cost", 1)[1].split("\n## ", 1)[0]
    if priced:
        assert f"Of that, ${fees:,.4f} is fees beyond the tokens for {priced} web searches." in cost_section
    leaves = f"{left_out} web searches and 2 web fetches" if left_out else "2 web fetches"
    assert f"**The cost leaves out {leaves}**: server tools the API ran" in cost_section
    summary = report.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert f"(leaves out {leaves}: no price)" in summary


def test_a_price_file_leaves_server_tools_out_and_says_so(tmp_path, monkeypatch):
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  claude-sonnet-4-5: {input: 1, output: 2}\n")
    monkeypatch.setenv("PROBE_PRICES", str(prices))
    report, records = analysed(tmp_path, [anthropic(1, "claude-sonnet-4-5", SEARCHING)])
    cost = turn_costs(records)[1]
    assert cost["usd"] == pytest.approx((2_000 * 1 + 300 * 2) / 1e6) and cost["fees_usd"] == 0
    assert cost["tool_uses_left_out"] == {"web_search": 3, "web_fetch": 2}
    assert "**The cost leaves out 3 web searches and 2 web fetches**" in report
    assert "fees beyond the tokens" not in report


def test_chat_completions_count_the_searches_they_report():
    perplexity = chat_usage({"prompt_tokens": 10, "completion_tokens": 5, "num_search_queries": 2})
    gateway = chat_usage({"prompt_tokens": 10, "completion_tokens": 5, "server_tool_use": {"web_search_requests": 1}})
    hostile = chat_usage({"prompt_tokens": 1, "num_search_queries": -4, "server_tool_use": {"x_requests": "many"}})
    assert (perplexity.server_tools, gateway.server_tools, hostile.server_tools) == (
        {"web_search": 2}, {"web_search": 1}, {})  # fmt: skip


def sse(*events: dict) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def test_a_paused_streamed_search_is_priced_from_the_usage_its_last_event_gives(tmp_path, monkeypatch):
    """As a recorded web search streams: message_start counts no search, the message_delta that pauses the turn
    counts them all (and the input the searches read)."""
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    start = {"input_tokens": 2_479, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 6}
    stream = sse(
        {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                                              "model": "claude-sonnet-4-5", "usage": start}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "searching"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "pause_turn"},
         "usage": {"input_tokens": 40_450, "output_tokens": 943,
                   "server_tool_use": {"web_search_requests": 10, "web_fetch_requests": 0}}},
        {"type": "message_stop"},
    )  # fmt: skip
    record = anthropic(1, "claude-sonnet-4-5", {})
    record["response"].update(body=stream, body_format="text", headers=[["content-type", "text/event-stream"]])
    report, records = analysed(tmp_path, [record])
    cost = turn_costs(records)[1]
    per_use = fee_per_use("claude-sonnet-4-5", "anthropic")
    tokens = price("claude-sonnet-4-5", "anthropic", 40_450, output=943)
    assert cost["usd"] == pytest.approx(float(tokens + (per_use or 0) * 10), rel=1e-9)
    assert (cost["tool_uses_priced"], cost["tool_uses_left_out"]) == (
        ({"web_search": 10}, {}) if per_use else ({}, {"web_search": 10}))  # fmt: skip
    assert ("for 10 web searches." if per_use else "**The cost leaves out 10 web searches**") in report
