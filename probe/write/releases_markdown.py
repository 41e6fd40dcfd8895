"""The changelog's blocks as Markdown: our words as prose, captured text in code spans and fenced blocks, inert
(probe.common.markdown)."""

from urllib.parse import quote

from probe.common import markdown as md
from probe.write.releases_doc import Block, Code, Heading, Item, Link, Para, Pieces, Quoted, Table


def pieces_markdown(pieces: Pieces) -> md.Markdown:
    shown = []
    for piece in pieces:
        if isinstance(piece, Quoted):
            shown.append(md.inline(piece.text))
        elif isinstance(piece, Link):
            shown.append(md.Markdown("[{}](<{}>)").format(md.text(piece.text), md.Markdown(quote(piece.href))))
        else:
            shown.append(md.text(piece))
    return md.Markdown("").join(shown)


def markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for index, block in enumerate(blocks):
        if isinstance(block, Item):
            lines.append(md.Markdown("- ") + pieces_markdown(block.pieces))
            if index + 1 < len(blocks) and isinstance(blocks[index + 1], Item):
                continue
        elif isinstance(block, Heading):
            lines.append(md.Markdown("#" * block.level + " ") + pieces_markdown(block.pieces))
        elif isinstance(block, Para):
            lines.append(pieces_markdown(block.pieces))
        elif isinstance(block, Table):
            rows = [[pieces_markdown(cell) for cell in row] for row in block.rows]
            lines.append(md.table(block.headers, rows))
        elif isinstance(block, Code):
            lines.append(md.code(block.text))
        lines.append("")
    return "\n".join(lines)
