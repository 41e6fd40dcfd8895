"""One version's entry in the changelog: what changed since the version before (instructions, tools, models, the
wire, hosts, telemetry), each scenario's figures as its report gives them, what did not complete, and what
agent-probe did not understand; as blocks (probe.write.releases_doc), in words read in a minute."""

import json
import os
from pathlib import Path
from typing import Any

from probe.analyse.cost import dollars
from probe.analyse.releases.facts import (
    TOKENS,
    BlockChange,
    Changes,
    Figures,
    NotUnderstood,
    Size,
    ToolChange,
    VersionRuns,
)
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.release_runs import ReleaseRun
from probe.write.releases_doc import Block, Code, Heading, Item, Link, Para, Piece, Pieces, Quoted, Table
from probe.write.text_diff import text_diff
from probe.write.time_parts import decimals, said
from probe.write.value_diff import MISSING, value_changes

DIFF_LINES = 12  # lines of a changed text's diff shown in an entry; the full diff has the rest
LINE_CHARACTERS = 300  # characters of one diff line shown
NAMES_SHOWN = 12  # names (hosts, events, fields) listed in one line; the rest are counted
FIGURE_HEADERS = ["scenario", "outcome", "requests", "input", "output", "cache read", "cache write", "cost",
                  "wall time"]  # fmt: skip


def quoted(value: str) -> Quoted:
    """Captured text, masked as the diff masks it."""
    return Quoted(mask_tokens_and_urls(value))


def names(values: list[str]) -> Pieces:
    pieces: Pieces = []
    for index, value in enumerate(values[:NAMES_SHOWN]):
        pieces += [", " if index else "", quoted(value)]
    if len(values) > NAMES_SHOWN:
        pieces.append(f" and {len(values) - NAMES_SHOWN:,} more")
    return pieces


def sized(size: Size | None, encoding: str) -> str:
    return "" if size is None else f"{size.characters:,} characters, {size.tokens:,} tokens ({encoding})"


def resized(old: Size | None, new: Size | None, encoding: str) -> str:
    if old is None or new is None:
        return sized(old or new, encoding)
    return (f"{old.characters:,} → {new.characters:,} characters, {old.tokens:,} → {new.tokens:,} tokens "
            f"({encoding}, {new.tokens - old.tokens:+,})")  # fmt: skip


def short_diff(old: str, new: str) -> str:
    """The changed lines only, at most DIFF_LINES of them, each cut short."""
    lines = [line for line in text_diff(old, new, context=0).splitlines() if not line.startswith("@@")]
    shown = [line if len(line) <= LINE_CHARACTERS else line[:LINE_CHARACTERS] + " …" for line in lines[:DIFF_LINES]]
    if len(lines) > DIFF_LINES:
        shown.append(f"… {len(lines) - DIFF_LINES:,} more changed lines in the full diff")
    return mask_tokens_and_urls("\n".join(shown))


def block_lines(change: BlockChange, encoding: str) -> list[Block]:
    if change.change == "changed":
        said_alike = f"{change.alike:.0%} alike, " if change.alike is not None else ""
        item = Item([f"Changed: {change.name} ({said_alike}{resized(change.old_size, change.new_size, encoding)})"])
        return [item, Code(short_diff(change.old or "", change.new or ""))]
    size = change.new_size if change.change == "added" else change.old_size
    text = (change.new if change.change == "added" else change.old) or ""
    first = next((line for line in text.splitlines() if line.strip()), "")[:100]
    return [Item([f"{change.change.capitalize()}: {change.name} ({sized(size, encoding)}), starting ",
                  quoted(first)])]  # fmt: skip


def tool_line(change: ToolChange, encoding: str) -> list[Block]:
    key = change.key
    if key.is_namespace:
        label: Pieces = [quoted(key.name), " (namespace)"]
    else:
        label = [quoted(f"{key.namespace}.{key.name}" if key.namespace else key.name)]
    if change.change != "changed":
        size = change.new_size if change.change == "added" else change.old_size
        return [Item([f"{change.change.capitalize()}: ", *label, f" ({size.tokens:,} tokens)" if size else ""])]
    pieces: Pieces = ["Changed: ", *label, f" ({resized(change.old_size, change.new_size, encoding)})"]
    if change.fields_added:
        pieces += ["; fields added: ", *names(change.fields_added)]
    if change.fields_removed:
        pieces += ["; fields removed: ", *names(change.fields_removed)]
    blocks: list[Block] = []
    if change.new_description is not None:
        pieces.append("; description changed:")
        blocks.append(Code(short_diff(change.old_description or "", change.new_description)))
    elif not (change.fields_added or change.fields_removed):
        pieces.append("; its schema's wording or types changed (see the full diff)")
    return [Item(pieces), *blocks]


def added_removed(what: str, added: list[str] | None, removed: list[str] | None) -> list[Block]:
    lines: list[Block] = []
    if added:
        lines.append(Item([f"{what} added: ", *names(added)]))
    if removed:
        lines.append(Item([f"{what} removed: ", *names(removed)]))
    return lines


