"""The report's Time section: where the wall time went, for the run and for each agent in tree order, and the critical
path, the chain of intervals that set the end time (from insight.jsonl's `span` and `time` records)."""

from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.tree import depth_first
from probe.write.time_parts import LABELS, OVERLAPS, PARTS, parts_of, percents, said, seconds, tenths

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
    lines.append(
        md.Markdown("Wall time {}, from the first request to the last answer, by part. {}; on the run's row, the "
                    "time a sub-agent ran while the main agent did nothing else counts as sub-agents (the agents' "
                    "rows break it down).{}").format(
            said(round(seconds(run.get("wall_s")) * 10)), md.Markdown(OVERLAPS),
            md.Markdown(" No time went to: {}.").format(", ".join(left_out)) if left_out else md.Markdown(""),
        )
    )  # fmt: skip
    table = [time_row(row, columns) for row in rows]
    headers = ["", "wall", *(LABELS[part] for part in columns), "tools by tool"]
    lines += ["", md.table(headers, table)]
    return lines + critical_path(run, spans, {record.get("agent"): record for record in agents})


def tree_order(agents: list[dict]) -> list[dict]:
    """The agents' records, parents before their children (siblings in the order given), each with its depth; a
    record whose parent is not among them is shown at the top level, and none twice, whatever the parents say."""
    walk = depth_first([record.get("agent") for record in agents], [record.get("parent") for record in agents])
    return [{**agents[index], "depth": depth} for index, depth in walk]


def time_row(record: dict, columns: list[str]) -> list:
    parts = parts_of(record)
    wall = seconds(record.get("wall_s"))
    shown, total = tenths([parts[part] for part in PARTS], wall)
    shares = percents(shown)
    cells = {part: f"{said(value)} ({share}%)" if value else "" for part, value, share in zip(PARTS, shown, shares)}
    if record.get("agent") is None:
        name = md.strong("run")
    else:
        depth = record["depth"]
        name = md.Markdown(md.TREE_INDENT * depth + ("└ " if depth else "") + "{}").format(
            md.inline(str(record.get("name")))
        )
    return [name, said(total), *(cells[part] for part in columns), by_tool(record)]


def by_tool(record: dict) -> md.Markdown:
    """`Bash` 18.0 s, `Read` 2.1 s, … 2 more: the row's tools part by tool, the longest first."""
    tools = record.get("tools") if isinstance(record.get("tools"), dict) else {}
    timed = sorted(((seconds(value), str(name)) for name, value in tools.items() if seconds(value)), reverse=True)
    named = [md.Markdown("{} {}").format(md.inline(name), f"{value:,.1f} s" if value >= 0.05 else "< 0.1 s")
             for value, name in timed[:TOOLS_NAMED]]  # fmt: skip
    more = [md.Markdown("… {} more").format(len(timed) - TOOLS_NAMED)] if len(timed) > TOOLS_NAMED else []
    return md.Markdown(", ").join(named + more)


def critical_path(run: dict, spans: dict, agents: dict) -> list[str]:
    """The chain of intervals that set the end time, first to last (the ends of a long one), and its time by part."""
    path = [spans[span_id] for span_id in run.get("critical_path") or [] if span_id in spans]
    if not path:
        return ["", "No critical path: no interval set the end time."]
    by_part = parts_of({"parts": run.get("critical_s")})
    total = sum(by_part.values())
    shown, _ = tenths([by_part[part] for part in PARTS], total)
    pieces = [md.Markdown("{} {} ({}%)").format(LABELS[part], said(value), share)
              for part, value, share in sorted(zip(PARTS, shown, percents(shown)), key=lambda item: -item[1])
              if value]  # fmt: skip
    lines = [
        "",
        md.Markdown("Critical path: {}, {}, the chain of intervals that set the end time: {}.").format(
            counted(len(path), "interval"), said(round(total * 10)), md.Markdown(", ").join(pieces) or "no time"
        ),
        "",
    ]  # fmt: skip
    rows = [step_row(number, span, agents) for number, span in enumerate(path, 1)]
    if len(rows) > 2 * PATH_ENDS + 1:
        between = path[PATH_ENDS:-PATH_ENDS]
        gap = sum(seconds(span.get("duration_ms")) for span in between) / 1000
        more = md.Markdown("… {} more").format(len(between))
        rows = [*rows[:PATH_ENDS], ["", more, "", "", f"{gap:,.1f} s", ""], *rows[-PATH_ENDS:]]
    return lines + [md.table(["step", "agent", "kind", "name", "duration", "exchanges"], rows)]


def step_row(number: int, span: dict, agents: dict) -> list:
    agent = agents.get(span.get("agent"), {}).get("name", span.get("agent"))
    exchanges = span.get("exchanges") if isinstance(span.get("exchanges"), list) else []
    turns = ", ".join(f"#{exchange}" for exchange in dict.fromkeys(exchanges) if type(exchange) is int)
    name = md.inline(str(span.get("name"))) if span.get("name") is not None else ""
    flags = [word for word, key in (("open", "open"), ("cache break", "cache_break"), ("compaction", "compaction"))
             if span.get(key) is True]  # fmt: skip
    kind = md.Markdown("{}{}").format(md.text(str(span.get("kind"))), f" ({', '.join(flags)})" if flags else "")
    return [number, md.inline(str(agent)), kind, name, f"{seconds(span.get('duration_ms')) / 1000:,.1f} s", turns]
