"""Each turn's context window, its share and its cache's time left, each agent's peak and last share and the run's
headroom reach every machine-readable output as insight.jsonl has them: turns.jsonl, the SQL views, the OTLP spans
(decoded from what a stand-in receiver was sent), and the diff of two runs, on two runs made here with known
windows and a six-minute gap (tests/window_runs.py)."""

import pytest
from window_runs import price_file, records_of, window_run

from probe.analyse.prices import prices_from
from probe.analysis.report import analyze_run
from probe.read.whole_turns import whole_turns

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
