"""The run's agents and tool calls as OTLP spans, read from its insight.jsonl: an `execute_tool` span per tool call
under the span of the agent that made it, an `invoke_agent` span per sub-agent under the `execute_tool` span
of the call that spawned it (the GenAI conventions' agent as a tool), or under its parent agent's when no call
names it, and a span per MCP call under the `execute_tool` span it was joined to (probe.write.otlp_mcp)."""

from pathlib import Path
from typing import Any

import orjson

from probe.write.otlp_mcp import mcp_attributes, mcp_spans, span_name
from probe.write.otlp_values import attribute, nanoseconds
from probe.write.otlp_window import agent_window_attributes, run_window_attributes, turn_window_attributes

TOOL_TYPE = "function"  # every call a model asks an agent to run is a function call, in the conventions' words


def insight_records(run: Path) -> list[dict]:
    """The records of the run's insight.jsonl; none when it has none (a report made by an older agent-probe)."""
    path = run / "insight.jsonl"
    if not path.is_file():
        return []
    found = []
    with path.open("rb") as file:
        for line in file:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("record"), str):
                found.append(record)
    return found


def number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class AgentSpans:
    """The agents' and tool calls' spans of one trace, started under `root` (the run's own invoke_agent span)."""

    def __init__(self, tracer, trace, root, records: list[dict]):
        self.trace, self.root = trace, root
        self.spans: list[tuple[Any, float | None]] = []  # (span, its end in seconds) to end once all are made
        self.agents = self.tools = self.mcp = 0
        self.by_agent: dict[str, Any] = {}
        self.turn_records = {r.get("number"): r for r in records if r["record"] == "turn"}
        run = next((r for r in records if r["record"] == "run"), {})
        root.set_attributes(cost_attributes(run.get("cost"), "agent_probe.run.cost") | run_window_attributes(run))
        agents = [r for r in records if r["record"] == "agent" and isinstance(r.get("id"), str)]
        calls = [r for r in records if r["record"] == "tool_call"]
        mains = [agent for agent in agents if agent.get("parent") is None]
        tool_spans: dict[str, Any] = {}
        # Parents first: a sub-agent's spawning call belongs to its parent, whose spans are made by then.
        for agent in sorted(agents, key=lambda agent: number(agent.get("depth")) or 0):
            if agent.get("parent") is None and len(mains) == 1:
                span = root  # the run's own span is its one main agent's, named after the target
                span.set_attributes(agent_attributes(agent) | {"gen_ai.agent.name": agent_name_of_root(root)})
            else:
                spawn = agent.get("spawned_by") if isinstance(agent.get("spawned_by"), dict) else {}
                parent = tool_spans.get(spawn.get("call_id")) or self.by_agent.get(agent.get("parent")) or root
                span = self.started(
                    tracer, f"invoke_agent {agent.get('name')}", parent, agent.get("start"),
                    agent_attributes(agent) | {"gen_ai.operation.name": "invoke_agent"},
                )  # fmt: skip
                start, duration = number(agent.get("start")), number(agent.get("duration_s"))
                self.spans.append((span, start + duration if start is not None and duration is not None else None))
                self.agents += 1
            self.by_agent[agent["id"]] = span
            for call in calls:
                if call.get("agent") == agent["id"]:
                    span = self.started(tracer, f"execute_tool {call.get('tool')}", self.by_agent[agent["id"]],
                                        call.get("asked_at"), tool_attributes(call))  # fmt: skip
                    self.spans.append((span, number(call.get("answered_at")) or number(call.get("asked_at"))))
                    self.tools += 1
                    if isinstance(call.get("call_id"), str):
                        tool_spans[call["call_id"]] = span
        # Each MCP call under the model's tool call that caused it (an MCP call is a part of running that tool), else
        # under the run's span: the agent's own calls (initialize, tools/list) and the server's requests of it.
        for call, server in mcp_spans(records):
            call_id = call.get("call_id")
            parent = (tool_spans.get(call_id) if isinstance(call_id, str) else None) or root
            span = self.started(tracer, span_name(call), parent, call.get("start"), mcp_attributes(call, server),
                                self.trace.SpanKind.CLIENT)  # fmt: skip
            if call.get("is_error") is True:
                span.set_status(self.trace.Status(self.trace.StatusCode.ERROR))
            self.spans.append((span, number(call.get("end")) or number(call.get("start"))))
            self.mcp += 1

    def started(self, tracer, name: str, parent, start: Any, attributes: dict, kind=None):
        context = self.trace.set_span_in_context(parent)
        return tracer.start_span(
            name, context=context, kind=kind or self.trace.SpanKind.INTERNAL, start_time=nanoseconds(number(start)),
            attributes=attributes,
        )  # fmt: skip

    def cost_of(self, turn_number: Any) -> dict[str, Any]:
        """The exchange's cost as span attributes: in US dollars, or why it has none."""
        cost = self.turn_records.get(turn_number, {}).get("cost")
        attributes = cost_attributes(cost, "agent_probe.cost")
        if isinstance(cost, dict) and isinstance(cost.get("unknown"), str):
            attributes["agent_probe.cost.unknown"] = cost["unknown"]
        return attributes

    def window_of(self, turn_number: Any) -> dict[str, Any]:
        """The exchange's context window, its share and its cache's time left, as span attributes."""
        return turn_window_attributes(self.turn_records.get(turn_number, {}))

    def context_of(self, turn_number: Any):
        """Where an exchange's span goes: under the span of the agent that made the request."""
        agent = self.turn_records.get(turn_number, {}).get("agent")
        return self.trace.set_span_in_context(self.by_agent.get(agent, self.root))

    def end(self) -> None:
        """End every span made here."""
        for span, end in self.spans:
            span.end(end_time=nanoseconds(end))


