"""Each turn's context window, its share and its cache's time left, each agent's peak and last share and the run's
headroom reach every machine-readable output as insight.jsonl has them: turns.jsonl, the SQL views, the OTLP spans
(decoded from what a stand-in receiver was sent), and the diff of two runs, on two runs made here with known
windows and a six-minute gap (tests/window_runs.py)."""

import json

import pytest
import test_otlp_names as otlp_names
from conftest import serving
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from window_runs import SUB_AGENT, price_file, records_of, window_run

from probe.analyse.prices import prices_from
from probe.analysis import sql
from probe.analysis.report import analyze_run
from probe.read.whole_turns import whole_turns
from probe.write import diff_window
from probe.write.diff import diff_runs
from probe.write.otlp import export_run

LIFETIME = "Anthropic's default, 5 min (platform.claude.com/docs/en/build-with-claude/prompt-caching)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs A and B, analysed with their own price file (kept in force for what a test works out from them)."""
    data_dir = tmp_path_factory.mktemp("window")
    with prices_from(price_file(data_dir)):
        found = {side: window_run(data_dir, side) for side in "AB"}
        for run in found.values():
            analyze_run(run)
        yield found


def test_turns_jsonl_carries_each_turns_window_share_and_cache_lifetime(runs):
    for run in runs.values():
        insight = {record["number"]: record for record in records_of(run, "turn")}
        turns = list(whole_turns(run / "turns.jsonl"))
        assert [turn["number"] for turn in turns] == [1, 2, 3]
        for turn in turns:
            facts = insight[turn["number"]]
            assert turn["window"] == facts["window"] and turn["share"] == facts["share"]
            assert turn["cache"] == {name: facts["cache"][name] for name in
                                     ("since_s", "lifetime_s", "lifetime_source", "lapsed")}  # fmt: skip
    last = list(whole_turns(runs["B"] / "turns.jsonl"))[2]
    assert last["window"] == {"tokens": 200_000, "source": "window-prices.yaml", "effective": None, "note": None}
    assert (last["share"], last["cache"]) == (0.63, {"since_s": 360.0, "lifetime_s": 300,
                                                     "lifetime_source": LIFETIME, "lapsed": True})  # fmt: skip
    sub = list(whole_turns(runs["B"] / "turns.jsonl"))[1]
    assert (sub["window"]["tokens"], sub["window"]["source"], sub["share"]) == (120_000, "largest input seen", 1.0)


def test_the_sql_views_give_the_window_share_and_cache_columns_insight_has(runs):
    connection = sql.connect(list(runs.values()))

    def rows(query: str) -> list[dict]:
        cursor = connection.execute(query)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    turns = rows("SELECT * FROM turns ORDER BY run, n")
    assert len(turns) == 6
    for row in turns:
        run = runs["A" if row["run"].endswith("-a") else "B"]
        facts = next(record for record in records_of(run, "turn") if record["number"] == row["n"])
        window, cache = facts["window"], facts["cache"]
        assert (row["window_tokens"], row["window_source"], row["window_effective"], row["window_note"],
                row["share"]) == (window["tokens"], window["source"], window["effective"], window["note"],
                                  facts["share"])  # fmt: skip
        assert (row["cache_since_s"], row["cache_lifetime_s"], row["cache_lifetime_source"], row["cache_lapsed"],
                row["cache_rewritten"]) == (cache["since_s"], cache["lifetime_s"], cache["lifetime_source"],
                                            cache["lapsed"], cache["rewritten"])  # fmt: skip
        expected_usd = cache["rewritten_usd"]
        assert (None if row["cache_rewritten_usd"] is None else float(row["cache_rewritten_usd"])) == expected_usd
    lapsed = [row for row in turns if row["cache_lapsed"]]
    assert [(row["n"], row["cache_rewritten"], float(row["cache_rewritten_usd"])) for row in lapsed] == [
        (3, 49_990, 0.124975)]  # fmt: skip
    agents = rows("SELECT * FROM agents ORDER BY run, agent")
    for row in agents:
        run = runs["A" if row["run"].endswith("-a") else "B"]
        window = next(record for record in records_of(run, "agent") if record["id"] == row["agent"])["window"]
        assert {name: row[name] for name in ("peak_share", "peak_turn", "last_share", "last_turn")} == {
            name: window[name] for name in ("peak_share", "peak_turn", "last_share", "last_turn")}  # fmt: skip
        assert (row["window_model"], row["window_tokens"], row["window_source"]) == (
            window["model"], window["tokens"], window["source"])  # fmt: skip
        assert json.loads(row["compactions"]) == window["compactions"] == []
    assert [(row["agent"], row["window_tokens"], row["window_source"], row["peak_share"]) for row in agents] == [
        ("a1c0ffee", 100_000, "window-prices.yaml", 0.1), ("main", 200_000, "window-prices.yaml", 0.41),
        ("a1c0ffee", 120_000, "largest input seen", 1.0), ("main", 200_000, "window-prices.yaml", 0.63)]  # fmt: skip
    found = rows("SELECT * FROM runs ORDER BY run")
    for row, side in zip(found, "AB"):
        [record] = records_of(runs[side], "run")
        window, cache = record["window"], record["cache"]
        assert (row["window_model"], row["window_tokens"], row["window_source"], row["last_input_tokens"],
                row["headroom_tokens"], row["headroom_share"]) == (window["model"], window["tokens"], window["source"],
                                                                   window["input"], window["headroom_tokens"],
                                                                   window["headroom_share"])  # fmt: skip
        assert json.loads(row["window_findings"]) == window["findings"]
        assert row["compactions"] == window["compactions"] == 0
        assert (row["cache_lapses"], row["cache_rewritten"]) == (cache["lapses"], cache["rewritten"])
    assert [(row["headroom_tokens"], row["headroom_share"], row["cache_lapses"]) for row in found] == [
        (118_000, 0.59, 0), (74_000, 0.37, 1)]  # fmt: skip
    assert found[0]["cache_rewritten_usd"] is None and float(found[1]["cache_rewritten_usd"]) == 0.124975


