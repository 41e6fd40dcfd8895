"""The diff's Time section: the largest changes in where the time went, by part ("tools +41.0 s, mostly `Bash`"),
for the run and for each agent the two runs name alike (from each run's `time` records, docs/formats.md)."""

from probe.common import markdown as md
from probe.write.time_parts import LABELS, PARTS, parts_of, seconds, signed

CHANGES_SHOWN = 4  # changes named on an agent's line, the largest first


def time_section(a: list[dict] | None, b: list[dict] | None) -> list:
    """The section, or nothing when the time went alike; one line when a run has no time records to compare."""
    runs = [run_record(records) for records in (a, b)]
    if None in runs:
        missing = "runs A and B have" if runs == [None, None] else "run A has" if runs[0] is None else "run B has"
        return [md.Markdown("## Time"), "",
                md.Markdown("Time is not compared: {} no timed exchange in its insight (an older analysis, or "
                            "no exchange with its times).").format(md.Markdown(missing)), ""]  # fmt: skip
    old, new = runs
    changes = part_changes(old, new)
    pairs, only = matched_agents(a, b)
    by_agent = [(name, part_changes(first, second)) for name, first, second in pairs]
    # (a run of one agent on each side: its line would repeat the run's)
    several = len(pairs) > 1 or any(only)
    by_agent = [(name, found) for name, found in by_agent if found and several]
    walls = [shown(run.get("wall_s")) for run in runs]
    if not changes and not by_agent and not any(only) and walls[0] == walls[1]:
        return []
    lines = [md.Markdown("## Time"), "",
             md.Markdown("Wall time: A {:,.1f} s, B {:,.1f} s ({}). The largest changes by part, from A to B:").format(
                 walls[0] / 10, walls[1] / 10, signed((walls[1] - walls[0]) / 10)), ""]  # fmt: skip
    lines += [md.Markdown("- {}").format(change) for change in changes] or [
        md.Markdown("- no part changed by 0.1 s or more")
    ]
    if by_agent:
        lines += ["", md.Markdown("By agent, where both runs have an agent of that name:"), ""]
        lines += [md.Markdown("- {}: {}").format(md.inline(name), md.Markdown("; ").join(found[:CHANGES_SHOWN]))
                  for name, found in by_agent]  # fmt: skip
    for side, names in zip("AB", only):
        if names:
            lines += ["", md.Markdown("Agents only in {}: {}.").format(
                md.Markdown(side), md.Markdown(", ").join(md.inline(name) for name in names))]  # fmt: skip
    return lines + [""]


def run_record(records: list[dict] | None) -> dict | None:
    """The run's `time` record, if the run timed any exchange."""
    found = [record for record in records or [] if record.get("record") == "time" and record.get("agent") is None]
    return found[0] if found and found[0].get("spans") else None


def part_changes(old: dict, new: dict) -> list[md.Markdown]:
    """Each part that changed, the largest change first: "tools +41.0 s, mostly `Bash` (+38.2 s)"."""
    before, after = parts_of(old), parts_of(new)
    found = []
    for part in PARTS:
        change = shown(after[part]) - shown(before[part])
        if not change:
            continue
        tool = mostly(old, new, change) if part == "tools" else md.Markdown("")
        said = md.Markdown("{} {}{}").format(LABELS[part], signed(change / 10), tool)
        found.append((abs(change), PARTS.index(part), said))
    return [said for _, _, said in sorted(found, key=lambda item: (-item[0], item[1]))]


def mostly(old: dict, new: dict, change: float) -> md.Markdown:
    """The tool whose time changed most the same way as the tools part: "mostly" when it makes half the change."""
    tools = [record.get("tools") if isinstance(record.get("tools"), dict) else {} for record in (old, new)]
    changes = [(shown(tools[1].get(name)) - shown(tools[0].get(name)), str(name))
               for name in dict.fromkeys([*tools[0], *tools[1]])]  # fmt: skip
    same_way = [(tool_change, name) for tool_change, name in changes if tool_change * change > 0]
    if not same_way:
        return md.Markdown("")
    tool_change, name = max(same_way, key=lambda item: (abs(item[0]), item[1]))
    words = ", mostly {} ({})" if abs(tool_change) * 2 >= abs(change) else ", of which {} {}"
    return md.Markdown(words).format(md.inline(name), signed(tool_change / 10))


def shown(value) -> int:
    """A figure in seconds as the section shows it, in tenths: the changes are those of the figures shown."""
    return round(seconds(value) * 10)


def matched_agents(a: list[dict] | None, b: list[dict] | None) -> tuple[list, tuple[list, list]]:
    """The agents' `time` records paired by name (two of one name: in the order each run gives them), and the names
    only one run has."""
    sides = []
    for records in (a, b):
        named: dict[str, list[dict]] = {}
        for record in records or []:
            if record.get("record") == "time" and record.get("agent") is not None:
                named.setdefault(str(record.get("name")), []).append(record)
        sides.append(named)
    pairs = [(name, first, second) for name, records in sides[0].items()
             for first, second in zip(records, sides[1].get(name, []))]  # fmt: skip
    only = tuple([name for name, records in side.items() if len(records) > len(other.get(name, []))]
                 for side, other in ((sides[0], sides[1]), (sides[1], sides[0])))  # fmt: skip
    return pairs, only