def agent_name_of_root(root) -> str:
    return str(root.attributes.get("gen_ai.agent.name", "main"))


def agent_attributes(agent: dict) -> dict[str, Any]:
    attributes = {"gen_ai.agent.id": str(agent["id"]), "gen_ai.agent.name": str(agent.get("name") or agent["id"])}
    if isinstance(agent.get("path"), str):  # the wire's own name for it (codex's `/root/<task>`): a detail
        attributes["agent_probe.agent.path"] = agent["path"]
    if number(agent.get("life_s")) is not None:
        attributes["agent_probe.agent.life_s"] = float(agent["life_s"])
    if isinstance(agent.get("parent"), str):
        attributes["agent_probe.parent_agent"] = agent["parent"]
    for name, value in (("agent_probe.requests", agent.get("requests")), ("agent_probe.tool_calls",
                        agent.get("tool_calls")), ("agent_probe.depth", agent.get("depth"))):  # fmt: skip
        if number(value) is not None:
            attributes[name] = attribute(value)
    return attributes | cost_attributes(agent.get("cost"), "agent_probe.cost") | agent_window_attributes(agent)


def cost_attributes(cost: Any, prefix: str) -> dict[str, Any]:
    """`prefix.usd` (only where known: an unknown price is never 0) and `prefix.unknown_turns`, where counted."""
    if not isinstance(cost, dict):
        return {}
    attributes = {}
    if number(cost.get("usd")) is not None:
        attributes[f"{prefix}.usd"] = float(cost["usd"])
    if number(cost.get("unknown_turns")) is not None:
        attributes[f"{prefix}.unknown_turns"] = int(cost["unknown_turns"])
    return attributes


def tool_attributes(call: dict) -> dict[str, Any]:
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": str(call.get("tool")),
                  "gen_ai.tool.type": TOOL_TYPE}  # fmt: skip
    if isinstance(call.get("call_id"), str):
        attributes["gen_ai.tool.call.id"] = call["call_id"]
    for name, key in (("agent_probe.asked_in", "asked_in"), ("agent_probe.answered_in", "answered_in"),
                      ("agent_probe.result_size", "result_size"), ("agent_probe.wait_ms", "wait_ms")):  # fmt: skip
        if number(call.get(key)) is not None:
            attributes[name] = call[key]
    if call.get("is_error") is True:
        attributes["error.type"] = "tool_error"
    return attributes
