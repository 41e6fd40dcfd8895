"""The agent's metrics read, not ignored: every record of telemetry.jsonl counted once under what became of it, the
same in the report, insight.jsonl and SQL as in the manifest; each exchange's input in its parts (uncached, cache
read, cache write) and time to first token beside the wire's; the agent's totals (its metrics, summed by their
temporality, from OTLP protobuf and JSON alike) beside the wire's, by session and model; and a fork that rewrote the
model compared at the model the agent asked for. Figures are recomputed here from the run's raw files."""

import json
import shutil

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from test_account_join import FIXTURES, exchange_rows, lines, messages_usage, model_calls, run_folder, section

from probe.analyse.prices import MOCK_PRICES, prices_from
from probe.analysis import sql
from probe.analysis.report import analyze_run
from probe.common.otlp_reading import read_export
from probe.common.otlp_wire import Budget
from probe.read.account.claude_code import METRICS as CLAUDE_METRICS
from probe.read.account.metrics import CACHE_READ, CACHE_WRITE, COST, UNCACHED, MetricTotals
from probe.read.sse import parse


@pytest.fixture(scope="module")
def claude(tmp_path_factory):
    return run_folder(tmp_path_factory.mktemp("metrics"), "claude-code")


def test_every_record_metrics_included_is_counted_once_the_same_in_report_insight_and_sql(claude):
    records = lines(claude / "telemetry.jsonl")
    manifest = json.loads((claude / "manifest.json").read_text())["account"]["telemetry"]
    metrics = [record for record in records if record["signal"] == "metrics"]
    assert manifest["records"] == len(records) == 15 and len(metrics) == 4
    text = section(claude)
    logs = len(records) - len(metrics)
    assert (
        f"matched to the agent's {len(records)} records ({logs} read as events, {len(metrics)} metric records)" in text
    )
    assert "telemetry.jsonl holds 15 records, each counted once below." in text
    assert ("| metrics summed into the agent's totals | 3 | `claude_code.active_time.total ×1, claude_code.cost.usage "
            "×1, claude_code.token.usage ×1` |") in text  # fmt: skip
    assert "| metrics of measures the wire has no count of | 1 | `claude_code.session.count ×1` |" in text
    [account] = [record["account"] for record in lines(claude / "insight.jsonl") if record["record"] == "account"]
    assert account["records"] == 15 and sum(entry["count"] for entry in account["read"]) == 15
    _, rows = sql.query([claude], "SELECT what, records FROM account_records ORDER BY what")
    assert sum(count for _, count in rows) == 15 and ("read as events (log records and spans)", 11) in rows


def test_each_exchange_shows_the_caches_reads_and_writes_and_the_first_token_beside_the_wire(claude):
    logged = sorted((record["attributes"] for record in lines(claude / "telemetry.jsonl")
                     if record["name"] == "api_request"), key=lambda fields: fields["event.sequence"])  # fmt: skip
    usages = []
    for entry in model_calls(claude / "traffic.jsonl"):
        usage = {}
        for event in parse(entry["response"]["body"]):
            if event.data.get("type") == "message_start":
                usage |= event.data["message"]["usage"]
        usages.append(usage)
    rows = exchange_rows(section(claude))
    assert len(rows) == len(logged) == len(usages) == 2
    for row, fields, usage in zip(rows, logged, usages):
        # The agent's own input_tokens are the uncached ones (2,576 of 12,435 in the first call): named so.
        assert row["uncached input"] == (f"{fields['input_tokens']:,}", f"{usage['input_tokens']:,}")
        assert row["cache read"] == (f"{fields['cache_read_tokens']:,}", f"{usage['cache_read_input_tokens']:,}")
        assert row["cache write"] == (f"{fields['cache_creation_tokens']:,}",
                                      f"{usage['cache_creation_input_tokens']:,}")  # fmt: skip
        assert row["first token / byte"][0] == f"{fields['ttft_ms']} ms"
    assert "- `api_request`: input_tokens (uncached), cache_read_tokens, cache_creation_tokens" in section(claude)
    columns = "agent_uncached_input_tokens, api_uncached_input_tokens, agent_cache_write_tokens, api_cache_write_tokens"
    _, view = sql.query([claude], f"SELECT {columns}, agent_ttft_ms FROM account ORDER BY n")
    assert view[0] == (2576, 2576, 9859, 9859, 19.0)


def test_the_agents_totals_from_its_metrics_stand_beside_the_wires(claude):
    metrics = {record["name"]: record for record in lines(claude / "telemetry.jsonl") if record["signal"] == "metrics"}
    by_type = {point["attributes"]["type"]: point["value"] for point in metrics["claude_code.token.usage"]["points"]}
    [cost] = [point["value"] for point in metrics["claude_code.cost.usage"]["points"]]
    usage = [messages_usage(entry) for entry in model_calls(claude / "traffic.jsonl")]
    wire_input = sum(used[0] for used in usage)
    assert by_type["input"] + by_type["cacheRead"] + by_type["cacheCreation"] == wire_input == 25013
    text = section(claude)
    session = metrics["claude_code.cost.usage"]["points"][0]["attributes"]["session.id"]
    [row] = [line for line in text.splitlines() if line.startswith(f"| `{session}` | `claude-opus-5-5`")]
    assert f"| — / 2 | {wire_input:,} / {wire_input:,} | {round(by_type['input']):,} / " in row
    assert f"| ${cost:.6f} / ${cost:.6f} |" in row and row.endswith("| agree |")
    _, rows = sql.query([claude], "SELECT model, agent_input_tokens, api_input_tokens, agent_cost_usd, requests "
                        "FROM account_totals WHERE model IS NOT NULL")  # fmt: skip
    assert [(model, agent, api, float(dollars), requests) for model, agent, api, dollars, requests in rows] == [
        ("claude-opus-5-5", 25013, 25013, pytest.approx(cost), 2)]  # fmt: skip


