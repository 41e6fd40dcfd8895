"""Server tools the API runs itself and bills by use (web search, web fetch): each reader counts their uses, the
cost prices them with the installed price database where it has a fee for them, as a line of its own, and says
how many uses it leaves out where it has none; the expected fees are worked out here from the price data."""

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
