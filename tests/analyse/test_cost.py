"""Costs, held to the price database computed independently here with each API's own counting: Anthropic's cache
reads and writes sent apart from input (and 1-hour writes priced as such), OpenAI's and Gemini's cached tokens
inside input, reasoning as output; an unknown model is "unknown" with its reason and is never counted as $0; a
price file comes before the database, and a bad one is one line."""

import io
import subprocess
import sys
from decimal import Decimal

import genai_prices
import orjson
import pytest
from conftest import captured_exchange

from probe.analyse.prices import price_book
from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.common.errors import UsageError

START = 1_795_000_000.0  # November 2026


def anthropic(number, model, usage):
    body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": f"question {number}"}]}
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": model,
              "content": [{"type": "text", "text": "answer"}], "stop_reason": "end_turn", "usage": usage}  # fmt: skip
    return exchange("/v1/messages", body, answer, "https://api.anthropic.com", number)


def responses(number, model, usage):
    body = {"model": model, "input": [{"role": "user", "content": [{"type": "input_text", "text": "question"}]}]}
    answer = {"id": f"resp_{number}", "object": "response", "status": "completed", "model": model,
              "output": [{"type": "message", "role": "assistant", "id": f"msg_{number}",
                          "content": [{"type": "output_text", "text": "answer"}]}], "usage": usage}  # fmt: skip
    return exchange("/v1/responses", body, answer, "https://api.openai.com", number)


def chat(number, model, usage):
    body = {"model": model, "messages": [{"role": "user", "content": "question"}]}
    answer = {"id": f"chatcmpl-{number}", "object": "chat.completion", "model": model,
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "answer"},
                           "finish_reason": "stop"}], "usage": usage}  # fmt: skip
    return exchange("/v1/chat/completions", body, answer, "https://api.openai.com", number)


def gemini(number, model, usage):
    body = {"contents": [{"role": "user", "parts": [{"text": "question"}]}]}
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "answer"}]}, "finishReason": "STOP"}],
              "usageMetadata": usage, "modelVersion": model, "responseId": f"g{number}"}  # fmt: skip
    path = f"/v1beta/models/{model}:generateContent"
    return exchange(path, body, answer, "https://generativelanguage.googleapis.com", number)


def exchange(path, body, answer, host, number):
    start = START + number * 10
    return captured_exchange(
        path, body, answer, host=host, response_headers=(("content-type", "application/json"),),
        timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
    )  # fmt: skip


def price(model, provider, total, read=0, write=0, write_1h=0, output=0) -> Decimal:
    """The oracle: the database's own price for the counts as it defines them (input includes every cached token),
    with Anthropic's 1-hour writes at twice the input price where the database has no price of their own."""
    counts = {"input_tokens": total, "cache_read_tokens": read, "cache_write_tokens": write, "output_tokens": output}
    found = genai_prices.calc_price(genai_prices.Usage(**counts), model, provider_id=provider)
    if not write_1h:
        return found.total_price
    model_price = found.model_price
    if getattr(model_price, "cache_write_1h_mtok", None) is not None:
        usage = genai_prices.Usage(**counts, cache_write_1h_tokens=write_1h)
        return genai_prices.calc_price(usage, model, provider_id=provider).total_price
    input_mtok = getattr(model_price.input_mtok, "base", model_price.input_mtok)
    write_mtok = getattr(model_price.cache_write_mtok, "base", model_price.cache_write_mtok)
    return found.total_price + write_1h * (2 * input_mtok - write_mtok) / Decimal(1_000_000)


def analysed(tmp_path, exchanges):
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in exchanges))
    insight = io.BytesIO()
    report, _ = build_report(traffic, anthropic_messages, None, insight=insight)
    records = [orjson.loads(line) for line in insight.getvalue().splitlines()]
    return report, records


def turn_costs(records):
    return {record["number"]: record["cost"] for record in records if record["record"] == "turn"}


def run_cost(records):
    return next(record for record in records if record["record"] == "run")["cost"]


