"""Compares two runs (two versions of one agent, or two agents) through the conversation model, as Markdown.

Structural changes come first, each section only when the runs differ in it: summary, endpoints, request shape,
headers, instructions and tools. What is measured rather than sent follows in sections of its own: usage and
sizes, per turn, and timings. Volatile values (ids, the agent's home, run and temp paths, timestamps) are
normalised first and counted. Two runs that speak different APIs compare the model only, unless --wire.
"""

import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

from probe.analyse.run_summary import TOKEN_KINDS, RunSummary, ToolKey, summarise
from probe.analyse.volatile import Volatile, run_places
from probe.common import cli
from probe.common import markdown as md
from probe.common.errors import RunError, run_main, warn
from probe.common.paths import display
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import private_replacement, read_manifest, resolve_run

SIMILAR = 0.5  # blocks at least this alike (difflib's ratio) are one block changed, not one removed and one added
REFUSED_OUTPUTS = ("traffic.jsonl", "manifest.json", "turns.jsonl")  # the capture, and the turns other tools read
LONG_LIST = 20  # entries shown open; a longer list is collapsed
ABSENT = "—"  # a count the API did not send: never shown as 0, never compared
MISSING = object()  # a JSON path one side does not have


def diff_runs(first: Path, second: Path, wire: bool = False) -> tuple[str, list[str]]:
    """The Markdown comparing two run folders, and the warnings met reading them. With `wire`, runs that speak
    different APIs are compared on the wire too (endpoints, request shape, headers)."""
    volatiles = [Volatile(run_places(run, read_manifest(run))) for run in (first, second)]
    a, b = (summarise(run, volatile) for run, volatile in zip((first, second), volatiles))
    apart = different_apis(a, b)
    with md.masked_by(mask_tokens_and_urls):
        structural = [("summary", summary_section(a, b))]
        if wire or not apart:
            structural += [
                ("endpoints", endpoints_section(a, b)),
                ("request shape", shape_section(a, b)),
                ("headers", headers_section(a, b)),
            ]
        structural += [("instructions", instructions_section(a, b)), ("tools", tools_section(a, b))]
        measured = [usage_section(a, b), sizes_section(a, b), turns_section(a, b), timings_section(a, b)]
        lines = [
            md.Markdown("# agent-probe diff"),
            "",
            md.Markdown("- A: {} ({})").format(md.inline(display(first)), describe(a)),
            md.Markdown("- B: {} ({})").format(md.inline(display(second)), describe(b)),
            md.Markdown(
                "- Ignored as volatile: {:,} values (ids, the agent's home, run and temp paths, timestamps)"
            ).format(sum(volatile.count for volatile in volatiles)),
            changes_line([name for name, section in structural if section], measured_differences(a, b)),
        ]
        if apart:
            lines.append(
                md.Markdown("- Different APIs: the wire (endpoints, request shape, headers) is {}").format(
                    md.Markdown("compared too (--wire)" if wire else "not compared (--wire compares it)")
                )
            )
        lines.append("")
        shown = [section for _, section in structural] + measured
        lines += [line for section in shown for line in section] or [md.Markdown("No differences."), ""]
    return "\n".join(lines), [f"{name}: {warning}" for name, run in (("A", a), ("B", b)) for warning in run.warnings]


def changes_line(structural: list[str], measured: list[str]) -> md.Markdown:
    """Whether anything structural changed (naming the sections), and what was measured differently."""
    if not measured:
        return md.Markdown("- Structural changes: {}").format(", ".join(structural) or "none")
    if not structural:
        return md.Markdown("- Structural changes: none; only {} differ").format(and_list(measured))
    return md.Markdown("- Structural changes: {} ({} differ too)").format(", ".join(structural), and_list(measured))


def measured_differences(a: RunSummary, b: RunSummary) -> list[str]:
    """Which measurements differ, in total or in some turn: usage (tokens), sizes (bytes), timings."""
    turns = list(aligned(a, b))

    def differ(total, per_turn) -> bool:
        return total(a) != total(b) or any(
            old is None or new is None or per_turn(old) != per_turn(new) for _, old, new in turns
        )

    found = {
        "usage": differ(lambda run: [usage_of(run, kind) for kind in TOKEN_KINDS], lambda turn: turn.tokens),
        "sizes": differ(lambda run: (run.sent, run.received), lambda turn: (turn.request_bytes, turn.response_bytes)),
        "timings": differ(lambda run: (run.duration, run.ttfb), lambda turn: (turn.ttfb_ms, turn.duration_ms)),
    }
    return [name for name, differs in found.items() if differs]


