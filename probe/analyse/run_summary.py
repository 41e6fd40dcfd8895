"""Reads one run into what two runs are compared by: totals, endpoints, request shape, headers, instructions,
tools and per-turn numbers, all taken from the conversation model, with volatile values normalised."""

import json
from pathlib import Path
from typing import Any

from probe.analyse.hosts.kinds import is_other_host
from probe.analyse.mcp.facts import mcp_facts
from probe.analyse.model_calls import is_model_call
from probe.analyse.run_facts import GENERIC_API, TOKEN_KINDS, RunSummary, ToolKey, TurnNumbers
from probe.analyse.volatile import Volatile
from probe.apis.choice import choose_renderer
from probe.apis.turns import Reading
from probe.read.conversation import TextBlock, Tool, Turn
from probe.read.masked import masked_exchanges
from probe.read.thinning import thinned_exchanges
from probe.read.traffic import Exchange, iter_exchanges
from probe.redact.secrets import redact_header
from probe.runs.folders import load_manifest


def summarise(run: Path, volatile: Volatile) -> RunSummary:
    """Read a run folder as analysis reads it (each exchange by its API's reader, the target's for its API: a
    manifest names a target only by name) and summarise it."""
    manifest, problem = load_manifest(run)
    summary = RunSummary(run.name)
    summary.warnings += [problem] if problem else []
    renderer, extra_secrets = choose_renderer(None, manifest, summary.warnings)
    if isinstance(manifest, dict):
        summary.target = str(manifest.get("target") or "")
        agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
        summary.agent = str(agent.get("version") or "")
    reading = Reading(renderer)  # each exchange read by its own API's reader, as analysis reads it
    # Masked as it is read, whatever the capture says: the diff prints what it compares.
    # Lists too long to read whole read at their ends, before masking, as analysis reads them (probe.read.thinning).
    exchanges = thinned_exchanges(iter_exchanges(run / "traffic.jsonl", summary.warnings))
    for exchange in masked_exchanges(exchanges, extra_secrets):
        if not is_model_call(exchange, renderer):  # never a turn: its host is compared
            summary.insight.add_other(exchange)
            if not is_other_host(exchange):  # through the target's own proxies: its endpoint is compared too
                summary.endpoints[endpoint_of(exchange, volatile)] += 1
            continue
        turn, _ = reading.build(exchange, summary.warnings)
        absorb(summary, exchange, turn, volatile, extra_secrets)
        summary.insight.add(turn, exchange.request_headers)
    summary.insight.finish(folder=run)
    summary.insight.mcp_facts = mcp_facts(run, summary.insight.mcp, summary.insight.setup)  # as analysis joins it
    return summary


def endpoint_of(exchange: Exchange, volatile: Volatile) -> str:
    kind = "WebSocket " if exchange.kind == "websocket" else ""
    return f"{kind}{exchange.method} {volatile.text(exchange.path.split('?', 1)[0])}"


def absorb(summary: RunSummary, exchange: Exchange, turn: Turn, volatile: Volatile, extra_secrets) -> None:
    summary.exchanges += 1
    if turn.api != GENERIC_API:
        summary.apis[turn.api] += 1
    summary.sent += turn.request_bytes
    summary.received += turn.response_bytes
    start, end = exchange.timing.get("start"), exchange.timing.get("end")
    if start is not None:
        summary.start = start if summary.start is None else min(summary.start, start)
    if end is not None:
        summary.end = end if summary.end is None else max(summary.end, end)
    if turn.timing.ttfb_ms is not None:
        summary.ttfbs.append(turn.timing.ttfb_ms)
    endpoint = endpoint_of(exchange, volatile)
    summary.endpoints[endpoint] += 1
    for name, value in exchange.request_headers:
        shown = volatile.header(name, redact_header(name, value, extra_secrets))
        summary.headers.setdefault(name.lower(), set()).add(shown)
    for key, value in volatile.value(turn.config).items():
        summary.config.setdefault(key, set()).add(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))
    for body in request_bodies(exchange):
        summary.request_paths.add(body)
    summary.kinds |= {f"event {kind}" for kind in turn.events}
    for item in turn.input + turn.output:
        summary.kinds.add(f"item {item.type}")
        summary.kinds |= {f"part {part.type}" for part in item.parts}
    for block in turn.system:
        text, metadata = volatile.text(block.text), volatile.value(block.metadata)
        key = (block.role, json.dumps(metadata, sort_keys=True, default=str), text)
        summary.instructions.setdefault(key, TextBlock(text, block.role, block.type, block.id, metadata))
    for tool in turn.tools:
        key = ToolKey.of(tool)
        known = summary.tools.get(key)
        if known is None or not tool.hash or known.hash != tool.hash:  # re-declared as before: normalised once
            summary.tools[key] = normalised(tool, volatile)
    # A model turn is one that was answered: a warm-up request (codex's first WebSocket request generates
    # nothing) would shift the pairing of every later turn.
    if turn.model is not None:
        summary.models[turn.model] += 1  # requests naming each model, warm-ups included
    if turn.usage is not None or turn.output:
        # A count the API did not send stays None: it is absent, not zero, and is neither summed nor compared.
        tokens = {kind: getattr(turn.usage, kind) if turn.usage else None for kind in TOKEN_KINDS}
        for kind, count in tokens.items():
            if count is not None:
                summary.tokens[kind] += count
                summary.token_turns[kind] += 1
        summary.turns.append(
            TurnNumbers(
                turn.number,
                endpoint,
                tokens,
                turn.request_bytes,
                turn.response_bytes,
                turn.input_count,
                turn.timing.ttfb_ms,
                turn.timing.duration_ms,
            )
        )


def normalised(tool: Tool, volatile: Volatile) -> Tool:
    """The tool with volatile values replaced in every field the model keeps (its hash stays that of the tool as
    sent: it tells a re-declaration from a change, not one run's tool from another's)."""
    return Tool(
        name=tool.name,
        namespace=tool.namespace,
        type=tool.type,
        description=volatile.text(tool.description),
        schema=volatile.value(tool.schema),
        hash=tool.hash,
        metadata=volatile.value(tool.metadata),
    )


def request_bodies(exchange: Exchange) -> list[Any]:
    if exchange.kind == "websocket":
        return [frame.body.value for frame in exchange.frames if frame.from_client and frame.body.is_json]
    return [exchange.request_body.value] if exchange.request_body.is_json else []
