"""The changelog as blocks (headings, list items, paragraphs, tables, diffs) of pieces, our words apart from captured
text, so that releases.md and releases.html say the same, each leaving captured text inert its own way."""

from dataclasses import dataclass, field

from probe.write.summary_facts import Piece as Words
from probe.write.summary_facts import Quoted


@dataclass(frozen=True)
class Link:
    """A link of ours to a file beside the changelog (a run, a diff): `href` is a relative path we made."""

    text: str
    href: str


Piece = Words | Link
Pieces = list[Piece]


@dataclass
class Heading:
    level: int
    pieces: Pieces
    anchor: str | None = None


@dataclass
class Item:
    """One item of a bulleted list; consecutive items make one list."""

    pieces: Pieces


@dataclass
class Para:
    pieces: Pieces


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Pieces]] = field(default_factory=list)


@dataclass
class Code:
    """Captured text shown as it is, in a block of its own (a short diff)."""

    text: str


Block = Heading | Item | Para | Table | Code

__all__ = ["Block", "Code", "Heading", "Item", "Link", "Para", "Piece", "Pieces", "Quoted", "Table"]
