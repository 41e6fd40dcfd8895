"""The cache's time left: each turn's time since its prefix was last written or read, against the lifetime its
provider documents and its request asks for, and the input written again after a lapse with its cost, on captures
written here with known gaps (insight.jsonl's numbers and the report's words)."""

import io
import json

import orjson
from conftest import captured_exchange
from test_cache_breaks import responses_turn

from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.openai_responses import report as openai_responses

SYSTEM = "You are a coding agent working in /tmp/project."
# US dollars per million tokens: a 5-minute cache write at 2.5, a 1-hour one at 4, plain input at 2.
PRICES = "models:\n  house-model-1: {input: 2, output: 10, cache_read: 0.2, cache_write: 2.5, cache_write_1h: 4}\n"
HOUR = {"cache_control": {"type": "ephemeral", "ttl": "1h"}}


def analysed(tmp_path, monkeypatch, lines: list[dict], api) -> tuple[str, dict, dict]:
    """The report's prompt cache section, the turns' cache records by number, and the run's."""
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    monkeypatch.setenv("PROBE_PRICES", str(prices))
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = io.BytesIO()
    report = build_report(traffic, api, None, insight=out)[0]
    records = [orjson.loads(line) for line in out.getvalue().splitlines()]
    turns = {record["number"]: record["cache"] for record in records if record["record"] == "turn"}
    [run] = [record["cache"] for record in records if record["record"] == "run"]
    return report.split("## Prompt cache", 1)[1].split("\n## ", 1)[0], turns, run


def timing(start: float) -> dict:
    return {"start": start, "first_byte": start + 0.5, "end": start + 1.0}


def claude_session(turns: list[dict]) -> list[dict]:
    """Anthropic exchanges of one conversation, each re-sending the history; a turn gives its start (`at`), its
    cache reads and writes (`read`, `write`, of which `hour` kept for an hour), and `marker` on its new message."""
    history, lines = [], []
    for number, spec in enumerate(turns, start=1):
        history.append(
            {"role": "user", "content": [{"type": "text", "text": f"Step {number}.", **spec.get("marker", {})}]}
        )
        body = {"model": "house-model-1", "max_tokens": 1024, "system": [{"type": "text", "text": SYSTEM}],
                "messages": list(history)}  # fmt: skip
        usage = {"input_tokens": 10, "cache_read_input_tokens": spec["read"], "output_tokens": 5,
                 "cache_creation_input_tokens": spec["write"],
                 "cache_creation": {"ephemeral_5m_input_tokens": spec["write"] - spec.get("hour", 0),
                                    "ephemeral_1h_input_tokens": spec.get("hour", 0)}}  # fmt: skip
        answer = {
            "id": f"msg_{number}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": f"Done {number}."}],
            "stop_reason": "end_turn",
            "usage": usage,
        }
        lines.append(captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com",
                                       timing=timing(spec["at"]), id=f"f{number}"))  # fmt: skip
        history.append({"role": "assistant", "content": [{"type": "text", "text": f"Done {number}."}]})
    return lines


def test_a_lapse_past_anthropics_five_minutes_is_named_and_a_one_hour_write_outlives_the_same_gap(
    tmp_path, monkeypatch
):
    lines = claude_session([
        {"at": 1000, "read": 0, "write": 3000},
        {"at": 1361, "read": 0, "write": 3100},  # 6 minutes after #1 ended: past the 5-minute default
        {"at": 1722, "read": 0, "write": 3200, "hour": 3200, "marker": HOUR},  # past #2's 5 minutes; kept an hour
        {"at": 2083, "read": 3200, "write": 100, "marker": HOUR},  # 6 minutes after a 1-hour write: still warm
    ])  # fmt: skip
    section, turns, run = analysed(tmp_path, monkeypatch, lines, anthropic_messages)
    assert turns[1]["since_s"] is None and turns[1]["lapsed"] is None and turns[1]["lifetime_s"] is None
    second = turns[2]
    assert (second["since_s"], second["lifetime_s"], second["lapsed"]) == (360.0, 300, True)
    assert second["lifetime_source"].startswith("Anthropic's default, 5 min (platform.claude.com/docs/")
    assert second["cause"] == {"kind": "lifetime", "text": "6 min since #1, past the cache's 5 min lifetime"}
    assert (second["rewritten"], second["rewritten_usd"]) == (3000, 3000 * 2.5 / 1e6)  # what #1 held, not the new tail
    third = turns[3]
    assert (third["since_s"], third["lifetime_s"], third["lapsed"], third["rewritten"]) == (360.0, 300, True, 3100)
    assert third["rewritten_usd"] == 3100 * 4 / 1e6  # written for an hour: at the 1-hour price
    fourth = turns[4]
    assert (fourth["since_s"], fourth["lifetime_s"], fourth["lapsed"]) == (360.0, 3600, False)
    assert fourth["lifetime_source"].startswith("Anthropic's cache_control ttl 1h")
    assert fourth["cause"] is None and fourth["rewritten"] is None
    assert (run["lapses"], run["rewritten"], run["rewritten_unpriced"]) == (2, 6100, 0)
    assert run["rewritten_usd"] == 0.0199
    assert "- Written again after the cache's lifetime lapsed: 6,100 input tokens over 2 turns, cost $0.0199" in section


