"""The report's context composition: for the run, which parts of the requests took the input tokens, and for each
turn, a compact split (instructions, tools, history new and carried, its largest part)."""

from probe.analyse.context import HISTORY, INSTRUCTIONS, TOOLS, Category, Composition, ContextFilling
from probe.common import markdown as md
from probe.common.counting import counted

# Written as text rather than through md.table: a long session has thousands of turns, each with this table.
TURN_TABLE_HEAD = md.Markdown(
    "| instructions | tools | history new | history carried | largest part |\n|---|---|---|---|---|"
)
RUN_ROWS = 20  # categories listed for the run; the rest are summed in one row


def context_section(filling: ContextFilling, shares: dict[int, float | None] | None = None) -> list[str]:
    """`shares`: each turn's share of its model's window, by number (probe.analyse.window), where known."""
    splits, more = filling.kept, filling.more
    shares = shares or {}
    lines = ["", "## Context", ""]
    if not filling.turns:
        return lines + ["No turn reported usage: there is no input to split."]
    encodings = sorted({split.encoding for split in splits}) or ["o200k_base"]
    lines.append(
        md.Markdown(
            "What filled the context window, estimated: each part of a request counted with {} (bpe-openai), then "
            "scaled so that the parts add up to the input tokens the API reported for the turn (framing included). "
            "For models whose tokenizer is not public the split is approximate; the totals are the API's."
        ).format(md.text(" and ".join(encodings)))
    )
    total = sum(filling.sums.values())
    ranked = sorted(filling.sums.items(), key=lambda item: -item[1])
    rows = [[kind, md.inline(name), state(kind, new), f"{tokens:,}", share(tokens, total)]
            for (kind, name, new), tokens in ranked[:RUN_ROWS]]  # fmt: skip
    rest = sum(tokens for _, tokens in ranked[RUN_ROWS:])
    if rest:
        rows.append(["", f"{len(ranked) - RUN_ROWS:,} more", "", f"{rest:,}", share(rest, total)])
    lines += ["", f"Over the run's {counted(filling.turns, 'turn')} with usage:", "",
              md.table(["kind", "part", "", "tokens", "share"], rows)]  # fmt: skip
    rows = [turn_row(split, shares) for split in splits]
    lines += ["", "By turn:", "",
              md.table(["turn", "input", "of window", "instructions", "tools", "history new", "history carried",
                        "largest part"], rows)]  # fmt: skip
    if more:
        lines.append(f"\nAnd {counted(more, 'more turn')}: see their log entries and insight.jsonl.")
    return lines


def turn_row(split: Composition, shares: dict[int, float | None]) -> list:
    share_of = shares.get(split.number)
    window = "" if split.number not in shares else "window unknown" if share_of is None else f"{share_of:.1%}"
    return [f"#{split.number}", f"{split.scaled_to:,}" if split.scaled_to is not None else "not reported", window,
            *turn_cells(split)]  # fmt: skip


def turn_cells(split: Composition) -> list:
    blocks = sum(1 for c in split.categories if c.kind == INSTRUCTIONS)
    tools = sum(1 for c in split.categories if c.kind == TOOLS and not c.name.endswith("(namespace)"))
    largest = max(split.categories, key=lambda category: category.tokens, default=None)
    return [
        f"{split.total(INSTRUCTIONS):,} ({blocks} block{'s' if blocks != 1 else ''})",
        f"{split.total(TOOLS):,} ({tools} tool{'s' if tools != 1 else ''})",
        f"{split.total(HISTORY, new=True):,}",
        f"{split.total(HISTORY, new=False):,}",
        named(largest) if largest is not None and largest.tokens else "",
    ]


def named(category: Category) -> md.Markdown:
    return md.Markdown("{} {} {}").format(
        md.text(category.kind), md.inline(category.name), md.text(f"{category.tokens:,}")
    )


def turn_context(split: Composition | None) -> list:
    """The compact split shown in a turn's log entry."""
    if split is None:
        return []
    scaled = f"scaled to the {split.scaled_to:,} input tokens reported" if split.scaled_to is not None else "not scaled"
    return [
        md.Markdown("**Context** (estimate: {} counted {}, {}):").format(
            md.text(f"{split.counted:,}"), md.text(split.encoding), md.text(scaled)
        ),
        "",
        TURN_TABLE_HEAD,
        md.Markdown("| " + " | ".join(md.cell(value) for value in turn_cells(split)) + " |"),
        "",
    ]


def state(kind: str, new: bool) -> str:
    return ("new" if new else "carried") if kind == HISTORY else ""


def share(tokens: int, total: int) -> str:
    return f"{tokens / total:.1%}" if total else ""
