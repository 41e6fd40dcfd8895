"""The sections of a diff of two runs: summary, endpoints, request shape, headers, instructions, tools, usage,
sizes, turns and timings."""

import json
from typing import Any

from probe.analyse.block_pairs import block_name, match_blocks
from probe.analyse.run_facts import TOKEN_KINDS, RunSummary, ToolKey
from probe.common import markdown as md
from probe.common.counting import counted
from probe.write.diff_numbers import ABSENT, delta, number, numbers_table
from probe.write.text_diff import text_diff
from probe.write.value_diff import cut, leaf, set_changes, shown_changes

LONG_LIST = 20  # entries shown open; a longer list is collapsed


def aligned(a: RunSummary, b: RunSummary):
    """The model turns of both runs paired by their order: (number from 1, A's or None, B's or None)."""
    for index in range(max(len(a.turns), len(b.turns))):
        yield (
            index + 1,
            a.turns[index] if index < len(a.turns) else None,
            b.turns[index] if index < len(b.turns) else None,
        )


def summary_section(a: RunSummary, b: RunSummary) -> list:
    rows = [
        ["agent", md.inline(a.agent or "?"), md.inline(b.agent or "?"), ""],
        ["target", md.inline(a.target or "?"), md.inline(b.target or "?"), ""],
        ["API", apis(a), apis(b), ""],
        ["models", models(a), models(b), ""],
    ]
    counts = [("exchanges", a.exchanges, b.exchanges), ("model turns", len(a.turns), len(b.turns))]
    if all(row[1] == row[2] for row in rows) and all(old == new for _, old, new in counts):
        return []
    rows += [[name, number(old), number(new), delta(old, new)] for name, old, new in counts]
    return [md.Markdown("## Summary"), "", md.table(["", "A", "B", "change"], rows), ""]


def apis(run: RunSummary) -> md.Markdown:
    return md.Markdown(", ").join(map(md.inline, sorted(run.apis))) or md.Markdown("none")


def models(run: RunSummary) -> md.Markdown:
    return md.Markdown(", ").join(
        md.Markdown("{} ×{}").format(md.inline(name), count) for name, count in sorted(run.models.items())
    ) or md.Markdown("none")


def endpoints_section(a: RunSummary, b: RunSummary) -> list:
    only_a = sorted(set(a.endpoints) - set(b.endpoints))
    only_b = sorted(set(b.endpoints) - set(a.endpoints))
    changed = sorted(name for name in set(a.endpoints) & set(b.endpoints) if a.endpoints[name] != b.endpoints[name])
    if not (only_a or only_b or changed):
        return []
    lines = [md.Markdown("## Endpoints"), ""]
    lines += [md.Markdown("- Only in A: {} ×{}").format(md.inline(name), a.endpoints[name]) for name in only_a]
    lines += [md.Markdown("- Only in B: {} ×{}").format(md.inline(name), b.endpoints[name]) for name in only_b]
    lines += [
        md.Markdown("- {}: {} → {}").format(md.inline(name), a.endpoints[name], b.endpoints[name]) for name in changed
    ]
    return lines + [""]


def shape_section(a: RunSummary, b: RunSummary) -> list:
    lines = []
    rows = []
    for key in sorted(set(a.config) | set(b.config)):
        old, new = a.config.get(key), b.config.get(key)
        if old == new:
            continue
        if old and new and len(old) == len(new) == 1:  # one value each: show the fields that differ
            rows += [
                [md.inline(f"{key}.{path}" if path else key), before, after]
                for path, before, after in shown_changes(json.loads(*old), json.loads(*new), cells=True)
            ]
        elif old and new and (changes := set_changes(old, new)) is not None:  # values holding JSON: path by path
            rows += [[md.inline(f"{key}.{path}" if path else key), before, after] for path, before, after in changes]
        else:
            rows.append([md.inline(key), values(old), values(new)])
    if rows:
        lines += [md.Markdown("### Config"), "", md.table(["key", "A", "B"], rows), ""]
    for title, only_a, only_b in (
        ("Fields", a.key_paths - b.key_paths, b.key_paths - a.key_paths),
        ("Event, item and part types", a.kinds - b.kinds, b.kinds - a.kinds),
    ):
        if only_a or only_b:
            lines += [md.Markdown("### {} in one run only").format(title), ""]
            listed = [md.Markdown("- Only in A: {}").format(md.inline(name)) for name in sorted(only_a)]
            listed += [md.Markdown("- Only in B: {}").format(md.inline(name)) for name in sorted(only_b)]
            if len(listed) > LONG_LIST:  # two different APIs differ in every field: collapsed, and counted
                listed = [
                    md.details(f"{len(only_a)} only in A, {len(only_b)} only in B", md.Markdown("\n").join(listed))
                ]
            lines += listed + [""]
    return [md.Markdown("## Request shape"), "", *lines] if lines else []


