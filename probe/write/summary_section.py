"""The report's opening summary: one line for each question a capture is opened for (what filled the context, what
it cost, why the cache missed, which agent did what, which tools ran), each pointing to its section."""

from probe.analyse.agents import Agent, depth_of
from probe.analyse.insight import Insight
from probe.common import markdown as md
from probe.write.cache_section import cause_markdown

AGENTS_NAMED = 4  # agents named in the summary line; the Agents section lists them all
BREAKS_NAMED = 2


def summary_section(insight: Insight) -> list[str]:
    lines = ["", "## Summary", ""]
    lines += context_lines(insight) + cost_lines(insight)
    lines += [cache_line(insight), agents_line(insight.finished or []), tools_line(insight)]
    return lines


def context_lines(insight: Insight) -> list[str]:
    return []


def cost_lines(insight: Insight) -> list[str]:
    return []


def cache_line(insight: Insight) -> md.Markdown:
    total_input, total_cached, reporting = insight.cache.totals()
    if not reporting or not total_input:
        return md.Markdown("- Prompt cache: no turn reported cached tokens")
    breaks = insight.cache.breaks()
    line = md.Markdown("- Prompt cache: {:.1%} of {:,} input tokens read from the cache; {} break{}").format(
        total_cached / total_input, total_input, len(breaks), "s" if len(breaks) != 1 else ""
    )
    if not breaks:
        return line
    named = md.Markdown("; ").join(
        md.Markdown("cache break at #{}: {}").format(turn.number, cause_markdown(turn.cause))
        for turn in breaks[:BREAKS_NAMED]
    )
    more = f" and {len(breaks) - BREAKS_NAMED} more" if len(breaks) > BREAKS_NAMED else ""
    return md.Markdown("{} ({}{})").format(line, named, more)


def agents_line(agents: list[Agent]) -> md.Markdown:
    spawned = [agent for agent in agents if agent.parent is not None]
    if not spawned:
        return md.Markdown("- Agents: one agent made every request")
    shown = md.Markdown(", ").join(
        md.Markdown("{} {:,} request{}").format(md.inline(agent.name), len(agent.requests),
                                                  "s" if len(agent.requests) != 1 else "")
        for agent in agents[:AGENTS_NAMED]
    )  # fmt: skip
    more = f", and {len(agents) - AGENTS_NAMED} more" if len(agents) > AGENTS_NAMED else ""
    by_id = {agent.id: agent for agent in agents}
    deepest = max(depth_of(agent, by_id) for agent in spawned)
    return md.Markdown("- Agents: {} ({} sub-agent{}, {} level{} deep): {}{}").format(
        len(agents), len(spawned), "s" if len(spawned) != 1 else "", deepest, "s" if deepest != 1 else "", shown,
        more,
    )  # fmt: skip


def tools_line(insight: Insight) -> md.Markdown:
    timeline = insight.tools
    if not timeline.calls:
        return md.Markdown("- Tools: no tool call")
    failed = sum(stats.failed for stats in timeline.tools.values())
    line = md.Markdown("- Tools: {:,} call{} of {} tool{}, {} failed").format(
        timeline.calls, "s" if timeline.calls != 1 else "", len(timeline.tools),
        "s" if len(timeline.tools) != 1 else "", failed,
    )  # fmt: skip
    longest = timeline.longest()
    if longest:
        call = longest[0]
        line = md.Markdown("{}; longest wait {} {:,.0f} ms (asked in #{})").format(
            line, md.inline(call["tool"]), call["wait_ms"], call["asked_in"]
        )
    return line
