"""Writes insight.jsonl beside turns.jsonl: the run's derived facts as JSON lines (docs/formats.md), one record
per turn as it streams past, one per tool call as its result comes back, then the agents and the run's totals; and
what a turn's line of turns.jsonl carries of its record."""

import hashlib
from typing import Any, BinaryIO

from probe.analyse.agents import Agent, depths
from probe.analyse.cost import Costs, number
from probe.analyse.insight import SCHEMA, Insight, TurnInsight
from probe.analyse.prompt_cache import CacheTurn, Cause
from probe.analyse.token_sums import KINDS
from probe.analyse.tool_calls import ToolCall
from probe.common.fastjson import encoded
from probe.common.long_names import bounded
from probe.redact.json_values import mask_json, masked_string
from probe.write.account_records import account_records
from probe.write.mcp_records import mcp_records
from probe.write.viewer import page_budget

INSIGHT_FILE = "insight.jsonl"
INSIGHT_SUFFIX = ".insight.jsonl"  # beside a report named otherwise (Y.md: Y.insight.jsonl)


PAGE_TOOL_CALLS = 5000  # tool calls the viewer's overview lists; the insight file has them all
PAGE_SPANS = 20_000  # intervals the viewer's timeline draws (about 7 MB of a page's 25): the insight file has them all
SPANS_SHARE = 4  # and at most this share of the page's limit, so that a page held to less keeps room for its turns
REMEMBERED = 100_000  # span and time records whose masked form is kept for the next analysis (memory stays bounded)


