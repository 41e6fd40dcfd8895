"""Sends a run to an OpenTelemetry backend over OTLP/HTTP: one trace per run, one span per exchange, as the GenAI
semantic conventions describe a model call, with the times the capture recorded.

It reads the run's turns.jsonl (the conversation model) and manifest.json: no API is known here. Messages go into
the spans only when asked (`with_content`), since they are the sensitive part.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from probe.common.errors import RunError
from probe.common.fastjson import strict_text
from probe.read.conversation import integer
from probe.read.whole_turns import TurnsFileError, WholeTurns
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import load_manifest
from probe.write.otlp_agents import AgentSpans, insight_records
from probe.write.otlp_values import attribute, nanoseconds

SERVICE = "agent-probe"
TRACES_PATH = "/v1/traces"  # appended to a base endpoint, as the OTLP exporter spec says
# Request fields the conventions name, under each API's spellings (a config field kept as sent otherwise).
REQUEST_PARAMETERS = {
    "gen_ai.request.temperature": ("temperature",),
    "gen_ai.request.top_p": ("top_p", "topP"),
    "gen_ai.request.top_k": ("top_k", "topK"),
    "gen_ai.request.max_tokens": ("max_tokens", "max_output_tokens", "max_completion_tokens", "maxOutputTokens"),
    "gen_ai.request.frequency_penalty": ("frequency_penalty", "frequencyPenalty"),
    "gen_ai.request.presence_penalty": ("presence_penalty", "presencePenalty"),
    "gen_ai.request.seed": ("seed",),
    "gen_ai.request.stop_sequences": ("stop", "stop_sequences", "stopSequences"),
}
USAGE = {
    "gen_ai.usage.input_tokens": "input",
    "gen_ai.usage.output_tokens": "output",
    "gen_ai.usage.cache_read.input_tokens": "cache_read",
    "gen_ai.usage.cache_creation.input_tokens": "cache_write",
    "gen_ai.usage.reasoning.output_tokens": "reasoning",
}


def turns_of(run: Path) -> Iterator[dict]:
    """The run's turns, whole (probe.read.whole_turns); a line that cannot be read is left out, as a damaged line
    is in the SQL views."""
    whole = WholeTurns()
    with (run / "turns.jsonl").open("rb") as file:
        for line in file:
            try:
                record = orjson.loads(line)
                if isinstance(record, dict):
                    yield whole.whole(record)
            except (orjson.JSONDecodeError, TurnsFileError):
                continue


def is_model_call(turn: dict) -> bool:
    """A model's answer: output, a stop reason or a response id (not analytics, not a token count)."""
    return bool(turn.get("output") or turn.get("stop_reason") or turn.get("response_id")) and bool(
        turn.get("operation")
    )


def config_value(config: dict, names: tuple[str, ...]) -> Any:
    """A request parameter, at the top of the config or one level down (Gemini's generationConfig)."""
    for name in names:
        if name in config:
            return config[name]
    for value in config.values():
        if isinstance(value, dict):
            for name in names:
                if name in value:
                    return value[name]
    return None


def server_of(turn: dict, upstreams: dict[str, str]) -> dict[str, Any]:
    """server.address and server.port of the API the proxy forwarded to (the run's manifest names it)."""
    parts = urlsplit(upstreams.get(str(turn.get("proxy")), ""))
    if not parts.hostname:
        return {}
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {"server.address": parts.hostname, "server.port": port}


