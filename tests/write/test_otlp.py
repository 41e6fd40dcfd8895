"""OTLP export: spans in the GenAI conventions' shape, sent with the user's headers, and queried back from a live
Arize Phoenix on loopback span by span against the capture's own numbers."""

import json
import os
import shutil
import subprocess
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, serving
from test_sql import usage_from_traffic

from probe.analysis import export
from probe.capture.ports import free_port
from probe.common.errors import RunError, UsageError
from probe.read.whole_turns import whole_turns

SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"


class Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP receiver that keeps what it was sent: the path, the headers and the body's size."""

    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Collector.received.append((self.path, {name.lower(): value for name, value in self.headers.items()}, len(body)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    Collector.received = []
    with serving(Collector) as url:
        yield url


def copied_run(tmp_path: Path) -> Path:
    run = tmp_path / "codex" / SAMPLE.name
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        (run / name).write_bytes((SAMPLE / name).read_bytes())
    return run


def test_spans_go_to_the_base_endpoint_with_the_users_headers(private_data_dir, collector, monkeypatch, capsys):
    run = copied_run(private_data_dir)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20cGs6c2s=,x-team=probe")
    assert export.main(["--run", run.name, "--otlp", collector]) == 0
    assert capsys.readouterr().out == (
        f"otlp: 1 trace, 2 model spans, 1 tool spans, 0 sub-agent spans and 1 other spans sent to {collector}\n"
    )
    [(path, headers, size)] = Collector.received
    assert path == "/v1/traces" and size > 500
    assert headers["authorization"] == "Basic cGs6c2s=" and headers["x-team"] == "probe"


def test_the_endpoint_may_come_from_the_environment(private_data_dir, collector, monkeypatch, capsys):
    run = copied_run(private_data_dir)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
    assert export.main(["--run", run.name, "--format", "otlp"]) == 0
    assert [path for path, _, _ in Collector.received] == ["/v1/traces"]
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    with pytest.raises(UsageError, match="no OTLP endpoint"):
        export.main(["--run", run.name, "--format", "otlp"])
    with pytest.raises(UsageError, match="--with-content goes with --otlp"):
        export.main(["--run", run.name, "--with-content"])


def test_an_endpoint_that_is_not_there_is_one_error(private_data_dir, monkeypatch):
    run = copied_run(private_data_dir)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    unreachable = r"5 of 5 spans could not be sent to http://127\.0\.0\.1:\d+ \(is it running\?\)"
    with pytest.raises(RunError, match=unreachable):
        export.main(["--run", run.name, "--otlp", f"http://127.0.0.1:{free_port()}"])


# ---- a live Arize Phoenix -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    """Arize Phoenix, started on free loopback ports with its own working folder (it needs no network)."""
    folder = tmp_path_factory.mktemp("phoenix")
    port = free_port()
    env = dict(os.environ, PHOENIX_WORKING_DIR=str(folder), PHOENIX_HOST="127.0.0.1", PHOENIX_PORT=str(port),
               PHOENIX_GRPC_PORT=str(free_port()), PHOENIX_TELEMETRY_ENABLED="false")  # fmt: skip
    phoenix_program = os.environ.get("PROBE_PHOENIX") or shutil.which("phoenix")
    if not phoenix_program:
        pytest.fail("no Phoenix: run `nox -s phoenix`, or set PROBE_PHOENIX to a `phoenix` program")
    with (folder / "phoenix.log").open("wb") as log:
        process = subprocess.Popen([str(phoenix_program), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/projects", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Phoenix did not start: " + (folder / "phoenix.log").read_text()[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def spans_of(base: str, run: Path) -> list[dict]:
    """The spans of the run's trace, as Phoenix's REST API gives them back (it may take a moment to store them)."""
    for _ in range(60):
        with urllib.request.urlopen(f"{base}/v1/projects/default/spans?limit=1000", timeout=10) as answer:
            spans = json.load(answer)["data"]
        roots = [span for span in spans if span["attributes"].get("agent_probe.run") == run.name]
        if roots:
            trace = roots[0]["context"]["trace_id"]
            found = [span for span in spans if span["context"]["trace_id"] == trace]
            if len(found) == expected_spans(run):
                return found
        time.sleep(0.5)
    raise AssertionError(f"Phoenix holds no whole trace of {run.name}")


def expected_spans(run: Path) -> int:
    """The run's span, one per exchange, one per tool call, and one per agent but the main one."""
    entries = sum(1 for _ in (run / "traffic.jsonl").open())
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    calls = sum(record["record"] == "tool_call" for record in records)
    agents = sum(record["record"] == "agent" for record in records)
    return 1 + entries + calls + agents - 1


@pytest.mark.phoenix
@pytest.mark.e2e
@FRESH_RUNS
def test_phoenix_holds_each_model_exchange_with_the_captures_numbers(phoenix, fresh_runs, monkeypatch, capsys):
    data_dir, codex_run, claude_run = fresh_runs
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    for run, target, provider in ((codex_run, "codex", "openai"), (claude_run, "claude-code", "anthropic")):
        assert export.main(["--run", str(run), "--otlp", phoenix]) == 0
        assert "sent to" in capsys.readouterr().out
        spans = spans_of(phoenix, run)
        manifest = json.loads((run / "manifest.json").read_text())
        [root] = [span for span in spans if span["parent_id"] is None]
        assert root["name"] == f"invoke_agent {target}"
        assert root["attributes"]["gen_ai.agent.version"] == manifest["agent"]["version"]
        assert root["attributes"]["agent_probe.status"] == "complete"
        assert root["attributes"]["agent_probe.exit_code"] == 0
        assert root["attributes"]["agent_probe.prompt"] == "write a hello world function"
        turns = list(whole_turns(run / "turns.jsonl"))
        entries = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
        by_number = {span["attributes"]["agent_probe.exchange"]: span for span in spans
                     if "agent_probe.exchange" in span["attributes"]}  # fmt: skip
        assert sorted(by_number) == [turn["number"] for turn in turns]
        # The one main agent is the run's span; each tool call an execute_tool span under it, from the end of the
        # answer that asked for it to the start of the request that brought its result back.
        assert root["attributes"]["gen_ai.agent.name"] == target and root["attributes"]["gen_ai.agent.id"] == "main"
        records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
        calls = [record for record in records if record["record"] == "tool_call"]
        tool_spans = {span["attributes"].get("gen_ai.tool.call.id"): span for span in spans
                      if span["name"].startswith("execute_tool ")}  # fmt: skip
        assert calls and sorted(tool_spans) == sorted(call["call_id"] for call in calls)
        for call in calls:
            span = tool_spans[call["call_id"]]
            assert span["name"] == f"execute_tool {call['tool']}" and span["parent_id"] == root["context"]["span_id"]
            assert span["attributes"]["gen_ai.operation.name"] == "execute_tool"
            assert abs(time_of(span["start_time"].replace("+00:00", "")) - call["asked_at"]) < 1e-5
            assert abs(time_of(span["end_time"].replace("+00:00", "")) - call["answered_at"]) < 1e-5
        expected_usage = iter(usage_from_traffic(run))
        for turn, entry in zip(turns, entries):
            span = by_number[turn["number"]]
            assert span["parent_id"] == root["context"]["span_id"]
            # The captured times, to the microsecond Phoenix keeps.
            started = span["start_time"].replace("+00:00", "")
            assert abs(time_of(started) - entry["timing"]["start"]) < 1e-5
            attributes = span["attributes"]
            if not turn["output"]:
                assert "gen_ai.operation.name" not in attributes  # a plain HTTP span
                continue
            assert span["name"] == f"{turn['operation']} {turn['model']}"
            assert attributes["gen_ai.operation.name"] == "chat" and attributes["gen_ai.provider.name"] == provider
            assert attributes["gen_ai.request.model"] == entry["request"]["body"]["model"]
            assert attributes["server.address"] == "127.0.0.1"
            input_tokens, output_tokens = next(expected_usage)
            assert attributes["gen_ai.usage.input_tokens"] == input_tokens
            assert attributes["gen_ai.usage.output_tokens"] == output_tokens
            # A count the API did not send is no attribute, never 0: Anthropic reports no reasoning tokens.
            assert ("gen_ai.usage.reasoning.output_tokens" in attributes) == (provider == "openai")
            assert attributes["gen_ai.response.finish_reasons"] == [turn["stop_reason"]]
            assert attributes["gen_ai.response.time_to_first_chunk"] == pytest.approx(turn["timing"]["ttfb_ms"] / 1000)
            assert "gen_ai.input.messages" not in attributes  # content is sent only when asked for


@pytest.mark.phoenix
@pytest.mark.e2e
@FRESH_RUNS
def test_phoenix_holds_the_messages_when_asked(phoenix, fresh_runs, monkeypatch, tmp_path):
    _data_dir, codex_run, _ = fresh_runs
    copy = tmp_path / "codex" / f"{codex_run.name}-content"  # a trace of its own, told apart by its run's name
    copy.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        (copy / name).write_bytes((codex_run / name).read_bytes())
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))
    assert export.main(["--run", str(copy), "--otlp", phoenix, "--with-content"]) == 0
    spans = spans_of(phoenix, copy)
    answering = [span for span in spans if "gen_ai.output.messages" in span["attributes"]]
    assert answering
    last = json.loads(answering[0]["attributes"]["gen_ai.output.messages"])
    texts = [part.get("content") for message in last for part in message["parts"]]
    calls = [part for message in last for part in message["parts"] if part["type"] == "tool_call"]
    assert any('return "Hello, world!"' in str(text) for span in answering
               for message in json.loads(span["attributes"]["gen_ai.output.messages"])
               for text in [part.get("content") for part in message["parts"]]) or calls  # fmt: skip
    assert texts or calls
    system = json.loads(answering[0]["attributes"]["gen_ai.system_instructions"])
    assert system[0]["type"] == "text" and "Codex" in system[0]["content"]
    tools = json.loads(answering[0]["attributes"]["gen_ai.tool.definitions"])
    assert {tool["name"] for tool in tools} >= {"exec"}


@pytest.mark.phoenix
@pytest.mark.e2e
@FRESH_RUNS
def test_phoenix_holds_the_agent_tree_under_the_calls_that_spawned_it(phoenix, subagent_runs, monkeypatch, capsys):
    """Each sub-agent an invoke_agent span under the execute_tool span of the call that spawned it; each exchange
    under the span of its agent, whose model spans' tokens add up to the agent's."""
    data_dir, runs = subagent_runs
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    for run in runs:
        assert export.main(["--run", str(run), "--otlp", phoenix]) == 0
        assert ", 2 sub-agent spans and " in capsys.readouterr().out
        spans = spans_of(phoenix, run)
        by_id = {span["context"]["span_id"]: span for span in spans}
        [root] = [span for span in spans if span["parent_id"] is None]
        records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
        agents = {record["id"]: record for record in records if record["record"] == "agent"}
        agent_spans = {span["attributes"]["gen_ai.agent.id"]: span for span in spans
                       if "gen_ai.agent.id" in span["attributes"]}  # fmt: skip
        assert set(agent_spans) == set(agents) and agent_spans["main"] is root
        for agent, record in agents.items():
            span = agent_spans[agent]
            if record["parent"] is None:
                continue
            assert span["name"] == f"invoke_agent {record['name']}"
            assert span["attributes"]["gen_ai.operation.name"] == "invoke_agent"
            spawning = by_id[span["parent_id"]]  # the call that spawned it, under the agent that made that call
            assert spawning["name"].startswith("execute_tool ")
            assert spawning["attributes"]["gen_ai.tool.call.id"] == record["spawned_by"]["call_id"]
            assert spawning["parent_id"] == agent_spans[record["parent"]]["context"]["span_id"]
        turn_agent = {record["number"]: record["agent"] for record in records if record["record"] == "turn"}
        for agent, record in agents.items():
            mine = [span for span in spans if "agent_probe.exchange" in span["attributes"]
                    and span["parent_id"] == agent_spans[agent]["context"]["span_id"]]  # fmt: skip
            assert sorted(span["attributes"]["agent_probe.exchange"] for span in mine) == sorted(
                number for number, owner in turn_agent.items() if owner == agent
            )
            tokens = [span["attributes"].get("gen_ai.usage.input_tokens") for span in mine]
            assert sum(count for count in tokens if count is not None) == record["tokens"]["input"]
            # Each model span's cost is its turn's; an agent's is the sum of its turns' (an unknown one left out).
            assert span_cost(agent_spans[agent]) == record["cost"]["usd"]
            assert (
                agent_spans[agent]["attributes"].get("agent_probe.cost.unknown_turns")
                == record["cost"]["unknown_turns"]
            )
        costs = {record["number"]: record["cost"] for record in records if record["record"] == "turn"}
        for span in spans:
            cost = costs.get(span["attributes"].get("agent_probe.exchange"))
            if cost is not None:
                assert span_cost(span) == cost["usd"]
                assert span["attributes"].get("agent_probe.cost.unknown") == cost["unknown"]


def span_cost(span: dict) -> float | None:
    """A span's cost attribute, which is left out where the price is unknown (never 0)."""
    value = span["attributes"].get("agent_probe.cost.usd")
    return None if value is None else pytest.approx(value, rel=1e-9)


def time_of(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