class InsightLines:
    """The records of one run's insight file, written to `out` (nothing is written without one), and kept for the
    viewer when `keep` (`kept`: the agents, the run, and the first PAGE_TOOL_CALLS tool calls)."""

    page_spans = PAGE_SPANS  # the spans the page keeps (the live viewer reads it here)

    def __init__(self, out: BinaryIO | None, redact: bool = True, keep: bool = False):
        self.out = out
        # Tool arguments and quoted instructions are captured text joined from streamed pieces: masked again.
        self.redact = redact
        self.memo: dict = {}
        self.keep = keep
        self.kept: dict[str, Any] = {"run": None, "agents": [], "tool_calls": [], "tool_calls_left_out": 0}
        self.span_bytes = 0  # of the spans kept for the page
        # The span and time records the run's end wrote, masked, by a digest of them unmasked: an analysis of the
        # grown run (probe.analysis.resume) writes most of them again, and masking them was most of its time.
        self.remembered: dict[bytes, dict] = {}
        self.ended: dict[bytes, dict] = {}  # those this analysis's end wrote, remembered in their turn

    def __getstate__(self) -> dict:
        # A saved reading is taken before the run's end: what that end remembers is saved apart, after it.
        return {**vars(self), "remembered": {}, "ended": {}}

    def write(self, record: dict, remember: bool = False) -> dict:
        """Write `record` (masked), and return it as written; `remember`: take its masked form from the last
        analysis's end if it wrote the same record, and keep it for the next one."""
        if self.out is None and not self.keep:
            return record
        # By a digest of its bytes: what is saved of it holds no captured text unmasked.
        key = hashlib.sha256(encoded(record)).digest() if remember and self.redact else None
        masked = self.remembered.get(key) if key is not None else None
        if masked is not None:  # (the same record masked the same way: masking is a function of it alone)
            record = masked
        elif self.redact:
            context = record.get("context") if record["record"] == "turn" else None
            record = mask_json({**record, "context": None} if context else record, memo=self.memo)[0]
            if context:
                record["context"] = self.masked_context(context)
            if len(self.memo) > 65536:  # (bounded: tool arguments rarely repeat)
                self.memo.clear()
        if key is not None and len(self.ended) < REMEMBERED:
            self.ended[key] = record
        if self.out is not None:
            self.out.write(encoded(record) + b"\n")  # (a sum of counts may pass 64 bits)
        if self.keep:
            self.keep_for_page(record)
        return record

    def kept_beside(self, records: list[dict]) -> dict:
        """What the page would keep of `records` (span and time records of a model made before the run ended), as
        if written: masked and bounded as the final ones will be; nothing is written or kept here."""
        beside = InsightLines(None, self.redact, keep=True)
        beside.memo = self.memo
        for record in records:
            beside.write(record)
        return {key: value for key, value in beside.kept.items() if key not in self.kept}

    def keep_for_page(self, record: dict) -> None:
        kind = record["record"]
        if kind == "run":
            self.kept["run"] = record
        elif kind == "agent":
            self.kept["agents"].append(record)
        elif kind == "tool_call":
            if len(self.kept["tool_calls"]) < PAGE_TOOL_CALLS:
                self.kept["tool_calls"].append(record)
            else:
                self.kept["tool_calls_left_out"] += 1
        elif kind == "mcp_server":
            self.kept.setdefault("mcp_servers", []).append(record)
        elif kind == "mcp_call":  # (the first PAGE_TOOL_CALLS, as the model's tool calls)
            calls = self.kept.setdefault("mcp_calls", [])
            if len(calls) < PAGE_TOOL_CALLS:
                calls.append(record)
            else:
                self.kept["mcp_calls_left_out"] = self.kept.get("mcp_calls_left_out", 0) + 1
        elif kind == "span":  # (the timeline's intervals: the first PAGE_SPANS, and a count of the others)
            spans = self.kept.setdefault("spans", [])
            size = len(encoded(record)) + 1
            if len(spans) < PAGE_SPANS and self.span_bytes + size <= page_budget.PAGE_LIMIT // SPANS_SHARE:
                spans.append(record)
                self.span_bytes += size
            else:
                self.kept["spans_left_out"] = self.kept.get("spans_left_out", 0) + 1
        elif kind == "time":
            self.kept.setdefault("times", []).append(record)

    def masked_context(self, context: dict) -> dict:
        """A turn's context split with its captured strings (the parts' names and groups: tool names) masked: the
        rest is numbers and our words, and walking a few dozen parts a turn through the masker would cost more
        than splitting the turn did."""
        parts = [{**part, "name": masked_string(part["name"], True, self.memo)[0],
                  "group": None if part["group"] is None else masked_string(part["group"], True, self.memo)[0]}
                 for part in context["categories"]]  # fmt: skip
        return {**context, "categories": parts}

    def add(self, facts: TurnInsight, answered: list[ToolCall]) -> dict:
        """Write a turn's record (`facts`, what the insight layer made of it) and the tool calls it answered; return
        the turn's record as written, which the viewer shows too."""
        record = self.turn(facts)
        self.calls(answered)
        return record

    def turn(self, facts: TurnInsight) -> dict:
        """Write the turn's record, and return it."""
        record = {"record": "turn", "schema": SCHEMA, "number": facts.number, "agent": facts.agent,
                  "cache": cache_record(facts.cache),
                  "cost": None if facts.cost is None else facts.cost.to_json(),
                  "context": None if facts.context is None else facts.context.to_json(),
                  "window": None if facts.window is None else facts.window.to_json(),
                  "share": None if facts.window is None else facts.window.share}  # fmt: skip
        return self.write(record)

    def calls(self, calls: list[ToolCall]) -> None:
        for call in calls:
            self.write({"record": "tool_call", "schema": SCHEMA, **call.to_json()})

    def finish(self, insight: Insight, agents: list[Agent], unanswered: list[ToolCall]) -> None:
        """The calls no request answered, the agents, the MCP servers and their calls (the run's record and what its
        join found, probe.read.mcp and probe.analyse.mcp), and the run's totals, from `insight` once it has
        finished."""
        self.calls(unanswered)
        depth = depths(agents)
        for agent in agents:
            spend = insight.costs.by_agent.get(agent.id)
            self.write({**agent_record(agent, depth[agent.id]), "cost": None if spend is None else spend.to_json(),
                        "window": window_record(insight, agent.id)})  # fmt: skip
        # Before the time model's records: the Perfetto export reads the calls' times before it places the spans.
        facts = insight.mcp_facts
        for record in mcp_records(facts.recording if facts is not None else None, facts, SCHEMA):
            self.write(record)
        for record in insight.time.records(SCHEMA):  # each agent's intervals and where its time went
            self.write(record, remember=True)
        self.remembered, self.ended = self.ended, {}
        total_input, total_cached, reporting = insight.cache.totals()
        lapses, rewritten, rewritten_usd, unpriced = insight.cache.rewrites()
        tools = {name: vars(stats) for name, stats in insight.tools.tools.items()}
        self.write({
            "record": "run", "schema": SCHEMA, "agents": len(agents), "tool_calls": insight.tools.calls,
            "cache": {"input": total_input, "cached": total_cached, "turns": reporting,
                      "breaks": len(insight.cache.breaks()), "lapses": lapses, "rewritten": rewritten,
                      "rewritten_usd": number(rewritten_usd), "rewritten_unpriced": unpriced},
            "tools": tools, "cost": costs_record(insight.costs),
            "window": {**insight.windows.run_record(next((a.id for a in agents if a.parent is None), None)),
                       "compactions": len(insight.compactions.found)},
            "context": [{"kind": kind, "name": name, "new": new, "tokens": tokens}
                        for (kind, name, new), tokens in insight.context.sums.items()],
        })  # fmt: skip
        self.write({"record": "setup", "schema": SCHEMA, **insight.setup.to_json()})
        for host in insight.hosts.hosts.values():  # (none unless the forward proxy recorded other hosts)
            self.write({"record": "host", "schema": SCHEMA, **host.to_json()})
        for record in account_records(insight.account, SCHEMA):  # (probe.write.account_records)
            self.write(record)
        if insight.hooks is not None:  # the agent's hook events (probe.analyse.hooks)
            self.write({"record": "hooks", "schema": SCHEMA, **insight.hooks.summary()})


