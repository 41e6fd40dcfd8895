"""The side-by-side table's content: a column per agent (target@version), a row per figure, each cell as pieces
that the Markdown and the HTML page each show their own way (our words as prose, captured text quoted, links)."""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from probe.analyse.cost import dollars
from probe.analyse.side_by_side.figures import Figures
from probe.analyse.side_by_side.unique import Unique
from probe.common.counting import counted
from probe.runs.release_runs import ReleaseRun
from probe.write.time_parts import decimals, in_units, said

NONE = "—"
MODELS_NAMED = 3


@dataclass(frozen=True)
class Quoted:
    """Captured text (a tool's, a model's, a host's name): a code span in Markdown, code in HTML, never markup."""

    text: str


@dataclass(frozen=True)
class Link:
    """A link of ours: its text our words, its target a path relative to the page (percent-encoded)."""

    text: str
    href: str


Piece = str | Quoted | Link
Cell = list[Piece]


@dataclass
class Column:
    name: str  # target@version
    release: ReleaseRun
    figures: Figures | None  # None: no completed run to read
    unique: Unique | None = None


def relative_href(target: Path, page_folder: Path) -> str:
    """`target` as a link from a page in `page_folder`: relative, so that the folder can be moved or published."""
    relative = os.path.relpath(target.resolve(), page_folder.resolve())
    return quote(Path(relative).as_posix(), safe="/")


def run_cell(column: Column, page_folder: Path) -> Cell:
    run = column.release.run
    if run is None:
        return [NONE]
    pieces: Cell = [Quoted(run.name), ": "]
    for index, name in enumerate(name for name in ("report.md", "report.html") if (run / name).is_file()):
        pieces += [", " if index else "", Link(name, relative_href(run / name, page_folder))]
    return pieces if len(pieces) > 2 else [Quoted(run.name)]


def outcome_cell(release: ReleaseRun) -> Cell:
    return [release.outcome] + ([": ", Quoted(release.why)] if release.why else [])


def tokens_cell(figures: Figures, kind: str) -> Cell:
    count = figures.tokens.get(kind)
    return ["not reported"] if count is None else [f"{count:,}"]


def instructions_cell(figures: Figures) -> Cell:
    if figures.instruction_tokens is None:
        return ["no request reported its input"]
    blocks = counted(figures.instruction_blocks or 0, "block")
    return [f"{figures.instruction_tokens:,} tokens ({blocks}) at #{figures.fullest_turn}"]


def tools_cell(figures: Figures) -> Cell:
    if figures.tools is None:
        return ["no request reported its input"]
    return [f"{counted(figures.tools, 'tool')}, {figures.tool_tokens or 0:,} tokens at #{figures.fullest_turn}"]


def share_cell(figures: Figures) -> Cell:
    return [NONE] if figures.tools_share is None else [f"{figures.tools_share:.0%}"]


def cache_cell(figures: Figures) -> Cell:
    rate = figures.hit_rate
    if rate is None:
        return ["no turn reported cached tokens"]
    return [f"{rate:.1%} of {figures.cache_input:,} input tokens read from the cache"]


def hosts_cell(figures: Figures) -> Cell:
    if not figures.all_hosts:
        return ["not recorded: run without --all-hosts"]
    if not figures.hosts:
        return ["none besides the model's"]
    pieces: Cell = []
    for index, host in enumerate(figures.hosts):
        pieces += [", " if index else "", Quoted(host)]
    return pieces


def telemetry_cell(figures: Figures) -> Cell:
    said_parts = []
    if figures.telemetry_records is not None:
        said_parts.append(f"{counted(figures.telemetry_records, 'record')} of the agent's own account")
    elif figures.telemetry in ("off", "none", "missing"):
        said_parts.append(f"own account {figures.telemetry}")
    if figures.host_events:
        said_parts.append(f"{counted(figures.host_events, 'event')} sent to other hosts")
    return ["; ".join(said_parts) or NONE]


def cost_cell(figures: Figures) -> Cell:
    if not figures.priced_turns and not figures.unknown_turns:
        return ["no turn reported usage to price"]
    if figures.cost_usd is None:
        pieces: Cell = [f"unknown for all {counted(figures.unknown_turns, 'turn')}"]
    else:
        pieces = [f"{dollars(figures.cost_usd)} for {counted(figures.priced_turns, 'turn')}"]
        if figures.unknown_turns:
            pieces.append(f" (+{figures.unknown_turns:,} unknown)")
    if figures.unknown_reason:
        pieces += [": ", Quoted(figures.unknown_reason)]
    return pieces


def wall_cell(figures: Figures) -> Cell:
    if figures.wall_s is None:
        return ["no exchange was timed"]
    digits = decimals(figures.wall_s)  # as the report's Time section shows it
    return [said(in_units([], figures.wall_s, digits)[1], digits)]


def models_cell(figures: Figures) -> Cell:
    pieces: Cell = []
    for index, (model, count) in enumerate(list(figures.models.items())[:MODELS_NAMED]):
        pieces += [", " if index else "", Quoted(model), f" ×{count:,}"]
    if len(figures.models) > MODELS_NAMED:
        pieces.append(f", and {len(figures.models) - MODELS_NAMED:,} more")
    return pieces or [NONE]


# Each row: its label, and its cell for a completed run's figures.
FIGURE_ROWS = [
    ("agent version", lambda figures: [Quoted(figures.agent)] if figures.agent else [NONE]),
    ("models asked for", models_cell),
    ("instructions, fullest request", instructions_cell),
    ("instructions, characters", lambda figures: [f"{figures.instruction_chars:,}"]),
    ("tools, fullest request", tools_cell),
    ("tools' share of the context", share_cell),
    ("requests", lambda figures: [f"{figures.requests:,}"]),
    ("input tokens", lambda figures: tokens_cell(figures, "input")),
    ("output tokens", lambda figures: tokens_cell(figures, "output")),
    ("cache read tokens", lambda figures: tokens_cell(figures, "cache_read")),
    ("cache write tokens", lambda figures: tokens_cell(figures, "cache_write")),
    ("cache markers", lambda figures: [f"{figures.cache_markers:,}"]),
    ("prompt cache", cache_cell),
    ("sub-agents", lambda figures: [f"{figures.sub_agents:,}"]),
    ("hosts called", hosts_cell),
    ("telemetry", telemetry_cell),
    ("cost", cost_cell),
    ("wall time", wall_cell),
]


def table_rows(columns: list[Column], page_folder: Path) -> list[tuple[str, list[Cell]]]:
    """The table's rows: how each agent fared and its run, then each figure; an agent with no completed run shows
    why in its outcome and nothing below."""
    rows = [("outcome", [outcome_cell(column.release) for column in columns]),
            ("run", [run_cell(column, page_folder) for column in columns])]  # fmt: skip
    for label, cell in FIGURE_ROWS:
        rows.append((label, [cell(column.figures) if column.figures is not None else [NONE] for column in columns]))
    return rows


def unique_lists(column: Column) -> list[tuple[str, list[str]]]:
    """The column's "Only in" lists: what it has that no other agent in the table has."""
    unique = column.unique
    if unique is None:
        return []
    kinds = [("tools", unique.tools), ("request headers", unique.headers), ("hosts", unique.hosts)]
    return [(kind, names) for kind, names in kinds if names]
