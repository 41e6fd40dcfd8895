"""The diff's sections on what each run's capture answers (probe.analyse.insight, as each run's report gives it):
the context's composition, the cost, the agents, the tool calls by tool, and the prompt cache."""

from probe.analyse.block_pairs import block_name, match_blocks
from probe.analyse.context import tool_text
from probe.analyse.cost import Spend, dollars
from probe.analyse.run_facts import RunSummary
from probe.analyse.token_count import TokenCounter
from probe.common import markdown as md
from probe.write.diff_numbers import ABSENT, delta, number, numbers_table


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


def cost_section(a: RunSummary, b: RunSummary) -> list:
    """The runs' costs, in all and by model, with the turns each leaves out for want of a price."""
    spends = [run.insight.costs.run for run in (a, b)]
    rows = [["cost", *(cost_of(spend) for spend in spends), cost_change(*spends)],
            ["turns with an unknown price", *(number(spend.unknown) for spend in spends),
             delta(spends[0].unknown, spends[1].unknown)]]  # fmt: skip
    models = sorted(set(a.insight.costs.by_model) | set(b.insight.costs.by_model))
    for model in models:
        pair = [run.insight.costs.by_model.get(model, Spend()) for run in (a, b)]
        rows.append([md.Markdown("cost of {}").format(md.inline(model)), *(cost_of(spend) for spend in pair),
                     cost_change(*pair)])  # fmt: skip
    if all(row[1] == row[2] for row in rows):
        return []
    prices = [run.insight.costs.book.provenance() for run in (a, b)]
    lines = [md.Markdown("## Cost"), "", md.table(["", "A", "B", "change"], rows), ""]
    return lines + [md.Markdown("Prices from {}.").format(md.inline(prices[0])), ""]


def cost_of(spend: Spend) -> str:
    if not spend.priced:
        return "unknown" if spend.unknown else ABSENT
    return dollars(spend.usd) + (f" (+{spend.unknown} unknown)" if spend.unknown else "")


def cost_change(old: Spend, new: Spend) -> str:
    """A change in dollars only where both sides priced every turn: a partial sum compares nothing."""
    if not old.priced or not new.priced or old.unknown or new.unknown or old.usd == new.usd:
        return ""
    change = new.usd - old.usd
    return ("+" if change > 0 else "-") + dollars(abs(change)) + (f" ({change / old.usd:+.0%})" if old.usd else "")


def context_section(a: RunSummary, b: RunSummary) -> list:
    """How the fixed part of the context changed: every distinct instruction block and tool each run sent, with
    volatile values (ids, paths, dates) replaced as everywhere in the diff, counted with the same encoder and not
    scaled, so that text is compared with text: "instructions +1,240 tokens, tools −2"."""
    counter = TokenCounter()
    blocks = [[counter.count(block.text) for block in run.instructions.values()] for run in (a, b)]
    tools = [[counter.count(tool_text(tool)) for tool in run.tools.values() if tool.type != "namespace"]
             for run in (a, b)]  # fmt: skip
    rows = [
        ("instruction tokens", sum(blocks[0]), sum(blocks[1])),
        ("instruction blocks", len(blocks[0]), len(blocks[1])),
        ("tool definition tokens", sum(tools[0]), sum(tools[1])),
        ("tools", len(tools[0]), len(tools[1])),
    ]
    if all(old == new for _, old, new in rows):
        return []
    words = {"instruction tokens": "instructions {} tokens", "tool definition tokens": "tool definitions {} tokens",
             "tools": "tools {}"}  # fmt: skip
    changes = [words[label].format(signed(new - old)) for label, old, new in (rows[0], rows[3], rows[2]) if old != new]
    lines = [md.Markdown("## Context"), "",
             md.Markdown("Every instruction block and tool each run sent, counted with {}: {}.").format(
                 md.text(counter.encoding), md.text(", ".join(changes) or "the same sizes"))]  # fmt: skip
    lines += ["", numbers_table("", rows), ""]
    changed = block_changes(a, b, counter)
    if changed:
        lines += [md.table(["instruction block", "A tokens", "B tokens", "change"], changed), ""]
    return lines


def block_changes(a: RunSummary, b: RunSummary, counter: TokenCounter) -> list[list]:
    """The instruction blocks whose size changed, paired as the instructions section pairs them."""
    pairs, only_a, only_b = match_blocks(list(a.instructions.values()), list(b.instructions.values()))
    rows = []
    for old, new in (
        [(old, new) for old, new, _ in pairs] + [(old, None) for old in only_a] + [(None, new) for new in only_b]
    ):
        sizes = [counter.count(block.text) if block is not None else None for block in (old, new)]
        if sizes[0] != sizes[1]:
            rows.append([md.inline(block_name(new or old)), number(sizes[0]), number(sizes[1]), delta(*sizes)])
    return rows


def signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"\u2212{-value:,}"
