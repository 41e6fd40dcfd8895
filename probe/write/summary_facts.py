"""The run's answers in a few lines (what filled the context, what it cost, the prompt cache, the agents, the
tools), as pieces of text that each output shows its own way: our words as prose, captured text quoted."""

from dataclasses import dataclass

from probe.analyse.agents import Agent, depths
from probe.analyse.context import HISTORY, INSTRUCTIONS, TOOLS, ContextFilling
from probe.analyse.cost import Costs, dollars
from probe.analyse.insight import SCHEMA, Insight
from probe.analyse.prompt_cache import Cause
from probe.analyse.tool_fees import uses_text
from probe.write.time_parts import LABELS, PARTS, decimals, in_units, parts_of, percents, said, seconds
from probe.write.window_section import percent

AGENTS_NAMED = 4  # agents named in the summary; the report's Agents section lists them all
BREAKS_NAMED = 2
MODELS_NAMED = 3


@dataclass(frozen=True)
class Quoted:
    """Captured text (a tool's or an agent's name, a quote from the instructions): a code span in Markdown, plain
    text in the viewer, never markup anywhere."""

    text: str


Piece = str | Quoted
Fact = tuple[str, list[Piece]]  # a label, and the line's pieces


def summary_facts(insight: Insight) -> list[Fact]:
    return [
        context_fact(insight.context),
        window_fact(insight),
        cost_fact(insight.costs),
        cache_fact(insight),
        agents_fact(insight.finished or []),
        tools_fact(insight),
        time_fact(insight.time.records(SCHEMA)),
    ]


def plain(pieces: list[Piece]) -> str:
    return "".join(piece.text if isinstance(piece, Quoted) else piece for piece in pieces)


def s(count: int) -> str:
    return "s" if count != 1 else ""


def cause_pieces(cause: Cause) -> list[Piece]:
    """A cache break's cause: its template (our words) with the captured values quoted."""
    words = cause.template.split("{}")
    pieces: list[Piece] = []
    for index, word in enumerate(words):
        pieces.append(word)
        if index < len(cause.values):
            value = cause.values[index]
            pieces.append(str(value) if isinstance(value, int) else Quoted(str(value)))
    return pieces


def context_fact(filling: ContextFilling) -> Fact:
    """`largest input 13,464 tokens (#6); over the run: tools 59%, instructions 14%, history 27% (…)`."""
    if not filling.turns or not filling.sums:
        return "Context", ["no turn reported usage to split"]
    total = sum(filling.sums.values()) or 1
    by_kind = {kind: 0 for kind in (TOOLS, INSTRUCTIONS, HISTORY)}
    for (kind, _name, _new), tokens in filling.sums.items():
        by_kind[kind] = by_kind.get(kind, 0) + tokens
    carried = sum(tokens for (kind, _name, new), tokens in filling.sums.items() if kind == HISTORY and not new)
    pieces: list[Piece] = []
    if filling.largest is not None and filling.largest.scaled_to is not None:
        pieces.append(f"largest input {filling.largest.scaled_to:,} tokens (#{filling.largest.number}); ")
    shares = ", ".join(f"{kind} {tokens / total:.0%}" for kind, tokens in by_kind.items())
    pieces.append(f"over the run (estimated): {shares}, of which history carried from the turn before "
                  f"{carried / total:.0%}; largest part: ")  # fmt: skip
    (kind, name, _new), tokens = max(filling.sums.items(), key=lambda item: item[1])
    return "Context", [*pieces, f"{kind} ", Quoted(name), f" {tokens / total:.0%}"]


def window_fact(insight: Insight) -> Fact:
    """`peak 41.0% of 200,000 (genai-prices 0.0.61), compacted once at 92.3%; 118,000 tokens (59.0%) left at the
    end`: the main agent's main model, its shares as the Context section's window table gives them."""
    main = next((agent.id for agent in insight.finished or [] if agent.parent is None), None)
    fills = insight.windows.of_agent(main) if main is not None else []
    if not fills or fills[0].window is None:
        return "Window", ["no turn reported its input"]
    fill, window = fills[0], fills[0].window
    if window.tokens is None or fill.peak_share is None:
        return "Window", ["window unknown for ", Quoted(fill.model), f": {window.note}" if window.note else ""]
    measured = fill.peak_window or window  # (the window the peak was measured against: a later turn's may differ)
    pieces: list[Piece] = [f"peak {percent(fill.peak_share)} of {measured.tokens:,} (", measured.source, ")"]
    shares = [each.before.share if each.before else None
              for each in insight.compactions.of_agent(main) if each.model == fill.model]  # fmt: skip
    pieces.append(f", {compacted(shares)}")
    if fill.last_input is not None:
        headroom = window.tokens - fill.last_input
        pieces.append(f"; {headroom:,} tokens ({percent(headroom / window.tokens)}) left at the end")
    return "Window", pieces


