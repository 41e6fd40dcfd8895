"""The report's Time section: where the wall time went, for the run and for each agent in tree order, and the critical
path, the chain of intervals that set the end time (from insight.jsonl's `span` and `time` records)."""

from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.tree import depth_first
from probe.write.time_parts import (
    LABELS,
    OVERLAPS,
    PARTS,
    decimals,
    in_units,
    parts_of,
    percents,
    said,
    said_part,
    seconds,
)

TOOLS_NAMED = 3  # tools named in a row's `tools by tool`; the rest are counted
PATH_ENDS = 5  # intervals of a long critical path shown at each end; those between are counted


def time_section(records: list[dict]) -> list[str]:
    lines = ["", "## Time", ""]
    spans = {record.get("id"): record for record in records if record.get("record") == "span"}
    times = [record for record in records if record.get("record") == "time"]
    run = next((record for record in times if record.get("agent") is None), None)
    if run is None or not spans:
        return lines + ["No exchange was timed: there is no time to split."]
    agents = tree_order([record for record in times if record.get("agent") is not None])
    rows = [run, *agents]
    shown = {part for row in rows for part, value in parts_of(row).items() if value}
    # The columns in the order of the run's widest part first; a part no row has is left out, and said so.
    columns = sorted(shown, key=lambda part: (-parts_of(run)[part], PARTS.index(part)))
    left_out = [LABELS[part] for part in PARTS if part not in shown]
    digits = decimals(seconds(run.get("wall_s")))  # one unit for the whole section, the run's
    lines.append(
        md.Markdown("Wall time {}, from the first request to the last answer, by part. {}; on the run's row, the "
                    "time a sub-agent ran while the main agent did nothing else counts as sub-agents (the agents' "
                    "rows break it down).{}").format(
            said(round(seconds(run.get("wall_s")) * 10**digits), digits), md.Markdown(OVERLAPS),
            md.Markdown(" No time went to: {}.").format(", ".join(left_out)) if left_out else md.Markdown(""),
        )
    )  # fmt: skip
    table = [time_row(row, columns, digits) for row in rows]
    headers = ["", "wall", *(LABELS[part] for part in columns), "tools by tool"]
    lines += ["", md.table(headers, table)]
    return lines + critical_path(run, spans, {record.get("agent"): record for record in agents}, digits)


def tree_order(agents: list[dict]) -> list[dict]:
    """The agents' records, parents before their children (siblings in the order given), each with its depth; a
    record whose parent is not among them is shown at the top level, and none twice, whatever the parents say."""
    walk = depth_first([record.get("agent") for record in agents], [record.get("parent") for record in agents])
    return [{**agents[index], "depth": depth} for index, depth in walk]


def time_row(record: dict, columns: list[str], digits: int) -> list:
    parts = parts_of(record)
    wall = seconds(record.get("wall_s"))
    shown, total = in_units([parts[part] for part in PARTS], wall, digits)
    shares = percents(shown)
    cells = {part: said_part(value, parts[part], digits, share)
             for part, value, share in zip(PARTS, shown, shares, strict=True)}  # fmt: skip
    if record.get("agent") is None:
        name = md.strong("run")
    else:
        depth = record["depth"]
        name = md.Markdown(md.TREE_INDENT * depth + ("└ " if depth else "") + "{}").format(
            md.inline(str(record.get("name")))
        )
    return [name, said(total, digits), *(cells[part] for part in columns), by_tool(record, digits)]


def by_tool(record: dict, digits: int) -> md.Markdown:
    """`Bash` 18.0 s, `Read` 2.1 s, … 2 more: the row's tools part by tool, the longest first."""
    tools = record.get("tools") if isinstance(record.get("tools"), dict) else {}
    timed = sorted(((seconds(value), str(name)) for name, value in tools.items() if seconds(value)), reverse=True)
    named = [md.Markdown("{} {}").format(md.inline(name), said_part(round(value * 10**digits), value, digits))
             for value, name in timed[:TOOLS_NAMED]]  # fmt: skip
    more = [md.Markdown("… {} more").format(len(timed) - TOOLS_NAMED)] if len(timed) > TOOLS_NAMED else []
    return md.Markdown(", ").join(named + more)


def critical_path(run: dict, spans: dict, agents: dict, digits: int) -> list[str]:
    """The chain of intervals that set the end time, first to last (the ends of a long one), and its time by part;
    each step's duration is the stretch of the run it stands for, so the steps tile the run, and every figure is
    rounded so that those shown add up to the total shown."""
    ids = run.get("critical_path") or []
    path = [spans[span_id] for span_id in ids if span_id in spans]
    if not path:
        return ["", "No critical path: no interval set the end time."]
    by_part = parts_of({"parts": run.get("critical_s")})
    steps = step_seconds(run, ids, path)
    total = sum(steps) if len(steps) == len(path) else sum(by_part.values())
    shown, total_shown = in_units([by_part[part] for part in PARTS], total, digits)
    widest = sorted(zip(PARTS, shown, percents(shown), strict=True), key=lambda item: -item[1])
    pieces = [md.Markdown("{} {}").format(LABELS[part], said_part(value, by_part[part], digits, share))
              for part, value, share in widest if by_part[part]]  # fmt: skip
    lines = [
        "",
        md.Markdown("Critical path: {}, {}, the chain of intervals that set the end time: {}.").format(
            counted(len(path), "interval"), said(total_shown, digits), md.Markdown(", ").join(pieces) or "no time"
        ),
        "",
    ]  # fmt: skip
    durations, _ = in_units(steps, total, digits)
    rows = [step_row(number, span, agents, said_part(shown_s, exact, digits))
            for number, (span, shown_s, exact) in enumerate(zip(path, durations, steps, strict=True), 1)]  # fmt: skip
    if len(rows) > 2 * PATH_ENDS + 1:
        between = durations[PATH_ENDS:-PATH_ENDS]
        more = md.Markdown("… {} more").format(len(between))
        rows = [*rows[:PATH_ENDS], ["", more, "", "", said(sum(between), digits), ""], *rows[-PATH_ENDS:]]
    return lines + [md.table(["step", "agent", "kind", "name", "duration", "exchanges"], rows)]


def step_seconds(run: dict, ids: list, path: list[dict]) -> list[float]:
    """Each step's seconds: the stretch of the run it stands for (the run record's `critical_steps_s`), or where
    the record has none (one written before they were), its interval's duration."""
    steps = run.get("critical_steps_s")
    if isinstance(steps, list) and len(steps) == len(ids) == len(path):
        return [seconds(value) for value in steps]
    return [seconds(span.get("duration_ms")) / 1000 for span in path]


def step_row(number: int, span: dict, agents: dict, duration: str) -> list:
    agent = agents.get(span.get("agent"), {}).get("name", span.get("agent"))
    exchanges = span.get("exchanges") if isinstance(span.get("exchanges"), list) else []
    turns = ", ".join(f"#{exchange}" for exchange in dict.fromkeys(exchanges) if type(exchange) is int)
    name = md.inline(str(span.get("name"))) if span.get("name") is not None else ""
    flags = [word for word, key in (("open", "open"), ("cache break", "cache_break"), ("compaction", "compaction"))
             if span.get(key) is True]  # fmt: skip
    kind = md.Markdown("{}{}").format(md.text(str(span.get("kind"))), f" ({', '.join(flags)})" if flags else "")
    return [number, md.inline(str(agent)), kind, name, duration, turns]
