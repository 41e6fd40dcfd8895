"""OTLP export names each agent as every other view does: its invoke_agent span carries the readable name, and the
wire's own id and path only as attributes beside it. Checked on the committed sub-agent captures of Claude Code
and codex, the spans decoded from what a stand-in OTLP receiver was sent."""

from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import orjson
import pytest
from conftest import PROJECT_ROOT, serving
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from probe.analysis import export
from probe.analysis.report import analyze_run

SAVED = PROJECT_ROOT / "tests" / "data" / "subagents"
# From the captures: Claude Code's Agent calls' `description`s, codex's spawn_agent `task_name`s read as words.
NAMES = {
    "claude-code": {"main", "agent-probe sub-agent 1", "agent-probe sub-agent 2"},
    "codex": {"main", "probe sub agent 1", "probe sub agent 2"},
}


class Receiver(BaseHTTPRequestHandler):
    """A stand-in OTLP receiver that keeps the bodies it was sent."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self):
        Receiver.bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def value_of(any_value):
    return getattr(any_value, any_value.WhichOneof("value"))


@pytest.mark.parametrize("target", ["claude-code", "codex"])
def test_each_agents_span_carries_its_readable_name_and_the_wires_id_beside_it(target, tmp_path, monkeypatch):
    run = tmp_path / target / "20261125-000000-subagents"
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        (run / name).write_bytes((SAVED / target / name).read_bytes())
    analyze_run(run)
    agents = {record["id"]: record for record in map(orjson.loads, (run / "insight.jsonl").read_bytes().splitlines())
              if record["record"] == "agent"}  # fmt: skip
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))
    Receiver.bodies = []
    with serving(Receiver) as url:
        assert export.main(["--run", str(run), "--otlp", url]) == 0
    spans = []
    for body in Receiver.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                spans += [(span.name, {kv.key: value_of(kv.value) for kv in span.attributes}) for span in scope.spans]
    by_agent = {attributes["gen_ai.agent.id"]: (name, attributes) for name, attributes in spans
                if "gen_ai.agent.id" in attributes}  # fmt: skip
    assert set(by_agent) == set(agents)
    sub_agents = {agent: by_agent[agent] for agent, record in agents.items() if record["parent"] is not None}
    assert {attributes["gen_ai.agent.name"] for name, attributes in sub_agents.values()} | {"main"} == NAMES[target]
    for agent, (name, attributes) in sub_agents.items():
        assert name == f"invoke_agent {agents[agent]['name']}" and attributes["gen_ai.agent.id"] == agent
        # codex's path is a detail beside the name; Claude Code's agents have none.
        assert attributes.get("agent_probe.agent.path") == agents[agent]["path"]
        assert (agents[agent]["path"] or "").startswith({"codex": "/root/", "claude-code": ""}[target])
        assert attributes["agent_probe.agent.life_s"] == pytest.approx(agents[agent]["life_s"])
    assert not any("/" in name for name, _ in spans if name.startswith("invoke_agent"))