ANTHROPIC_CACHED = {"input_tokens": 120, "cache_read_input_tokens": 30_000, "cache_creation_input_tokens": 9_000,
                    "cache_creation": {"ephemeral_5m_input_tokens": 5_000, "ephemeral_1h_input_tokens": 4_000},
                    "output_tokens": 800}  # fmt: skip
ANTHROPIC_5M = {"input_tokens": 50, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 2_000,
                "output_tokens": 100}  # fmt: skip
RESPONSES_USAGE = {"input_tokens": 20_000, "input_tokens_details": {"cached_tokens": 16_000}, "output_tokens": 1_500,
                   "output_tokens_details": {"reasoning_tokens": 1_200}, "total_tokens": 21_500}  # fmt: skip
CHAT_USAGE = {"prompt_tokens": 3_000, "completion_tokens": 400, "total_tokens": 3_400,
              "prompt_tokens_details": {"cached_tokens": 2_048},
              "completion_tokens_details": {"reasoning_tokens": 300}}  # fmt: skip
GEMINI_USAGE = {"promptTokenCount": 10_000, "cachedContentTokenCount": 6_000, "candidatesTokenCount": 500,
                "thoughtsTokenCount": 700, "totalTokenCount": 11_200}  # fmt: skip


def test_each_api_is_priced_by_its_own_counting(tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    _, records = analysed(tmp_path, [
        anthropic(1, "claude-sonnet-4-5", ANTHROPIC_CACHED),
        anthropic(2, "claude-sonnet-4-5", ANTHROPIC_5M),
        responses(3, "gpt-5", RESPONSES_USAGE),
        chat(4, "gpt-5", CHAT_USAGE),
        gemini(5, "gemini-2.5-pro", GEMINI_USAGE),
    ])  # fmt: skip
    expected = {
        # Anthropic: input_tokens leaves the cache out; 4,000 of the 9,000 writes are kept an hour.
        1: price("claude-sonnet-4-5", "anthropic", 39_120, read=30_000, write=9_000, write_1h=4_000, output=800),
        # A write the usage does not split is a 5-minute one.
        2: price("claude-sonnet-4-5", "anthropic", 2_050, write=2_000, output=100),
        # OpenAI: cached tokens are part of input, reasoning part of output.
        3: price("gpt-5", "openai", 20_000, read=16_000, output=1_500),
        4: price("gpt-5", None, 3_000, read=2_048, output=400),
        # Gemini: cached content is part of the prompt; thoughts are billed as output but sent apart.
        5: price("gemini-2.5-pro", "google", 10_000, read=6_000, output=1_200),
    }
    costs = turn_costs(records)
    for number, usd in expected.items():
        assert costs[number]["usd"] == pytest.approx(float(usd), rel=1e-9), number
        assert costs[number]["source"] == f"genai-prices {genai_prices.__version__}" and not costs[number]["unknown"]
    # The 1-hour writes cost more than the same writes kept 5 minutes would.
    assert costs[1]["usd"] > float(
        price("claude-sonnet-4-5", "anthropic", 39_120, read=30_000, write=9_000, output=800)
    )
    total = run_cost(records)
    assert total["usd"] == pytest.approx(float(sum(expected.values())), rel=1e-9)
    assert total["priced_turns"] == 5 and total["unknown_turns"] == 0
    assert total["by_model"]["gpt-5"]["usd"] == pytest.approx(float(expected[3] + expected[4]), rel=1e-9)
    assert total["prices"] == f"genai-prices {genai_prices.__version__}"


def test_an_unknown_model_is_unknown_with_its_reason_and_never_zero(tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    report, records = analysed(tmp_path, [
        anthropic(1, "claude-sonnet-4-5", ANTHROPIC_5M),
        anthropic(2, "house-model-7", ANTHROPIC_5M),
        anthropic(3, "house-model-7", ANTHROPIC_5M),
    ])  # fmt: skip
    costs = turn_costs(records)
    assert costs[2]["usd"] is None and costs[3]["usd"] is None
    assert "no price for house-model-7 in genai-prices" in costs[2]["unknown"]
    total = run_cost(records)
    known = float(price("claude-sonnet-4-5", "anthropic", 2_050, write=2_000, output=100))
    assert total["usd"] == pytest.approx(known) and total["unknown_turns"] == 2 and total["priced_turns"] == 1
    assert total["by_model"]["house-model-7"] == {"usd": None, "priced_turns": 0, "unknown_turns": 2,
                                                  "fees_usd": None, "tool_uses_priced": {},
                                                  "tool_uses_left_out": {}}  # fmt: skip
    summary = report.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert f"- Cost: ${known:,.4f} for 1 turn (2 more left out: price unknown)" in summary
    assert "| `house-model-7` | 0 | 2 | unknown |" in report
    assert "$0.0000" not in report


def test_a_price_file_comes_before_the_database_and_can_leave_it_out(tmp_path, monkeypatch):
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "models:\n"
        "  house-model-*: {input: 1.5, output: 6, cache_read: 0.15, cache_write: 1.875, cache_write_1h: 3}\n"
        "  claude-sonnet-4-5: {input: 1, output: 2}\n"
    )
    monkeypatch.setenv("PROBE_PRICES", str(prices))
    _, records = analysed(tmp_path, [
        anthropic(1, "house-model-7", ANTHROPIC_CACHED), anthropic(2, "claude-sonnet-4-5", ANTHROPIC_5M),
        responses(3, "gpt-5", RESPONSES_USAGE),
    ])  # fmt: skip
    costs = turn_costs(records)
    # 120 plain, 30,000 read, 5,000 written for 5 minutes and 4,000 for an hour, 800 out.
    assert costs[1]["usd"] == pytest.approx((120 * 1.5 + 30_000 * 0.15 + 5_000 * 1.875 + 4_000 * 3 + 800 * 6) / 1e6)
    assert costs[1]["priced_as"] == "house-model-*" and costs[1]["source"] == "prices.yaml"
    # A cache price the file leaves out is the input price.
    assert costs[2]["usd"] == pytest.approx((2_050 * 1 + 100 * 2) / 1e6)
    assert costs[3]["usd"] == pytest.approx(float(price("gpt-5", "openai", 20_000, read=16_000, output=1_500)))
    assert run_cost(records)["prices"].startswith("prices.yaml (sha256 ")
    assert run_cost(records)["sources"] == {"prices.yaml": 2, f"genai-prices {genai_prices.__version__}": 1}

    prices.write_text("use_database: false\nmodels:\n  claude-sonnet-4-5: {input: 1, output: 2}\n")
    _, records = analysed(
        tmp_path, [anthropic(1, "claude-sonnet-4-5", ANTHROPIC_5M), responses(2, "gpt-5", RESPONSES_USAGE)]
    )
    costs = turn_costs(records)
    assert costs[2]["usd"] is None and "which leaves the database out" in costs[2]["unknown"]
    assert "genai-prices" not in run_cost(records)["prices"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("models: [1, 2]", "expected a mapping with `models:`"),
        ("models:\n  m: {input: 1}\n", "model 'm': needs both input and output"),
        ("models:\n  m: {input: 1, output: cheap}\n", "model 'm': output: 'cheap' is not a number"),
        ("models:\n  m: {input: -1, output: 1}\n", "expected a price of 0 or more"),
        ("models:\n  m: {input: 1, output: 1, cache_writes: 2}\n", "unknown price 'cache_writes'"),
        ("model: {}\n", "unknown key 'model'"),
        ("models: {m: [\n", "not YAML"),
    ],
)
def test_a_bad_price_file_is_one_line(tmp_path, content, message):
    prices = tmp_path / "prices.yaml"
    prices.write_text(content)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        price_book(prices)
    run = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--prices", str(prices), "--input", str(tmp_path / "none")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: price file ") and message in run.stderr