def model_span_attributes(turn: dict, upstreams: dict[str, str], with_content: bool) -> dict[str, Any]:
    config = turn.get("config") if isinstance(turn.get("config"), dict) else {}
    usage = turn.get("usage") if isinstance(turn.get("usage"), dict) else {}
    attributes: dict[str, Any] = {"gen_ai.operation.name": turn["operation"]}
    if turn.get("provider"):
        attributes["gen_ai.provider.name"] = turn["provider"]
    if turn.get("model") is not None:
        attributes["gen_ai.request.model"] = str(turn["model"])
    for name, fields in REQUEST_PARAMETERS.items():
        value = config_value(config, fields)
        if value is not None:
            attributes[name] = attribute(
                [value] if name.endswith("stop_sequences") and isinstance(value, str) else value
            )
    raw = usage.get("raw") if isinstance(usage.get("raw"), dict) else {}
    answer = turn.get("response_metadata") if isinstance(turn.get("response_metadata"), dict) else {}
    # The model snapshot that answered, where the API names it (it may differ from the one asked for).
    response_model = next((value.get("model") for value in (answer, raw) if isinstance(value.get("model"), str)), None)
    if response_model or turn.get("model") is not None:
        attributes["gen_ai.response.model"] = response_model or str(turn["model"])
    if turn.get("response_id") is not None:
        attributes["gen_ai.response.id"] = str(turn["response_id"])
    if turn.get("stop_reason") is not None:
        attributes["gen_ai.response.finish_reasons"] = [str(turn["stop_reason"])]
    for name, kind in USAGE.items():
        count = integer(usage.get(kind))
        if count is not None:
            attributes[name] = count
    timing = turn.get("timing") if isinstance(turn.get("timing"), dict) else {}
    if isinstance(timing.get("ttfb_ms"), (int, float)):
        attributes["gen_ai.response.time_to_first_chunk"] = timing["ttfb_ms"] / 1000
    attributes |= server_of(turn, upstreams)
    attributes |= http_attributes(turn)
    if with_content:
        attributes |= content_attributes(turn)
    return attributes


def http_attributes(turn: dict) -> dict[str, Any]:
    attributes = {"http.request.method": str(turn.get("method")), "url.path": str(turn.get("path"))}
    if isinstance(turn.get("status"), int):
        attributes["http.response.status_code"] = turn["status"]
    error = error_type(turn)
    if error:
        attributes["error.type"] = error
    return attributes


def error_type(turn: dict) -> str | None:
    """The conventions' error.type: the status code of a failed answer, else why the exchange was cut off."""
    status = turn.get("status")
    if isinstance(status, int) and status >= 400:
        return str(status)
    if not turn.get("complete", True):
        return "incomplete"
    return None


def content_attributes(turn: dict) -> dict[str, str]:
    """The messages, in the conventions' JSON shape: a role and typed parts."""
    system = [{"type": "text", "content": block.get("text")} for block in turn.get("system") or []]
    tools = [
        {
            "type": "function",
            "name": tool.get("name"),
            "description": tool.get("description"),
            "parameters": tool.get("schema"),
        }
        for tool in turn.get("tools") or []
        if tool.get("type") != "namespace"  # a group of tools, not one (its tools follow it)
    ]
    attributes = {
        "gen_ai.input.messages": strict_text(messages(turn.get("input") or []), ensure_ascii=False, default=str),
        "gen_ai.output.messages": strict_text(
            messages(turn.get("output") or [], turn.get("stop_reason")), ensure_ascii=False, default=str
        ),
    }
    if system:
        attributes["gen_ai.system_instructions"] = strict_text(system, ensure_ascii=False, default=str)
    if tools:
        attributes["gen_ai.tool.definitions"] = strict_text(tools, ensure_ascii=False, default=str)
    return attributes


def messages(items: list[dict], finish_reason: Any = None) -> list[dict]:
    found = []
    for item in items:
        parts = [part_of(part) for part in item.get("parts") or []]
        message = {"role": item.get("role") or role_of(parts), "parts": parts}
        if finish_reason is not None:
            message["finish_reason"] = str(finish_reason)
        found.append(message)
    return found


def role_of(parts: list[dict]) -> str:
    kinds = {part["type"] for part in parts}
    return "tool" if kinds == {"tool_call_response"} else "assistant"


def part_of(part: dict) -> dict:
    kind = part.get("kind")
    if kind == "text":
        return {"type": "text", "content": part.get("text")}
    if kind == "reasoning":
        return {"type": "reasoning", "content": part.get("text")}
    if kind == "tool_call":
        return {
            "type": "tool_call",
            "id": part.get("call_id"),
            "name": part.get("name"),
            "arguments": part.get("arguments"),
        }
    if kind == "tool_result":
        return {"type": "tool_call_response", "id": part.get("call_id"), "response": part.get("text", part.get("raw"))}
    return {"type": str(part.get("type") or kind), "content": part.get("text", part.get("raw"))}