def window_record(insight: Insight, agent: str) -> dict | None:
    """The agent's window and shares, with its compactions (probe.analyse.window.compactions)."""
    record = insight.windows.agent_record(agent)
    compactions = [compaction.to_json() for compaction in insight.compactions.of_agent(agent)]
    return record if record is None and not compactions else {**(record or {}), "compactions": compactions}


def costs_record(costs: Costs) -> dict:
    """The run's cost: in all, by model, where the prices came from, and why some turns have none."""
    return {
        **costs.run.to_json(), "by_model": {model: spend.to_json() for model, spend in costs.by_model.items()},
        "prices": costs.book.provenance(), "sources": dict(costs.sources), "unknown": dict(costs.reasons),
    }  # fmt: skip


def cache_record(cache: CacheTurn | None) -> dict | None:
    if cache is None:
        return None
    return {
        "input": cache.input, "cached": cache.cached, "hit_rate": cache.hit_rate,
        "compared_with": cache.compared_with, "cause": cause_record(cache.cause), "drop": cause_record(cache.drop),
        "since_s": cache.since_s, "lifetime_s": None if cache.lifetime is None else cache.lifetime.seconds,
        "lifetime_source": None if cache.lifetime is None else cache.lifetime.source, "lapsed": cache.lapsed,
        "rewritten": cache.rewritten, "rewritten_usd": number(cache.rewritten_usd),
    }  # fmt: skip


# What a turn's line of turns.jsonl carries of its insight record: its window and share, and its cache's time left.
TURN_LINE_CACHE = ("since_s", "lifetime_s", "lifetime_source", "lapsed")


def turn_line_fields(record: dict) -> dict:
    """`window`, `share` and `cache` for a turn's line of turns.jsonl, from its record here: null where the analysis
    knows nothing of them (a turn that spent nothing has no cache; a model no table knows, a window of null tokens)."""
    cache = record.get("cache")
    kept = {name: cache.get(name) for name in TURN_LINE_CACHE} if isinstance(cache, dict) else None
    return {"window": record.get("window"), "share": record.get("share"), "cache": kept}


def cause_record(cause: Cause | None) -> dict | None:
    return None if cause is None else {"kind": cause.kind, "text": cause.template.format(*cause.values)}


def agent_record(agent: Agent, depth: int) -> dict[str, Any]:
    spawn = agent.spawn
    return {
        "record": "agent", "schema": SCHEMA, "id": agent.id, "name": agent.name, "path": agent.label,
        "parent": agent.parent,
        "depth": depth,
        "spawned_by": None if spawn is None else {"turn": spawn.turn, "call_id": bounded(spawn.call_id),
                                                  "tool": bounded(spawn.tool)},
        "requests": len(agent.requests), "first_request": agent.requests[0] if agent.requests else None,
        "turns_with_usage": agent.tokens.turns,
        "tokens": {kind: agent.tokens.sums[kind] if agent.tokens.reported[kind] else None for kind in KINDS},
        "models": agent.models, "tool_calls": agent.tool_calls, "start": agent.start,
        "duration_s": agent.duration_s, "life_s": agent.life_s, "children": agent.children,
    }  # fmt: skip