def test_each_model_span_carries_its_window_share_and_cache_lifetime_and_the_run_its_headroom(runs):
    otlp_names.Receiver.bodies = []
    with serving(otlp_names.Receiver) as url:
        export_run(runs["B"], url)
    spans = {}
    for body in otlp_names.Receiver.bodies:
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans:
            for scope in resource.scope_spans:
                spans |= {span.name + str(index): {kv.key: otlp_names.value_of(kv.value) for kv in span.attributes}
                          for index, span in enumerate(scope.spans)}  # fmt: skip
    calls = {attributes["agent_probe.exchange"]: attributes for attributes in spans.values()
             if attributes.get("gen_ai.operation.name") == "chat"}  # fmt: skip
    assert {name: value for name, value in calls[3].items() if name.startswith(("agent_probe.window",
                                                                                 "agent_probe.cache"))} == {
        "agent_probe.window.tokens": 200_000, "agent_probe.window.source": "window-prices.yaml",
        "agent_probe.window.share": 0.63, "agent_probe.cache.since_s": 360.0, "agent_probe.cache.lifetime_s": 300,
        "agent_probe.cache.lifetime_source": LIFETIME, "agent_probe.cache.lapsed": True,
        "agent_probe.cache.rewritten_tokens": 49_990, "agent_probe.cache.rewritten_usd": 0.124975,
    }  # fmt: skip
    # The first turn has no turn before it: no time since, no lifetime; none is sent as 0.
    assert "agent_probe.cache.since_s" not in calls[1] and calls[1]["agent_probe.window.share"] == 0.25
    assert (calls[2]["agent_probe.window.tokens"], calls[2]["agent_probe.window.source"]) == (
        120_000, "largest input seen")  # fmt: skip
    assert calls[2]["agent_probe.window.note"].startswith("120,000 input tokens seen")
    sub = next(attributes for attributes in spans.values() if attributes.get("gen_ai.agent.id") == SUB_AGENT)
    assert (sub["agent_probe.window.model"], sub["agent_probe.window.peak_share"], sub["agent_probe.window.peak_turn"],
            sub["agent_probe.window.last_share"]) == ("house-small-1", 1.0, 2, 1.0)  # fmt: skip
    root = next(attributes for attributes in spans.values() if attributes.get("gen_ai.agent.id") == "main")
    assert {name: value for name, value in root.items() if name.startswith("agent_probe.run.")
            and not name.startswith("agent_probe.run.cost")} == {
        "agent_probe.run.window.model": "house-model-1", "agent_probe.run.window.tokens": 200_000,
        "agent_probe.run.window.source": "window-prices.yaml", "agent_probe.run.window.headroom_tokens": 74_000,
        "agent_probe.run.window.headroom_share": 0.37, "agent_probe.run.cache.lapses": 1,
        "agent_probe.run.cache.rewritten_tokens": 49_990, "agent_probe.run.cache.rewritten_usd": 0.124975,
    }  # fmt: skip
    assert root["agent_probe.window.peak_share"] == 0.63


def test_the_diff_names_the_peak_share_window_headroom_and_cache_lapses_run_and_agent_alike(runs):
    text, _ = diff_runs(runs["A"], runs["B"])
    section = text.split("\n## Context window\n", 1)[1].split("\n## ", 1)[0]
    assert section.strip().splitlines() == [
        "The main agent's main model, from A to B (shares of its window):",
        "",
        "- peak share 41% → 63%",
        "- headroom at the end 118,000 tokens (59%) → 74,000 tokens (37%)",
        "- cache lapses 0 → 1",
        "- input tokens written again after a lapse 0 → 49,990",
        "- their cost $0 → $0.1250",
        "",
        "By agent, where both runs have an agent of that name:",
        "",
        "- `main`: peak share 41% → 63%; share at the end 41% → 63%; cache lapses 0 → 1; input tokens written again "
        "after a lapse 0 → 49,990; their cost $0 → $0.1250",
        "- `sub-agent`: peak share 10% → 100%; share at the end 10% → 100%; window 100,000 (window-prices.yaml) → "
        "120,000 (largest input seen)",
    ]
    assert "only usage, context window, cost" in text
    assert diff_window.changes(diff_window.Fill(compactions=0), diff_window.Fill(compactions=2), run=True) == [
        "compactions 0 → 2"]  # fmt: skip
    # B against itself: nothing to say.
    assert "## Context window" not in diff_runs(runs["B"], runs["B"])[0]