def aligned(a: RunSummary, b: RunSummary):
    """The model turns of both runs paired by their order: (number from 1, A's or None, B's or None)."""
    for index in range(max(len(a.turns), len(b.turns))):
        yield (
            index + 1,
            a.turns[index] if index < len(a.turns) else None,
            b.turns[index] if index < len(b.turns) else None,
        )


def and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def different_apis(a: RunSummary, b: RunSummary) -> bool:
    """Whether the runs speak different APIs: each has model APIs (the generic reader's aside), none in common."""
    return bool(a.apis and b.apis and not set(a.apis) & set(b.apis))


def describe(run: RunSummary) -> md.Markdown:
    api = md.Markdown(", API {}").format(apis(run)) if run.apis else md.Markdown("")
    return md.Markdown("target {}, agent {}{}").format(
        md.inline(run.target or "unknown"), md.inline(run.agent or "unknown"), api
    )


def number(value: Any) -> str:
    if value is None:
        return ABSENT
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def delta(old: Any, new: Any) -> str:
    """The change from one number to another; nothing when either is absent (a count not sent is not zero)."""
    if not md.is_number(old) or not md.is_number(new) or old == new:
        return ""
    change = new - old
    sign = "+" if change > 0 else ""
    return f"{sign}{number(change)}" + (f" ({sign}{change / old:.0%})" if old else "")


def numbers_table(first: str, rows: list[tuple[str, Any, Any]]) -> md.Markdown:
    return md.table(
        [first, "A", "B", "change"], [[name, number(old), number(new), delta(old, new)] for name, old, new in rows]
    )


# Structural sections -----------------------------------------------------------------------------


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
                for path, before, after in shown_changes(json.loads(*old), json.loads(*new))
            ]
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
    return md.Markdown("; ").join(md.inline(value) for value in sorted(found))


def headers_section(a: RunSummary, b: RunSummary) -> list:
    only_a = sorted(set(a.headers) - set(b.headers))
    only_b = sorted(set(b.headers) - set(a.headers))
    rows = [
        [md.inline(name), values(a.headers[name]), values(b.headers[name])]
        for name in sorted(set(a.headers) & set(b.headers))
        if a.headers[name] != b.headers[name]
    ]
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


def block_name(block) -> str:
    kind = block.metadata.get("kind") if isinstance(block.metadata, dict) else None
    return f"{block.role} block" + (f" {kind}" if kind else "")


def match_blocks(old: list, new: list) -> tuple[list, list, list]:
    """Pairs of blocks that are the same block in both runs: by role, and by content similarity rather than
    position (an agent may add a block in between). Returns (pairs with their ratio, only in A, only in B)."""
    pairs, left = [], list(new)
    for block in old:
        best, best_ratio = None, SIMILAR
        for candidate in left:
            if candidate.role != block.role:
                continue
            if candidate.text == block.text:
                best, best_ratio = candidate, 1.0
                break
            matcher = difflib.SequenceMatcher(None, block.text, candidate.text, autojunk=False)
            if matcher.real_quick_ratio() > best_ratio and matcher.quick_ratio() > best_ratio:
                ratio = matcher.ratio()
                if ratio > best_ratio:
                    best, best_ratio = candidate, ratio
        if best is None:
            continue
        pairs.append((block, best, best_ratio))
        left.remove(best)
    matched = {id(pair[0]) for pair in pairs}
    return pairs, [block for block in old if id(block) not in matched], left


def tools_section(a: RunSummary, b: RunSummary) -> list:
    only_a = sorted(set(a.tools) - set(b.tools), key=ToolKey.order)
    only_b = sorted(set(b.tools) - set(a.tools), key=ToolKey.order)
    both = sorted(set(a.tools) & set(b.tools), key=ToolKey.order)
    changed = []
    for key in both:
        old, new = a.tools[key], b.tools[key]  # compared by their content once normalised, not by the hash as sent
        rows = [["type", leaf(old.type), leaf(new.type)]] if old.type != new.type else []
        rows += shown_changes(old.metadata, new.metadata)
        schema = shown_changes(old.schema, new.schema)
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


# JSON values, compared by path --------------------------------------------------------------------


