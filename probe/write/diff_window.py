"""The diff's Context window section: how full each run's context came to be against its model's window ("peak
share 41% → 63%"), the window and its source where they differ, the compactions, the headroom left at the end, and
the prompt cache's lapses with the input they wrote again and its cost; for the run (its main agent's main model, as
the run's `window` record has it, and the whole run's compactions and lapses) and for each agent the two runs name
alike."""

from dataclasses import dataclass
from decimal import Decimal

from probe.analyse.agents import Agent
from probe.analyse.cost import dollars
from probe.analyse.run_facts import RunSummary
from probe.common import markdown as md
from probe.write.diff_numbers import number

UNKNOWN = "unknown"


@dataclass
class Fill:
    """What one side shows of an agent or a run: its window and shares, its headroom, its cache's lapses."""

    model: str | None = None
    tokens: int | None = None
    source: str = UNKNOWN
    peak_share: float | None = None
    last_share: float | None = None
    headroom_tokens: int | None = None
    headroom_share: float | None = None
    lapses: int = 0
    rewritten: int = 0
    rewritten_usd: Decimal | None = None
    unpriced: int = 0
    compactions: int = 0


def window_section(a: RunSummary, b: RunSummary) -> list:
    """The section, or nothing when both runs filled their windows alike and their caches lapsed alike."""
    runs = [run_fill(run) for run in (a, b)]
    lines = [md.Markdown("- {}").format(change) for change in changes(*runs, run=True)]
    pairs = matched_agents(a, b)
    by_agent = [(name, found) for name, first, second in pairs if (found := changes(first, second))]
    several = any(len(run.insight.finished or []) > 1 for run in (a, b))
    if not lines and not (by_agent and several):
        return []
    out = [md.Markdown("## Context window"), "",
           md.Markdown("The main agent's main model, from A to B (shares of its window):"), ""]  # fmt: skip
    out += lines or [md.Markdown("- the same figures")]
    if by_agent and several:
        out += ["", md.Markdown("By agent, where both runs have an agent of that name:"), ""]
        out += [md.Markdown("- {}: {}").format(md.inline(name), md.Markdown("; ").join(found))
                for name, found in by_agent]  # fmt: skip
    return out + [""]


def run_fill(run: RunSummary) -> Fill:
    """The run's figures: its main agent's window (the run's headroom record) and the whole run's cache lapses."""
    insight = run.insight
    main = next((agent for agent in insight.finished or [] if agent.parent is None), None)
    record = insight.windows.run_record(main.id if main is not None else None)
    fill = agent_fill(run, main) if main is not None else Fill()
    fill.model, fill.tokens, fill.source = record["model"], record["tokens"], record["source"]
    fill.headroom_tokens, fill.headroom_share = record["headroom_tokens"], record["headroom_share"]
    fill.lapses, fill.rewritten, fill.rewritten_usd, fill.unpriced = insight.cache.rewrites()
    fill.compactions = len(insight.compactions.found)
    return fill


def agent_fill(run: RunSummary, agent: Agent) -> Fill:
    """An agent's figures: its main model's window and shares, and the cache lapses of its own turns."""
    record = run.insight.windows.agent_record(agent.id) or {}
    fill = Fill(record.get("model"), record.get("tokens"), record.get("source") or UNKNOWN, record.get("peak_share"),
                record.get("last_share"), compactions=len(run.insight.compactions.of_agent(agent.id)))  # fmt: skip
    own = set(agent.requests)
    for turn in run.insight.cache.turns:
        if turn.number in own and turn.rewritten is not None:
            fill.lapses += 1
            fill.rewritten += turn.rewritten
            if turn.rewritten_usd is None:
                fill.unpriced += 1
            else:
                fill.rewritten_usd = (fill.rewritten_usd or Decimal(0)) + turn.rewritten_usd
    return fill


def changes(old: Fill, new: Fill, run: bool = False) -> list[md.Markdown]:
    """What differs between two sides, in words: "peak share 41% → 63%"; the run's headroom too."""
    found = []
    if old.peak_share != new.peak_share:
        found.append(md.Markdown("peak share {} → {}").format(percent(old.peak_share), percent(new.peak_share)))
    if not run and old.last_share != new.last_share:
        found.append(md.Markdown("share at the end {} → {}").format(percent(old.last_share), percent(new.last_share)))
    if (old.model, old.tokens, old.source) != (new.model, new.tokens, new.source):
        found.append(md.Markdown("window {} → {}").format(window(old, old.model != new.model),
                                                          window(new, old.model != new.model)))  # fmt: skip
    if old.compactions != new.compactions:
        found.append(md.Markdown("compactions {} → {}").format(old.compactions, new.compactions))
    if run and (old.headroom_tokens, old.headroom_share) != (new.headroom_tokens, new.headroom_share):
        found.append(md.Markdown("headroom at the end {} → {}").format(headroom(old), headroom(new)))
    if old.lapses != new.lapses:
        found.append(md.Markdown("cache lapses {} → {}").format(old.lapses, new.lapses))
    if old.rewritten != new.rewritten:
        found.append(md.Markdown("input tokens written again after a lapse {} → {}").format(
            number(old.rewritten), number(new.rewritten)))  # fmt: skip
    if (old.rewritten_usd, old.unpriced) != (new.rewritten_usd, new.unpriced):
        found.append(md.Markdown("their cost {} → {}").format(rewrite_cost(old), rewrite_cost(new)))
    return found


def matched_agents(a: RunSummary, b: RunSummary) -> list[tuple[str, Fill, Fill]]:
    """The agents paired by their readable names (two of one name: in the order each run gives them), each side's
    figures beside its name."""
    sides = []
    for run in (a, b):
        named: dict[str, list[Agent]] = {}
        for agent in run.insight.finished or []:
            named.setdefault(agent.name, []).append(agent)
        sides.append(named)
    return [(name, agent_fill(a, first), agent_fill(b, second)) for name, agents in sides[0].items()
            for first, second in zip(agents, sides[1].get(name, []))]  # fmt: skip


def percent(share: float | None) -> str:
    """A share as a percentage, to two figures below 10% (a small share is not 0%)."""
    if share is None:
        return UNKNOWN
    points = share * 100
    return f"{points:.0f}%" if points >= 10 or points == 0 else f"{points:.2g}%"


def window(fill: Fill, with_model: bool) -> md.Markdown:
    """A window and where it came from ("200,000 (genai-prices 0.2.3)"), after its model when the sides' differ
    ("`gpt-5` 400,000 (genai-prices 0.2.3)")."""
    model = md.Markdown("{} ").format(md.inline(fill.model)) if with_model and fill.model else md.Markdown("")
    if fill.tokens is None:
        return md.Markdown("{}{}").format(model, UNKNOWN)
    return md.Markdown("{}{} ({})").format(model, number(fill.tokens), fill.source)


def headroom(fill: Fill) -> str:
    if fill.headroom_tokens is None:
        return UNKNOWN
    return f"{number(fill.headroom_tokens)} tokens ({percent(fill.headroom_share)})"


def rewrite_cost(fill: Fill) -> str:
    """What writing the prefixes again cost: $0 where nothing lapsed, unknown where nothing was priced."""
    if fill.rewritten_usd is None:
        return "$0" if not fill.lapses else UNKNOWN
    return dollars(fill.rewritten_usd) + (f" (+{fill.unpriced} unpriced)" if fill.unpriced else "")
