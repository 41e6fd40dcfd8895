"""One run's side-by-side figures, each taken from the summary of the run (probe.analyse.run_summary) and the insight
its report is made from (never counted again)."""

from pathlib import Path
from typing import Any

from probe.analyse.context import INSTRUCTIONS, TOOLS
from probe.analyse.insight import SCHEMA
from probe.analyse.run_facts import TOKEN_KINDS, RunSummary
from probe.analyse.side_by_side.figures import Figures

NAMESPACE_SUFFIX = "(namespace)"  # a namespace's own entry among a turn's tools (probe.analyse.context): no tool


def run_figures(run: Path, summary: RunSummary, manifest: Any) -> Figures:
    """The figures of `run`, read into `summary` with the prices its report was made with, and its `manifest`."""
    figures = Figures(run, summary.target, summary.agent, dict(summary.models.most_common()))
    figures.warnings = list(summary.warnings)
    context_figures(figures, summary)
    usage_figures(figures, summary)
    other_figures(figures, summary, manifest if isinstance(manifest, dict) else {})
    return figures


def context_figures(figures: Figures, summary: RunSummary) -> None:
    filling = summary.insight.context
    # Among the turns the report's Context lists one by one; the first of equals.
    fullest = max(filling.kept, key=lambda split: split.total(INSTRUCTIONS) + split.total(TOOLS), default=None)
    if fullest is not None:
        figures.fullest_turn = fullest.number
        figures.instruction_tokens = fullest.total(INSTRUCTIONS)
        figures.instruction_blocks = sum(1 for part in fullest.categories if part.kind == INSTRUCTIONS)
        figures.tool_tokens = fullest.total(TOOLS)
        figures.tools = sum(1 for part in fullest.categories
                            if part.kind == TOOLS and not part.name.endswith(NAMESPACE_SUFFIX))  # fmt: skip
    total = sum(filling.sums.values())
    if total:
        figures.tools_share = sum(tokens for (kind, _, _), tokens in filling.sums.items() if kind == TOOLS) / total
    figures.instruction_chars = sum(len(block.text) for block in summary.instructions.values())
    figures.tool_names = {f"{key.namespace}.{key.name}" if key.namespace else key.name
                          for key in summary.tools if not key.is_namespace}  # fmt: skip
    figures.header_names = set(summary.headers)


def usage_figures(figures: Figures, summary: RunSummary) -> None:
    insight = summary.insight
    figures.requests = sum(len(agent.requests) for agent in insight.finished or [])
    figures.sub_agents = sum(agent.parent is not None for agent in insight.finished or [])
    figures.tokens = {kind: summary.tokens[kind] if summary.token_turns[kind] else None for kind in TOKEN_KINDS}
    figures.cache_input, figures.cache_read, figures.cache_turns = insight.cache.totals()
    figures.cache_markers = max((len(prefix.markers) for prefix in insight.cache.latest.values()), default=0)
    costs = insight.costs
    figures.priced_turns, figures.unknown_turns = costs.run.priced, costs.run.unknown
    figures.cost_usd = costs.run.usd if costs.run.priced else None
    figures.unknown_reason = costs.reasons.most_common(1)[0][0] if costs.reasons else None
    figures.prices = costs.book.provenance()
    run = next((record for record in insight.time.records(SCHEMA)
                if record.get("record") == "time" and record.get("agent") is None), None)  # fmt: skip
    wall = run.get("wall_s") if run is not None and run.get("spans") else None
    figures.wall_s = float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else None


def other_figures(figures: Figures, summary: RunSummary, manifest: dict) -> None:
    insight = summary.insight
    figures.all_hosts = manifest.get("all_hosts") is True
    figures.hosts = list(insight.hosts.hosts)
    figures.host_events = sum(sum(host.events.values()) + host.events_more for host in insight.hosts.hosts.values())
    # The agent's own account, as the manifest says the capture received it (the count the report's section on the
    # account is checked against).
    account = manifest.get("account") if isinstance(manifest.get("account"), dict) else {}
    telemetry = account.get("telemetry") if isinstance(account.get("telemetry"), dict) else {}
    if telemetry.get("state") in ("on", "off", "none"):
        figures.telemetry = telemetry["state"]
    records = telemetry.get("records")
    if figures.telemetry == "on" and isinstance(records, int) and not isinstance(records, bool):
        figures.telemetry_records = records
