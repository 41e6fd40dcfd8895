"""The diff's sections on what each run's capture answers (probe.analyse.insight, as each run's report gives it):
the agents, the tool calls by tool, and the prompt cache."""

from probe.analyse.run_facts import RunSummary
from probe.common import markdown as md
from probe.write.diff_numbers import delta, number, numbers_table


def agents_and_tools_section(a: RunSummary, b: RunSummary) -> list:
    rows = [
        ("agents", len(a.insight.finished or []), len(b.insight.finished or [])),
        ("sub-agents", sub_agents(a), sub_agents(b)),
        ("tool calls", a.insight.tools.calls, b.insight.tools.calls),
        ("tool calls flagged as failed", failed(a), failed(b)),
    ]
    tools = sorted(set(a.insight.tools.tools) | set(b.insight.tools.tools))
    by_tool = [
        [md.inline(name), number(calls(a, name)), number(calls(b, name)), delta(calls(a, name), calls(b, name))]
        for name in tools
        if calls(a, name) != calls(b, name)
    ]
    if all(old == new for _, old, new in rows) and not by_tool:
        return []
    lines = [md.Markdown("## Agents and tool calls"), "", numbers_table("", rows), ""]
    if by_tool:
        lines += [md.Markdown("Calls by tool, where they differ:"), "", md.table(["tool", "A", "B", "change"], by_tool)]
        lines.append("")
    return lines


def sub_agents(run: RunSummary) -> int:
    return sum(agent.parent is not None for agent in run.insight.finished or [])


def failed(run: RunSummary) -> int:
    return sum(stats.failed for stats in run.insight.tools.tools.values())


def calls(run: RunSummary, tool: str) -> int:
    stats = run.insight.tools.tools.get(tool)
    return stats.calls if stats is not None else 0


def cache_section(a: RunSummary, b: RunSummary) -> list:
    rates = [hit_rate(run) for run in (a, b)]
    breaks = [len(run.insight.cache.breaks()) for run in (a, b)]
    if rates[0] == rates[1] and breaks[0] == breaks[1]:
        return []
    shown = [f"{rate:.1%}" if rate is not None else "—" for rate in rates]
    change = f"{(rates[1] - rates[0]) * 100:+.1f} points" if None not in rates and rates[0] != rates[1] else ""
    rows = [
        ["share of input read from the cache", shown[0], shown[1], change],
        ["cache breaks", number(breaks[0]), number(breaks[1]), delta(breaks[0], breaks[1])],
    ]
    return [md.Markdown("## Prompt cache"), "", md.table(["", "A", "B", "change"], rows), ""]


def hit_rate(run: RunSummary) -> float | None:
    total_input, cached, reporting = run.insight.cache.totals()
    return cached / total_input if reporting and total_input else None