def value_changes(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """The paths where two JSON values differ, with each side's value there (MISSING where it has none). A string
    holding JSON (as agents send some metadata) is compared as that JSON. Objects are compared key by key and
    lists of objects or lists item by item; where the two sides are of different kinds (a string and a list, a
    number and an object), or are lists of plain values, one row holds each side whole."""
    found: list[tuple[str, Any, Any]] = []
    compare(unwrapped(old), unwrapped(new), "", found, 0)
    return found


def compare(old: Any, new: Any, path: str, found: list, depth: int) -> None:
    if depth < 20 and isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            compare(
                old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}" if path else str(key), found, depth + 1
            )
    elif depth < 20 and isinstance(old, list) and isinstance(new, list) and not (plain(old) and plain(new)):
        for index in range(max(len(old), len(new))):
            before = old[index] if index < len(old) else MISSING
            after = new[index] if index < len(new) else MISSING
            compare(before, after, f"{path}.{index}" if path else str(index), found, depth + 1)
    elif not same(old, new):
        found.append((path, old, new))


def plain(items: list) -> bool:
    return not any(isinstance(item, (dict, list)) for item in items)


def same(old: Any, new: Any) -> bool:
    """Equal as JSON: `true` is not `1`, as Python's == would have it."""
    if old is MISSING or new is MISSING:
        return old is new
    return (old == new and type(old) is type(new)) or (md.is_number(old) and md.is_number(new) and old == new)


def unwrapped(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "[") and depth < 4:
        try:
            return unwrapped(json.loads(value), depth + 1)
        except ValueError:
            return value
    if isinstance(value, dict) and depth < 4:
        return {key: unwrapped(item, depth + 1) for key, item in value.items()}
    return value


def shown_changes(old: Any, new: Any) -> list[list]:
    return [[path, leaf(before), leaf(after)] for path, before, after in value_changes(old, new)]


def leaf(value: Any) -> md.Markdown:
    if value is MISSING:
        return md.Markdown("(none)")
    return md.inline(json.dumps(value, ensure_ascii=False, default=str))


# Texts, compared word by word ---------------------------------------------------------------------

# A word, or one other character, with the spaces before it (so that a space never matches on its own), or the
# spaces that end a text.
TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")
MAX_WORD_PAIRS = 4_000_000  # tokens of one side × the other's: beyond, the lines are shown whole
CONTEXT = 40  # characters of an unchanged stretch kept on each side of a change


def text_diff(old: str, new: str, context: int) -> str:
    """The lines that differ, in hunks with `context` unchanged lines around them (as difflib's unified_diff
    groups them), each changed line marked at the words that changed, as `git diff --word-diff=plain` marks them:
    `[-removed-]{+added+}`. Long unchanged stretches are cut to their ends with an ellipsis."""
    a, b = old.splitlines(), new.splitlines()
    lines = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        lines.append(f"@@ -{line_range(i1, i2)} +{line_range(j1, j2)} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [shortened(line, "both") for line in a[i1:i2]]
            else:
                lines += word_diff(a[i1:i2], b[j1:j2])
    if not lines and old != new:
        return "(the same lines: the texts differ only in their line breaks)"
    return "\n".join(lines)


def line_range(start: int, end: int) -> str:
    """A hunk's lines as a unified diff names them: `first,count`, `first` for one line."""
    length = end - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def word_diff(old_lines: list[str], new_lines: list[str]) -> list[str]:
    """Lines replaced by others, marked at the words that changed."""
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    if not old_lines or not new_lines or len(a) * len(b) > MAX_WORD_PAIRS:
        return [f"[-{line}-]" for line in old_lines] + [f"{{+{line}+}}" for line in new_lines]
    pieces = []  # (kind, text): "=" unchanged, "-" removed, "+" added
    for tag, i1, i2, j1, j2 in merged(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), a, b):
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            pieces.append(("=", removed))
            continue
        # Spaces (or a line break) both sides start with are no change: outside the marks, as git shows them.
        lead = 0
        while lead < min(len(removed), len(added)) and removed[lead] == added[lead] and removed[lead].isspace():
            lead += 1
        pieces += [("=", removed[:lead]), ("-", removed[lead:]), ("+", added[lead:])]
    return [marked(line) for line in split_lines(pieces)]


def merged(opcodes: list, a: list[str], b: list[str]) -> list:
    """The opcodes with each unchanged stretch that is small beside the changes on either side of it (a quarter of
    the smaller one, on one line) made part of the change: a sentence rewritten reads as one change, not as a
    mosaic of the little words both versions keep."""
    result: list[tuple] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal" and 0 < index < len(opcodes) - 1:
            kept = "".join(a[i1:i2])
            around = min(change_size(result[-1], a, b), change_size(opcodes[index + 1], a, b))
            if "\n" not in kept and 4 * len(kept.strip()) < around:
                tag = "replace"
        if result and tag != "equal" and result[-1][0] != "equal":
            _, i1, _, j1, _ = result.pop()
            tag = "replace"
        result.append((tag, i1, i2, j1, j2))
    return result


