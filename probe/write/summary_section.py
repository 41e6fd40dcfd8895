"""The report's opening summary: one line for each question a capture is opened for, each pointing to its section
below (probe.write.summary_facts gives the lines' content; the viewer shows the same)."""

from probe.analyse.insight import Insight
from probe.common import markdown as md
from probe.write.summary_facts import Piece, Quoted, summary_facts


def summary_section(insight: Insight) -> list[str]:
    lines = ["", "## Summary", ""]
    for label, pieces in summary_facts(insight):
        lines.append(md.Markdown("- {}: {}").format(label, markdown_of(pieces)))
    return lines


def markdown_of(pieces: list[Piece]) -> md.Markdown:
    """Our words as prose, captured text as code spans."""
    return md.Markdown("").join(md.inline(piece.text) if isinstance(piece, Quoted) else md.text(piece)
                                for piece in pieces)  # fmt: skip