def export_run(run: Path, endpoint: str | None, with_content: bool = False) -> dict[str, int]:
    """Send the run as one trace; return the numbers of its spans by kind (model, tool, agent, mcp, other). `endpoint`
    is a base URL (None: OTEL_EXPORTER_OTLP_ENDPOINT); the exporter adds OTEL_EXPORTER_OTLP_HEADERS itself."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

    manifest, _problem = load_manifest(run)
    manifest = manifest if isinstance(manifest, dict) else {}
    turns = list(turns_of(run))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + TRACES_PATH if endpoint else None)
    failed: list[int] = []
    original_export = exporter.export

    def export(spans):  # the SDK logs a failed export and moves on: the user must hear of it
        result = original_export(spans)
        if result is not SpanExportResult.SUCCESS:
            failed.append(len(spans))
        return result

    exporter.export = export
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("probe.write.otlp")
    upstreams = {
        str(proxy.get("name")): str(proxy.get("upstream"))
        for proxy in manifest.get("proxies") or []
        if isinstance(proxy, dict)
    }
    starts = [t["timing"].get("start") for t in turns if isinstance(t.get("timing"), dict) and t["timing"].get("start")]
    ends = [
        t["timing"]["start"] + (t["timing"].get("duration_ms") or 0) / 1000
        for t in turns
        if isinstance(t.get("timing"), dict) and isinstance(t["timing"].get("start"), (int, float))
    ]
    root = tracer.start_span(
        f"invoke_agent {manifest.get('target') or run.parent.name}",
        start_time=nanoseconds(min(starts)) if starts else None,
        attributes=root_attributes(run, manifest),
    )
    agents = AgentSpans(tracer, trace, root, insight_records(run))
    counts = [0, 0]
    for turn in turns:
        timing = turn.get("timing") if isinstance(turn.get("timing"), dict) else {}
        start = timing.get("start") if isinstance(timing.get("start"), (int, float)) else None
        end = start + (timing.get("duration_ms") or 0) / 1000 if start is not None else None
        model_call = is_model_call(turn)
        if model_call:
            name = f"{turn['operation']} {turn.get('model')}" if turn.get("model") is not None else turn["operation"]
            attributes = model_span_attributes(turn, upstreams, with_content) | agents.cost_of(turn.get("number"))
            attributes |= agents.window_of(turn.get("number"))
        else:
            name = str(turn.get("method"))
            attributes = http_attributes(turn) | server_of(turn, upstreams)
        attributes["agent_probe.exchange"] = integer(turn.get("number")) or 0
        span = tracer.start_span(
            name, context=agents.context_of(turn.get("number")), kind=trace.SpanKind.CLIENT,
            start_time=nanoseconds(start), attributes=attributes,
        )  # fmt: skip
        if attributes.get("error.type"):
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        span.end(end_time=nanoseconds(end))
        counts[0 if model_call else 1] += 1
    agents.end()
    root.end(end_time=nanoseconds(max(ends)) if ends else None)
    provider.shutdown()  # sends what is left
    if failed:
        where = endpoint or "OTEL_EXPORTER_OTLP_ENDPOINT"
        made = sum(counts) + agents.tools + agents.agents + agents.mcp + 1
        raise RunError(f"{sum(failed)} of {made} spans could not be sent to {where} (is it running?)")
    return {"model": counts[0], "tool": agents.tools, "agent": agents.agents, "mcp": agents.mcp, "other": counts[1]}


def masked(value: Any) -> Any:
    """The prompt, masked again with today's rules (it was when the run was recorded, with that day's)."""
    return mask_tokens_and_urls(value) if isinstance(value, str) else value


def root_attributes(run: Path, manifest: dict) -> dict[str, Any]:
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": str(manifest.get("target") or run.parent.name),
        "agent_probe.run": run.name,
    }
    for name, value in (
        ("gen_ai.agent.version", agent.get("version")),
        ("agent_probe.prompt", masked(manifest.get("prompt"))),
        ("agent_probe.status", manifest.get("status")),
        ("agent_probe.exit_code", manifest.get("agent_exit_code")),
    ):
        if value is not None:
            attributes[name] = attribute(value)
    return attributes