def sums(temporality: int | None, points: list[tuple[int, int, int]], name: str = "claude_code.cost.usage") -> dict:
    """An export of one sum metric of Claude Code's, its points (start, time, value) in seconds and dollars."""
    model = [{"key": "model", "value": {"stringValue": "m"}}]
    sum_ = {"dataPoints": [
        {"startTimeUnixNano": str(start * 10**9), "timeUnixNano": str(time * 10**9), "asDouble": value,
         "attributes": model} for start, time, value in points]}  # fmt: skip
    if temporality is not None:
        sum_ |= {"aggregationTemporality": temporality, "isMonotonic": True}
    metric = {"name": name, "unit": "USD", "sum": sum_}
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name",
                                                              "value": {"stringValue": "claude-code"}}]},
                                 "scopeMetrics": [{"metrics": [metric]}]}]}  # fmt: skip


# Three exports of one series: (temporality, points, the total). OTLP's AggregationTemporality: 1 delta, 2 cumulative.
SERIES = {
    "delta": (1, [[(0, 1, 10)], [(1, 2, 15)], [(2, 3, 15)]], 40),
    "cumulative": (2, [[(0, 1, 10)], [(0, 2, 25)], [(0, 3, 40)]], 40),
    "cumulative, restarted": (2, [[(0, 1, 10)], [(0, 2, 25)], [(5, 6, 7)]], 32),
    "unsaid, starts advance": (None, [[(0, 1, 10)], [(1, 2, 15)], [(2, 3, 15)]], 40),
    "unsaid, one start": (None, [[(0, 1, 10)], [(0, 2, 25)], [(0, 3, 40)]], 40),
}


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
@pytest.mark.parametrize("case", SERIES)
def test_delta_points_add_up_and_a_cumulative_series_counts_its_last(case, encoding):
    temporality, exports, expected = SERIES[case]
    totals = MetricTotals()
    for points in exports:
        export = sums(temporality, points)
        data = json.dumps(export).encode()
        if encoding == "protobuf":
            data = json_format.ParseDict(export, ExportMetricsServiceRequest()).SerializeToString()
        for record in read_export(data, encoding, "metrics", Budget(records=10, values=10_000)).records:
            if temporality is None:
                record.pop("temporality")  # a file written before the field was kept
            totals.add(json.loads(json.dumps(record)), CLAUDE_METRICS)
    assert totals.totals() == {(None, "m"): {COST: pytest.approx(expected)}}


def test_token_kinds_are_summed_into_the_wires_parts_and_a_kind_not_named_is_counted():
    export = sums(1, [(0, 1, 7)], "claude_code.token.usage")
    points = export["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"]
    points[:] = [dict(points[0], attributes=[{"key": "type", "value": {"stringValue": kind}}], asDouble=value)
                 for kind, value in (("input", 3), ("cacheRead", 5), ("cacheCreation", 11), ("odd", 13))]  # fmt: skip
    totals = MetricTotals()
    for record in read_export(json.dumps(export).encode(), "json", "metrics", Budget(10, 10_000)).records:
        totals.add(record, CLAUDE_METRICS)
    assert totals.totals() == {(None, None): {UNCACHED: 3, CACHE_READ: 5, CACHE_WRITE: 11}}
    assert totals.kinds_not_summed == {"claude_code.token.usage type=odd": 1}


def test_a_fork_that_rewrote_the_model_is_said_and_compared_at_the_model_the_agent_asked_for(tmp_path):
    """A fork with --model: the agent priced each call at the model it asked for (claude-opus-5-5), the wire sent
    claude-haiku-5-5. No cost disagreement; the rewrite is said, and our cost at haiku's price is kept beside it."""
    run = tmp_path / "claude-code" / "20261127-000000"
    run.mkdir(parents=True)
    for name in ("telemetry.jsonl", "transcript.jsonl"):
        shutil.copy(FIXTURES / "claude-code" / name, run / name)
    traffic = (FIXTURES / "claude-code" / "traffic.jsonl").read_text()
    # What the fork's proxy sent: the request body's model rewritten (as probe.capture.recorder.fork_switch does).
    (run / "traffic.jsonl").write_text(traffic.replace('"body":{"model":"claude-opus-5-5"',
                                                       '"body":{"model":"claude-haiku-5-5"'))  # fmt: skip
    assert (run / "traffic.jsonl").read_text() != traffic
    manifest = json.loads((FIXTURES / "claude-code" / "manifest.json").read_text())
    manifest["origin"] = {"kind": "fork", "run": "claude-code/20261126-000000", "at": 0, "model": "claude-haiku-5-5"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    with prices_from(MOCK_PRICES):
        analyze_run(run)
    text = section(run)
    assert "0 with counts that disagree" in text and "the agent's cost $" not in text
    assert "2 asked for another model than the fork sent (claude-haiku-5-5): compared at theirs" in text
    rows = exchange_rows(text)
    assert [row["cost"] for row in rows] == [("$0.060399", "$0.060399"), ("$0.013468", "$0.013468")]
    assert all("the fork rewrote the model: the agent asked for claude-opus-5-5, the wire sent claude-haiku-5-5"
               in row["check"] for row in rows)  # fmt: skip
    assert "The fork rewrote the model of 2 of these requests to claude-haiku-5-5" in text
    _, view = sql.query([run], "SELECT agent_model, model, model_rewritten FROM account ORDER BY n")
    assert view == [("claude-opus-5-5", "claude-haiku-5-5", True)] * 2
