"""The report's context window, in its Context section: each agent's window on each of its models (tokens, source,
the agent's own effective limit), its peak share and its share at the end, the headroom it had left, its
compactions, and where a table's window was wrong; "window unknown" where nothing says it."""

from typing import Any

from probe.analyse.window.compactions import TURNS_KEPT, Compaction
from probe.analyse.window.fill import Fill
from probe.common import markdown as md

ROWS_SHOWN = 50  # agent-model rows and compactions listed; the rest are counted, and all are in insight.jsonl
UNKNOWN = "window unknown"


def window_lines(insight: Any) -> list[str]:
    """`insight`: the run's probe.analyse.insight.Insight, finished (not imported: the report's header imports this
    module, and the insight's imports would stack under it)."""
    agents = insight.finished or []
    names = {agent.id: agent.name for agent in agents}
    rows = [row(agent.id, fill, insight, names) for agent in agents for fill in insight.windows.of_agent(agent.id)]
    if not rows:
        return []
    lines = ["", "### Window", "",
             "Each agent's context window on each of its models, the share of it its input took at its fullest turn "
             "and at its last, and what was left at its last; a sub-agent is measured against its own model's "
             "window. Compactions: the share at the agent's last turn before → at its first turn after.", "",
             md.table(["agent", "model", "window", "source", "effective", "peak", "at the end", "left at the end",
                       "compactions"], rows[:ROWS_SHOWN])]  # fmt: skip
    if len(rows) > ROWS_SHOWN:
        lines.append(f"\n… and {len(rows) - ROWS_SHOWN:,} more rows: see insight.jsonl.")
    found = insight.compactions.found
    if found:
        lines += ["", "Compactions:", ""] + [compaction_line(each, names) for each in found[:ROWS_SHOWN]]
        if len(found) > ROWS_SHOWN:
            lines.append(f"- … and {len(found) - ROWS_SHOWN:,} more: see insight.jsonl.")
    if insight.compactions.left_out:
        lines.append(f"\nCompactions were looked for over the run's first {TURNS_KEPT:,} turns, not the "
                     f"{insight.compactions.left_out:,} after them.")  # fmt: skip
    findings = insight.windows.findings.values()
    if findings:
        lines += ["", "Where a table's window was wrong for this run:", ""]
        lines += [md.Markdown("- {}: {} input tokens seen, past {}'s {}: the window is taken as what was seen").format(
            md.inline(finding["model"]), md.text(f"{finding['seen']:,}"), md.text(finding["source"]),
            md.text(f"{finding['window']:,}")) for finding in findings]  # fmt: skip
    return lines


def who(agent: str, names: dict[str, str]) -> md.Markdown:
    """An agent by its name, and its id where that differs (sub-agents share a name)."""
    name = names.get(agent, agent)
    return md.inline(name) if name == agent else md.Markdown("{} {}").format(md.inline(name), md.inline(agent))


def row(agent: str, fill: Fill, insight: Any, names: dict[str, str]) -> list:
    window = fill.window
    tokens = window.tokens if window is not None else None
    compactions = [each for each in insight.compactions.of_agent(agent) if each.model == fill.model]
    return [
        who(agent, names),
        md.inline(fill.model),
        UNKNOWN if tokens is None else f"{tokens:,}",
        md.text(window.source if tokens is not None else window.note or "") if window is not None else "",
        "" if window is None or window.effective is None else f"{window.effective:,}",
        peak(fill, tokens),
        at(fill.last_share, fill.last_turn),
        left(tokens, fill.last_input),
        ", ".join(f"{percent(each.before and each.before.share)} → {percent(each.after and each.after.share)}"
                  for each in compactions),
    ]  # fmt: skip


def compaction_line(each: Compaction, names: dict[str, str]) -> md.Markdown:
    """`- `main` on `claude-x`, summed up by #4 (found by …): 184,000 tokens (92.0%) at #3 → 20,000 (10.0%) at #5`."""
    request = f", summed up by #{each.request}" if each.request is not None else ""
    return md.Markdown("- {} on {}{} (found by {}): {} → {}").format(
        who(each.agent, names), md.inline(each.model), md.text(request),
        md.Markdown("; ".join(each.found_by)),  # (our words only)
        md.text(side(each.before, "no turn before")), md.text(side(each.after, "no turn after")),
    )  # fmt: skip


def side(seen, missing: str) -> str:
    if seen is None:
        return missing
    tokens = "input not reported" if seen.input is None else f"{seen.input:,} tokens"
    return f"{tokens} ({percent(seen.share)}) at #{seen.number}"


def peak(fill: Fill, tokens: int | None) -> str:
    """The peak share, and the window it was measured against where that is not the window shown (the agent's last)."""
    measured = fill.peak_window.tokens if fill.peak_window is not None else None
    shown = at(fill.peak_share, fill.peak_turn)
    return shown if measured is None or measured == tokens else f"{shown} of {measured:,}"


def at(share: float | None, number: int | None) -> str:
    return "unknown" if share is None else f"{percent(share)} (#{number})"


def left(tokens: int | None, last_input: int | None) -> str:
    if tokens is None or last_input is None:
        return "unknown"
    return f"{tokens - last_input:,} ({percent((tokens - last_input) / tokens)})"


def percent(share: float | None) -> str:
    return "share unknown" if share is None else f"{share:.1%}"