def values(found: set | None) -> md.Markdown:
    if not found:
        return md.Markdown("(not sent)")
    return md.Markdown("; ").join(md.inline(cut(value)) for value in sorted(found))


def headers_section(a: RunSummary, b: RunSummary) -> list:
    only_a = sorted(set(a.headers) - set(b.headers))
    only_b = sorted(set(b.headers) - set(a.headers))
    rows = []
    for name in sorted(set(a.headers) & set(b.headers)):
        old, new = a.headers[name], b.headers[name]
        if old == new:
            continue
        changes = set_changes(old, new)  # a header holding JSON (codex's turn metadata): the paths that changed
        if changes is None:
            rows.append([md.inline(name), values(old), values(new)])
        else:
            rows += [[md.inline(f"{name}: {path}"), before, after] for path, before, after in changes]
    if not (only_a or only_b or rows):
        return []
    lines = [md.Markdown("## Headers"), ""]
    lines += [md.Markdown("- Only in A: {}").format(md.inline(name)) for name in only_a]
    lines += [md.Markdown("- Only in B: {}").format(md.inline(name)) for name in only_b]
    if rows:
        lines += ["", md.table(["header", "A", "B"], rows)]
    return lines + [""]


WORD_DIFF_LEGEND = md.Markdown("Words removed are marked `[-so-]`, words added `{+so+}`; `…` cuts what is unchanged.")


def instructions_section(a: RunSummary, b: RunSummary) -> list:
    pairs, only_a, only_b = match_blocks(list(a.instructions.values()), list(b.instructions.values()))
    lines = []
    for old, new, ratio in pairs:
        if old.text == new.text:
            continue
        summary = f"{block_name(new)} changed ({ratio:.0%} alike)"
        lines += [md.details(summary, md.code(text_diff(old.text, new.text, context=2))), ""]
    for side, blocks in (("A", only_a), ("B", only_b)):
        lines += [
            md.Markdown("- Only in {}: {}: {}").format(side, block_name(block), md.first_line(block.text, 100))
            for block in blocks
        ]
    if not lines:
        return []
    if lines[-1] != "":
        lines.append("")
    return [md.Markdown("## Instructions"), "", *([WORD_DIFF_LEGEND, ""] if pairs else []), *lines]


def tools_section(a: RunSummary, b: RunSummary) -> list:
    only_a = sorted(set(a.tools) - set(b.tools), key=ToolKey.order)
    only_b = sorted(set(b.tools) - set(a.tools), key=ToolKey.order)
    both = sorted(set(a.tools) & set(b.tools), key=ToolKey.order)
    changed = []
    for key in both:
        old, new = a.tools[key], b.tools[key]  # compared by their content once normalised, not by the hash as sent
        rows = [["type", leaf(old.type), leaf(new.type)]] if old.type != new.type else []
        rows += shown_changes(old.metadata, new.metadata, cells=True)
        schema = shown_changes(old.schema, new.schema, cells=True)
        if old.description != new.description or schema or rows:
            changed.append((key, old, new, schema, rows))
    if not (only_a or only_b or changed):
        return []
    lines = [md.Markdown("## Tools"), ""]
    for side, keys in (("A", only_a), ("B", only_b)):
        if keys:
            lines.append(md.Markdown("- Only in {}: {}").format(side, md.Markdown(", ").join(map(tool_name, keys))))
    if only_a or only_b:
        lines.append("")
    if any(old.description != new.description for _, old, new, _, _ in changed):
        lines += [WORD_DIFF_LEGEND, ""]
    for key, old, new, schema, rows in changed:
        lines += [md.Markdown("### Changed: {}").format(tool_name(key)), ""]
        if old.description != new.description:
            lines += [
                md.Markdown("Description:"),
                "",
                md.code(text_diff(old.description, new.description, context=1)),
                "",
            ]
        if schema:
            lines += [
                md.Markdown("Schema:"),
                "",
                md.table(["path", "A", "B"], [[md.inline(path or "(root)"), *sides] for path, *sides in schema]),
                "",
            ]
        if rows:
            lines += [
                md.Markdown("Other fields:"),
                "",
                md.table(["field", "A", "B"], [[md.inline(path), *sides] for path, *sides in rows]),
                "",
            ]
    return lines