def openai_session(gap: float, **fields) -> list[dict]:
    """Two Responses API turns `gap` seconds apart, the second re-sending the first's input and reading nothing of
    the 4,000 tokens the first read from the cache."""
    lines, said = [], []
    for number, (start, usage) in enumerate([(1000.0, (5000, 4000)), (1000.5 + gap, (5100, 0))], start=1):
        said.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"Step {number}."}]})
        body = {"model": "house-model-1", "instructions": SYSTEM, "input": list(said), **fields}
        lines.append(responses_turn(number, body, usage, start))
        said.append({"type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": f"Step {number}."}]})  # fmt: skip
    return lines


def test_openai_in_memory_retention_lapses_after_six_minutes_and_its_rewrite_is_priced_as_input(tmp_path, monkeypatch):
    section, turns, run = analysed(tmp_path, monkeypatch, openai_session(360), openai_responses)
    second = turns[2]
    assert (second["since_s"], second["lifetime_s"], second["lapsed"]) == (360.0, 300, True)
    assert second["lifetime_source"].startswith("OpenAI's in-memory retention, 5 to 10 min of inactivity")
    assert second["cause"]["kind"] == "lifetime"
    # OpenAI reports no cache writes: what the cache did not read is what it caches anew, at the input price.
    assert (second["rewritten"], second["rewritten_usd"]) == (4000, 4000 * 2 / 1e6)  # what #1 held
    assert (run["lapses"], run["rewritten"], run["rewritten_usd"]) == (1, 4000, 0.008)
    assert "- Written again after the cache's lifetime lapsed: 4,000 input tokens over 1 turn, cost $0.0080" in section


def test_openai_extended_retention_keeps_the_prefix_a_day(tmp_path, monkeypatch):
    lines = openai_session(7200, prompt_cache_retention="24h")  # two hours apart
    section, turns, run = analysed(tmp_path, monkeypatch, lines, openai_responses)
    second = turns[2]
    assert (second["since_s"], second["lifetime_s"], second["lapsed"]) == (7200.0, 86400, False)
    assert second["lifetime_source"].startswith("OpenAI's extended retention, prompt_cache_retention 24h")
    # Within its lifetime, reading nothing is the provider's doing, not a lapse.
    assert second["cause"] == {
        "kind": "unseen",
        "text": "the requests' prefixes match: the provider dropped or missed the cache",
    }
    assert (run["lapses"], run["rewritten"], run["rewritten_usd"]) == (0, 0, None)
    assert "Written again after" not in section


def test_a_retention_asked_of_an_api_that_names_no_provider_is_said_not_assumed():
    from types import SimpleNamespace

    from probe.analyse.cache_lifetime import lifetime

    gateway = SimpleNamespace(provider=None, config={"prompt_cache_retention": "24h"})  # e.g. chat completions
    found = lifetime(gateway)
    assert found.seconds is None and "asks for OpenAI's prompt_cache_retention" in found.source
    openai = SimpleNamespace(provider="openai", config={"prompt_cache_retention": "24h"})
    assert lifetime(openai).seconds == 86_400
    assert lifetime(SimpleNamespace(provider=None, config={})).source.startswith("unknown: the API does not say")
