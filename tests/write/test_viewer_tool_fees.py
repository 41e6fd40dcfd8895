"""The viewer's cost card gives the fees the server tools cost beyond the tokens, and the uses its cost leaves out
for want of a price, as the report does; the fee worked out here from the price database's data."""

import genai_prices
import orjson
from conftest import captured_exchange
from test_viewer import analysed, assert_quiet

from probe.write.viewer.headless import open_page

USAGE = {"input_tokens": 2_000, "output_tokens": 300,
         "server_tool_use": {"web_search_requests": 4, "web_fetch_requests": 1}}  # fmt: skip


def test_the_cost_card_gives_server_tool_fees_and_what_it_leaves_out(browser, tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "search"}]}
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": [{"type": "text", "text": "found"}], "stop_reason": "end_turn", "usage": USAGE}  # fmt: skip
    start = 1_795_000_000.0
    record = captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com", id="f1",
                               response_headers=(("content-type", "application/json"),),
                               timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0})  # fmt: skip
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_bytes(orjson.dumps(record) + b"\n")
    page = analysed(traffic, "claude-code", tmp_path / "run")
    found = genai_prices.calc_price(genai_prices.Usage(input_tokens=1), "claude-sonnet-4-5", provider_id="anthropic")
    per_thousand = getattr(found.model_price, "web_searches_kcount", None)
    watched = open_page(browser, page)
    card = watched.text(".ov-cost")
    if per_thousand:
        assert f"Of that, ${per_thousand * 4 / 1000:,.4f} is fees beyond the tokens for 4 web searches." in card
        assert "The cost leaves out 1 web fetch: server tools the API ran" in card
    else:  # a release without server-tool prices
        assert "The cost leaves out 4 web searches and 1 web fetch: server tools the API ran" in card
        assert "fees beyond the tokens" not in card
    assert_quiet(watched)
    watched.page.context.close()