def change_blocks(changes: Changes) -> list[Block]:
    """The structural changes, each part only where something changed; then what did not change, in one line."""
    blocks: list[Block] = []
    unchanged = []
    old_model, new_model = changes.default_model
    models = added_removed("Models asked for", changes.models_added, changes.models_removed)
    if old_model != new_model or models:
        blocks.append(Heading(3, ["Models"]))
        if old_model != new_model:
            blocks.append(Item(["Default model: ", quoted(old_model or "none"), " → ", quoted(new_model or "none")]))
        blocks += models
    else:
        unchanged.append("models")
    structure = changes.scenario is not None
    parts = (
        ("Instructions", structure,
         [line for change in changes.blocks for line in block_lines(change, changes.encoding)]),
        ("Tools", structure, [line for change in changes.tools for line in tool_line(change, changes.encoding)]),
        ("Endpoints", structure, added_removed("Endpoints", changes.endpoints_added, changes.endpoints_removed)),
        ("Headers", structure,
         added_removed("Headers", changes.headers_added, changes.headers_removed) + header_lines(changes)),
        ("Hosts called", changes.hosts_added is not None,
         added_removed("Hosts", changes.hosts_added, changes.hosts_removed)),
        ("Telemetry events", changes.events_added is not None,
         added_removed("Events", changes.events_added, changes.events_removed)),
    )  # fmt: skip
    not_compared = []
    for title, compared, lines in parts:
        if lines:
            blocks += [Heading(3, [title]), *lines]
        else:
            (unchanged if compared else not_compared).append(title.lower())
    if unchanged:
        blocks.append(Para([f"Unchanged: {', '.join(unchanged)}."]))
    if not_compared:
        blocks.append(Para([f"Not compared (no scenario run that shows it completed in both versions): "
                            f"{', '.join(not_compared)}."]))  # fmt: skip
    return blocks


def header_lines(changes: Changes) -> list[Block]:
    lines: list[Block] = []
    for name, old, new in changes.header_values:
        paths = value_changes(old[0], new[0]) if len(old) == len(new) == 1 else []
        if paths and all(path for path, _, _ in paths):  # a header holding JSON: the fields that changed
            lines += [Item([quoted(name), " ", quoted(path), ": ", quoted(shown(before)), " → ", quoted(shown(after))])
                      for path, before, after in paths[:NAMES_SHOWN]]  # fmt: skip
        elif old and new:
            lines.append(Item([quoted(name), ": ", *names(old), " → ", *names(new)]))
        else:
            lines.append(Item([quoted(name), ": its values changed (many in one run)"]))
    return lines


def shown(value: Any) -> str:
    """A JSON value as a line shows it: text as written, anything else as JSON; a missing one as `(none)`."""
    if value is MISSING:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)[:LINE_CHARACTERS]


def number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def figure_cells(figures: Figures) -> list[Pieces]:
    cost = dollars(figures.cost) if figures.cost is not None else ""
    if figures.unpriced:
        cost = f"{cost} + " if cost else ""
        cost += f"unknown for {figures.unpriced:,} turn{'s' if figures.unpriced != 1 else ''} (no price)"
    wall = "—" if figures.wall_s is None else said(round(figures.wall_s * 10 ** decimals(figures.wall_s)),
                                                    decimals(figures.wall_s))  # fmt: skip
    return [[f"{figures.requests:,}"], *([number(figures.tokens[kind])] for kind in TOKENS), [cost or "—"], [wall]]


def run_link(run: Path | None, here: Path, text: str) -> Piece:
    """A link to the run's report (or its folder), relative to the changelog's folder."""
    if run is None:
        return text
    target = run / "report.md" if (run / "report.md").is_file() else run
    return Link(text, os.path.relpath(target.resolve(), here.resolve()))


def figures_table(rows: list[ReleaseRun], read: VersionRuns | None, here: Path) -> Table:
    table = Table(FIGURE_HEADERS)
    for row in rows:
        outcome: Pieces = [run_link(row.run, here, row.outcome)]
        if row.why:
            outcome += [": ", quoted(row.why)]
        scenario = read.runs.get(row.scenario) if read is not None else None
        cells = figure_cells(scenario.figures) if scenario is not None else [[""] for _ in FIGURE_HEADERS[2:]]
        table.rows.append([[quoted(row.scenario)], outcome, *cells])
    return table


def not_understood_lines(found: NotUnderstood) -> list[Block]:
    """Each thing not understood, in the words the run's report uses for it."""
    lines: list[Block] = []
    for model, scenarios in sorted(found.unpriced.items()):
        lines.append(Item([quoted(model), ": cost unknown, no price for the model (", *names(sorted(scenarios)), ")"]))
    for model, scenarios in sorted(found.no_window.items()):
        lines.append(Item([quoted(model), ": window unknown (", *names(sorted(scenarios)), ")"]))
    for service, scenarios in sorted(found.unknown_services.items()):
        lines.append(Item(["telemetry of a service no reader knows, ", quoted(service), " (",
                           *names(sorted(scenarios)), ")"]))  # fmt: skip
    for scenario, count in sorted(found.unread_exchanges.items()):
        lines.append(Item([f"{count:,} exchange{'s' if count != 1 else ''} no API reader recognised (",
                           quoted(scenario), ")"]))  # fmt: skip
    return lines
