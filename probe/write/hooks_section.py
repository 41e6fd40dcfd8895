"""The report's section "Hooks": the agent's hook events the run's recorder kept (hooks.jsonl), per event how many
and how long they held the agent, and each one with its tool, the model's tool call it joined, its turn and where
it ran. It reads a probe.analyse.hooks.HooksJoin, not imported, so that the report's header stays shallow."""

from typing import Any

from probe.common import markdown as md
from probe.common.counting import counted

TITLE = "Hooks"
ROWS_SHOWN = 200  # events listed one by one; the rest are counted


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} s"


def hooks_section(joined: Any) -> list[md.Markdown]:
    """The section's lines; none for a run that recorded no hooks."""
    if joined is None:
        return []
    events = joined.events
    lines = [
        "",
        f"## {TITLE}",
        "",
        md.Markdown(
            "{} hook events recorded by the run's own hook (hooks.jsonl); {} of {} tool events joined to the model's "
            "tool call by its id. The agent starts every hook of an event at once and the end of none is seen: an "
            "event holds the agent until its next step (its next event, its next request, or its tool's start), "
            "which is the most its hooks took, the agent's own work in between included."
        ).format(len(events), joined.joined, joined.tool_events),
    ]
    if joined.recording.left_out:
        lines += ["", md.Markdown("{} not read (past the first {}).").format(
            counted(joined.recording.left_out, "more event"), len(events)
        )]  # fmt: skip
    for note in joined.recording.notes:
        lines += ["", md.text(f"Note: {note}")]
    if not events:
        return lines
    rows = [
        [md.inline(name), totals.count, seconds(totals.held), seconds(totals.longest),
         md.Markdown(", ".join(md.inline(tool) for tool in sorted(totals.tools)) or "—")]
        for name, totals in joined.totals.items()
    ]  # fmt: skip
    lines += ["", md.table(["event", "count", "held the agent (in all)", "longest", "tools"], rows)]
    first = events[0].hook.t
    rows = [
        [index, f"+{event.hook.t - first:.3f} s", md.inline(event.hook.event), code_or_dash(event.hook.tool),
         code_or_dash(event.hook.tool_use_id) if event.joined or not event.hook.tool_use_id
         else md.Markdown("{} (not in any answer)").format(md.inline(event.hook.tool_use_id)),
         "—" if event.turn is None else event.turn, seconds(event.held), code_or_dash(event.next_step),
         code_or_dash(event.hook.agent_id), code_or_dash(event.hook.cwd)]
        for index, event in enumerate(events[:ROWS_SHOWN], 1)
    ]  # fmt: skip
    headers = ["#", "at", "event", "tool", "tool call", "turn", "held", "until", "sub-agent", "ran in"]
    lines += ["", "### Each event", "", md.table(headers, rows)]
    if len(events) > ROWS_SHOWN:
        lines += ["", md.Markdown("{} not listed.").format(counted(len(events) - ROWS_SHOWN, "more event"))]
    return lines


def hooks_facts(joined: Any, mask) -> list[tuple[str, str]]:
    """The viewer's Run panel: the events, the tool events joined, and each event's time holding the agent; none
    for a run without hooks. (The timeline does not draw them.)"""
    if joined is None:
        return []
    held = [f"{name} ×{totals.count} {seconds(totals.held)}" for name, totals in joined.totals.items() if totals.held]
    said = (
        f"{counted(len(joined.events), 'event')}, {joined.joined} of {counted(joined.tool_events, 'tool event')} joined"
    )
    return [("Hooks", mask(said + (f"; held the agent: {', '.join(held)}" if held else "")))]


def code_or_dash(value: str | None) -> md.Markdown | str:
    return md.inline(value) if value else "—"