def compacted(shares: list[float | None]) -> str:
    """`compacted once at 92.3%`, `compacted twice, at 92.3% and 88.0%`, `compacted 3 times, first at 92.3%`."""
    said = ["an unknown share" if share is None else percent(share) for share in shares]
    if not said:
        return "never compacted"
    if len(said) == 1:
        return f"compacted once at {said[0]}"
    if len(said) == 2:
        return f"compacted twice, at {said[0]} and {said[1]}"
    return f"compacted {len(said)} times, first at {said[0]}"


def cost_fact(costs: Costs) -> Fact:
    """`$0.1234 for 12 turns (3 left out: price unknown); claude-x $0.1000, …; prices genai-prices 0.2.3`."""
    run = costs.run
    if not run.priced and not run.unknown:
        return "Cost", ["no turn reported usage to price"]
    if not run.priced:
        pieces: list[Piece] = [f"unknown for all {run.unknown:,} turn{s(run.unknown)} with usage"]
    else:
        pieces = [f"{dollars(run.usd)} for {run.priced:,} turn{s(run.priced)}"]
        if run.unknown:
            pieces.append(f" ({run.unknown:,} more left out: price unknown)")
        if run.tool_uses_left_out:
            pieces.append(f" (leaves out {uses_text(run.tool_uses_left_out.items())}: no price)")
    priced = sorted(((spend.usd, model) for model, spend in costs.by_model.items() if spend.priced), reverse=True)
    for index, (usd, model) in enumerate(priced[:MODELS_NAMED]):
        pieces += ["; " if index == 0 else ", ", Quoted(model), f" {dollars(usd)}"]
    if costs.reasons:
        reason, _ = costs.reasons.most_common(1)[0]
        pieces += ["; " if run.priced else ": ", Quoted(reason)]
    pieces += ["; prices ", Quoted(costs.book.provenance())]
    return "Cost", pieces


def cache_fact(insight: Insight) -> Fact:
    total_input, total_cached, reporting = insight.cache.totals()
    if not reporting or not total_input:
        return "Prompt cache", ["no turn reported cached tokens"]
    breaks = insight.cache.breaks()
    pieces: list[Piece] = [
        f"{total_cached / total_input:.1%} of {total_input:,} input tokens read from the cache; "
        f"{len(breaks)} break{s(len(breaks))}"
    ]
    for index, turn in enumerate(breaks[:BREAKS_NAMED]):
        pieces += [" (" if index == 0 else "; ", f"cache break at #{turn.number}: ", *cause_pieces(turn.cause)]
    if breaks:
        pieces.append(f" and {len(breaks) - BREAKS_NAMED} more)" if len(breaks) > BREAKS_NAMED else ")")
    return "Prompt cache", pieces


def agents_fact(agents: list[Agent]) -> Fact:
    spawned = [agent for agent in agents if agent.parent is not None]
    if not spawned:
        return "Agents", ["one agent made every request"]
    depth = depths(agents)
    deepest = max(depth[agent.id] for agent in spawned)
    pieces: list[Piece] = [
        f"{len(agents)} ({len(spawned)} sub-agent{s(len(spawned))}, {deepest} level{s(deepest)} deep): "
    ]
    for index, agent in enumerate(agents[:AGENTS_NAMED]):
        pieces += [
            ", " if index else "",
            Quoted(agent.name),
            f" {len(agent.requests):,} request{s(len(agent.requests))}",
        ]
    if len(agents) > AGENTS_NAMED:
        pieces.append(f", and {len(agents) - AGENTS_NAMED} more")
    return "Agents", pieces


def tools_fact(insight: Insight) -> Fact:
    timeline = insight.tools
    if not timeline.calls:
        return "Tools", ["no tool call"]
    failed = sum(stats.failed for stats in timeline.tools.values())
    pieces: list[Piece] = [
        f"{timeline.calls:,} call{s(timeline.calls)} of {len(timeline.tools)} tool{s(len(timeline.tools))}, "
        f"{failed} failed"
    ]
    longest = timeline.longest()
    if longest:
        call = longest[0]
        pieces += [
            "; longest wait ",
            Quoted(call["tool"]),
            f" {call['wait_ms']:,.0f} ms (asked in #{call['asked_in']})",
        ]
    return "Tools", pieces


def time_fact(records: list[dict]) -> Fact:
    """`41.2 s: tools 49%, model streaming 24%, …; critical path 14 intervals`: the run's parts, the widest first."""
    run = next((record for record in records if record.get("record") == "time" and record.get("agent") is None), None)
    if run is None or not run.get("spans"):
        return "Time", ["no exchange was timed"]
    wall = seconds(run.get("wall_s"))
    digits = decimals(wall)  # (as the report's Time section shows it)
    shown, total = in_units(list(parts_of(run).values()), wall, digits)
    shares = sorted(zip(percents(shown), shown, PARTS), key=lambda item: (-item[1], PARTS.index(item[2])))
    parts = ", ".join(f"{LABELS[part]} {share}%" for share, value, part in shares if value)
    path = run.get("critical_path") or []
    return "Time", [f"{said(total, digits)}: {parts or 'no part'}; critical path {len(path):,} interval{s(len(path))}"]
