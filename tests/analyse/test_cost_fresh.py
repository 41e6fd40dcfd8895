"""Costs of fresh runs of the real agents, held to the price database (or a price file) applied here, turn by turn,
to the usage each API sent as it sent it: per turn, per agent (sub-agents included) and per run, in insight.jsonl,
SQL and the report."""

import json
import shutil
from decimal import Decimal

import genai_prices
import pytest
from conftest import FRESH_RUNS
from price_oracle import counts_as_sent

from probe.analysis import analyze
from probe.analysis.sql import connect
from probe.read.whole_turns import whole_turns

PRICES = {  # per million tokens: input, cache read, 5-minute write, 1-hour write, output
    "claude-opus-5-5": (Decimal("4"), Decimal("0.2"), Decimal("5"), Decimal("8"), Decimal("20")),
    "gpt-6.1-sol": (Decimal("2"), Decimal("0.1"), Decimal("2.5"), Decimal("2.5"), Decimal("10")),
}


def from_database(model: str, provider: str, counts) -> Decimal | None:
    total, read, write, long, output = counts
    usage = {"input_tokens": total, "cache_read_tokens": read, "cache_write_tokens": write, "output_tokens": output}
    try:
        found = genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider)
    except LookupError:
        return None
    if long and getattr(found.model_price, "cache_write_1h_mtok", None) is not None:
        found = genai_prices.calc_price(genai_prices.Usage(**usage, cache_write_1h_tokens=long), model,
                                        provider_id=provider)  # fmt: skip
    elif long:  # Anthropic's rule where the database has no 1-hour price: twice the input price
        price = found.model_price
        return found.total_price + long * (2 * price.input_mtok - price.cache_write_mtok) / Decimal(10**6)
    return found.total_price


def from_file(model: str, counts) -> Decimal:
    total, read, write, long, output = counts
    plain_in, read_in, write_in, long_in, out = PRICES[model]
    spent = (total - read - write) * plain_in + read * read_in + (write - long) * write_in + long * long_in
    return (spent + output * out) / Decimal(10**6)


def expected_costs(run, priced) -> dict[int, Decimal | None]:
    expected = {}
    for turn in whole_turns(run / "turns.jsonl"):
        usage = turn.get("usage")
        if usage is None or not (turn["output"] or turn["stop_reason"] or turn["response_id"]):
            continue  # a token count, a failed request: nothing spent
        expected[turn["number"]] = priced(turn, counts_as_sent(turn["api"], usage["raw"]))
    return expected


def check_run(run, expected: dict[int, Decimal | None]) -> None:
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    turns = {record["number"]: record for record in records if record["record"] == "turn" and record["cost"]}
    assert set(turns) == set(expected) and expected
    for number, usd in expected.items():
        cost = turns[number]["cost"]
        if usd is None:
            assert cost["usd"] is None and cost["unknown"].startswith("no price for ")
        else:
            assert cost["usd"] == pytest.approx(float(usd), rel=1e-9) and cost["unknown"] is None
    for agent in (record for record in records if record["record"] == "agent"):
        mine = [expected[number] for number, turn in turns.items() if turn["agent"] == agent["id"]]
        known = [usd for usd in mine if usd is not None]
        assert agent["cost"]["unknown_turns"] == len(mine) - len(known)
        assert agent["cost"]["usd"] == (pytest.approx(float(sum(known)), rel=1e-9) if known else None)
    [run_record] = [record for record in records if record["record"] == "run"]
    known = [usd for usd in expected.values() if usd is not None]
    assert run_record["cost"]["usd"] == (pytest.approx(float(sum(known)), rel=1e-9) if known else None)
    assert run_record["cost"]["unknown_turns"] == len(expected) - len(known)
    [(sql_usd, sql_unknown)] = connect([run]).execute("SELECT cost_usd, cost_unknown_turns FROM runs").fetchall()
    assert sql_unknown == len(expected) - len(known)
    assert (float(sql_usd) if sql_usd is not None else None) == (pytest.approx(float(sum(known))) if known else None)
    summary = (run / "report.md").read_text().split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "- Cost: " in summary and "$0.0000" not in summary


def copies(tmp_path, fresh_runs, subagent_runs) -> list:
    """The fresh runs, copied: the session's runs are read by other tests, and are not changed."""
    runs = []
    for run in [*fresh_runs[1:], *subagent_runs[1]]:
        runs.append(tmp_path / "data" / run.parent.name / run.name)
        shutil.copytree(run, runs[-1])
    return runs


@pytest.mark.e2e
@FRESH_RUNS
def test_fresh_runs_cost_what_the_price_database_says(fresh_runs, subagent_runs, monkeypatch, tmp_path):
    """Against the installed genai-prices: the mock's models are priced where it knows them, and are unknown (not
    $0) where it does not, as with genai-prices 0.0.61 under Python 3.11. (A run its manifest says was recorded
    against the mock keeps the mock's own price file, tests/e2e/test_e2e_mock_cost.py: these copies say nothing of
    their upstream, as runs recorded against a server of the user's own.)"""
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    providers = {"anthropic.messages": "anthropic", "openai.responses": "openai"}
    for run in copies(tmp_path, fresh_runs, subagent_runs):
        manifest = json.loads((run / "manifest.json").read_text())
        manifest.pop("upstream_override", None)
        (run / "manifest.json").write_text(json.dumps(manifest))
        (run / ".made-here.json").unlink(missing_ok=True)  # nor the prices their reports were made with
        assert analyze.main(["--run", str(run), "--force"]) == 0
        check_run(run, expected_costs(run, lambda turn, counts: from_database(turn["model"], providers[turn["api"]],
                                                                             counts)))  # fmt: skip


@pytest.mark.e2e
@FRESH_RUNS
def test_fresh_runs_cost_what_a_price_file_says(fresh_runs, subagent_runs, tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_PRICES", raising=False)  # a price file named by the environment is not in play
    prices = tmp_path / "prices.yaml"
    fields = ("input", "cache_read", "cache_write", "cache_write_1h", "output")
    entries = [
        f"  {model}: {{{', '.join(f'{key}: {value}' for key, value in zip(fields, p))}}}" for model, p in PRICES.items()
    ]
    prices.write_text("models:\n" + "\n".join(entries) + "\n")
    for run in copies(tmp_path, fresh_runs, subagent_runs):
        assert analyze.main(["--run", str(run), "--force", "--prices", str(prices)]) == 0
        expected = expected_costs(run, lambda turn, counts: from_file(turn["model"], counts))
        assert all(usd for usd in expected.values())
        check_run(run, expected)