def tool_name(key: ToolKey) -> md.Markdown:
    """A tool as `namespace.name`, and a namespace's own entry as `` `name` (namespace) ``."""
    if key.is_namespace:
        return md.Markdown("{} (namespace)").format(md.inline(key.name))
    return md.inline(f"{key.namespace}.{key.name}" if key.namespace else key.name)


def usage_section(a: RunSummary, b: RunSummary) -> list:
    """Tokens by kind, summed over the model turns that reported them (a count not sent is not zero)."""
    rows = [
        [f"{kind} tokens", usage_total(a, kind), usage_total(b, kind), usage_change(a, b, kind)] for kind in TOKEN_KINDS
    ]
    if all(usage_of(a, kind) == usage_of(b, kind) for kind in TOKEN_KINDS):
        return []
    return [
        md.Markdown("## Usage"),
        "",
        md.Markdown(
            "Tokens as the API reported them, summed over the model turns that reported them; {} where none did."
        ).format(md.Markdown(ABSENT)),
        "",
        md.table(["", "A", "B", "change"], rows),
        "",
    ]


def usage_of(run: RunSummary, kind: str) -> tuple[int, int]:
    return run.tokens.get(kind, 0), run.token_turns.get(kind, 0)


def usage_total(run: RunSummary, kind: str) -> str:
    total, covered = usage_of(run, kind)
    if not covered:
        return ABSENT
    return f"{total:,}" if covered == len(run.turns) else f"{total:,} ({covered} of {counted(len(run.turns), 'turn')})"


def usage_change(a: RunSummary, b: RunSummary, kind: str) -> str:
    """The change, only between two sums that cover every turn of their run."""
    if any(usage_of(run, kind)[1] != len(run.turns) or not run.turns for run in (a, b)):
        return ""
    return delta(a.tokens[kind], b.tokens[kind])


def sizes_section(a: RunSummary, b: RunSummary) -> list:
    rows = [("bytes sent", a.sent, b.sent), ("bytes received", a.received, b.received)]
    if all(old == new for _, old, new in rows):
        return []
    return [md.Markdown("## Sizes"), "", numbers_table("", rows), ""]


def turns_section(a: RunSummary, b: RunSummary) -> list:
    rows = []
    for turn_number, old, new in aligned(a, b):
        cells = [turn_number]
        for kind in ("input", "output"):
            cells += pair(old.tokens.get(kind) if old else None, new.tokens.get(kind) if new else None)
        cells += pair(old.request_bytes if old else None, new.request_bytes if new else None)
        cells += pair(old.response_bytes if old else None, new.response_bytes if new else None)
        if old is None or new is None or any(cells[position] != cells[position + 1] for position in (1, 4, 7, 10)):
            rows.append(cells)
    if not rows:
        return []
    headers = ["turn"]
    for name in ("input", "output", "sent", "received"):
        headers += [f"{name} A", f"{name} B", "change"]
    return [
        md.Markdown("## Turns"),
        "",
        md.Markdown(
            "Model turns, aligned by their order in each run: input and output tokens ({} where the API did not "
            "say), and bytes each way."
        ).format(md.Markdown(ABSENT)),
        "",
        md.table(headers, rows),
        "",
    ]


def pair(old: Any, new: Any) -> list[str]:
    return [number(old), number(new), delta(old, new)]


def timings_section(a: RunSummary, b: RunSummary) -> list:
    totals = [("duration s", a.duration, b.duration), ("median time to first byte ms", a.ttfb, b.ttfb)]
    rows = []
    for turn_number, old, new in aligned(a, b):
        cells = [turn_number, *pair(old.ttfb_ms if old else None, new.ttfb_ms if new else None)]
        cells += pair(old.duration_ms if old else None, new.duration_ms if new else None)
        if old is None or new is None or cells[1] != cells[2] or cells[4] != cells[5]:
            rows.append(cells)
    if all(old == new for _, old, new in totals) and not rows:
        return []
    lines = [md.Markdown("## Timings"), "", numbers_table("", totals), ""]
    if rows:
        headers = ["turn", "first byte ms A", "B", "change", "duration ms A", "B", "change"]
        lines += [md.Markdown("Per model turn:"), "", md.table(headers, rows), ""]
    return lines