def change_size(opcode: tuple, a: list[str], b: list[str]) -> int:
    _, i1, i2, j1, j2 = opcode
    return max(len("".join(a[i1:i2]).strip()), len("".join(b[j1:j2]).strip()))


def split_lines(pieces: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The pieces cut at line ends: a mark never spans two lines (each line's part is marked on its own)."""
    lines: list[list[tuple[str, str]]] = [[]]
    for kind, text in pieces:
        for position, part in enumerate(text.split("\n")):
            if position:
                lines.append([])
            if part:
                lines[-1].append((kind, part))
    return lines


def marked(line: list[tuple[str, str]]) -> str:
    if all(kind == "=" for kind, _ in line):
        return shortened("".join(text for _, text in line), "both")
    shown = []
    for index, (kind, text) in enumerate(line):
        if kind == "-":
            shown.append(f"[-{text}-]")
        elif kind == "+":
            shown.append(f"{{+{text}+}}")
        else:
            where = "start" if index == 0 else "end" if index == len(line) - 1 else "middle"
            shown.append(shortened(text, where))
    return "".join(shown)


def shortened(text: str, where: str) -> str:
    """An unchanged stretch, cut to about CONTEXT characters beside the change (at a space, where there is one
    near): at a line's start, its end (and the line's first words); at a line's end, its start; between two
    changes, both ends; a whole unchanged line keeps its start."""
    if where == "both":
        return text if len(text) <= 2 * CONTEXT + 1 else head(text, 2 * CONTEXT) + "…"
    if where == "start":  # the line's first words too, which tell which line it is
        return (
            text
            if len(text) <= 2 * CONTEXT + 3
            else head(text, CONTEXT // 2).rstrip() + " … " + tail(text, CONTEXT).lstrip()
        )
    if where == "end":
        return text if len(text) <= CONTEXT + 1 else head(text, CONTEXT) + "…"
    if len(text) <= 2 * CONTEXT + 3:
        return text
    return head(text, CONTEXT).rstrip() + " … " + tail(text, CONTEXT).lstrip()


def head(text: str, size: int) -> str:
    space = text.rfind(" ", size - CONTEXT // 3, size)
    return text[: space + 1] if space > 0 else text[:size]


def tail(text: str, size: int) -> str:
    space = text.find(" ", len(text) - size, len(text) - size + CONTEXT // 3)
    return text[space:] if space >= 0 else text[-size:]


# Measured sections -------------------------------------------------------------------------------


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
    return f"{total:,}" if covered == len(run.turns) else f"{total:,} ({covered} of {len(run.turns)} turns)"


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
    for number, old, new in aligned(a, b):
        cells = [number]
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
    for number, old, new in aligned(a, b):
        cells = [number, *pair(old.ttfb_ms if old else None, new.ttfb_ms if new else None)]
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


# Command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.write.diff", description=__doc__)
    parser.add_argument(
        "--run",
        action="append",
        type=cli.not_empty,
        required=True,
        help="a run, as analyze --run takes it (`latest`, a folder name or path); give two",
    )
    parser.add_argument("--target", help="with --run latest: the newest run of this target")
    parser.add_argument("--output", help="write the Markdown here instead of printing it")
    parser.add_argument(
        "--wire",
        action="store_true",
        help="compare endpoints, request shape and headers even when the runs speak different APIs",
    )
    args = parser.parse_args(argv)
    if len(args.run) != 2:
        raise RunError(f"--run: give exactly two runs to compare (got {len(args.run)})")
    runs = [resolve_run(spec, args.target) for spec in args.run]
    for run in runs:
        if not (run / "traffic.jsonl").is_file():
            raise RunError(f"{display(run / 'traffic.jsonl')}: no such file (is {display(run)} a run folder?)")
    output = Path(args.output) if args.output else None
    if output is not None and (output.name in REFUSED_OUTPUTS or output.resolve().name in REFUSED_OUTPUTS):
        raise RunError(f"--output {output}: that name is a run's capture file; write the diff elsewhere")
    text, warnings = diff_runs(*runs, wire=args.wire)
    for warning in warnings:
        warn(warning)
    if output is None:
        sys.stdout.write(text + "\n")
        return 0
    try:
        with private_replacement(output) as file:
            file.write(text + "\n")
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    print(f"diff: {display(output)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
