"""The changelog's blocks as one HTML page: every text escaped, no script at all, a policy that lets only its own
style in and nothing out (as the viewer's page, probe.write.viewer.page), headings and table headers for a reader
that moves by them."""

import html

from probe.common.errors import inert_lines
from probe.write.releases_doc import Block, Code, Heading, Item, Link, Para, Pieces, Quoted, Table
from probe.write.viewer.page import csp_hash

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem;
       color: #1a1a1a; background: #fff; }
h1, h2, h3 { line-height: 1.25; }
h2 { border-top: 1px solid #ccc; padding-top: 1rem; margin-top: 2rem; }
code, pre { font: 13px/1.4 ui-monospace, monospace; background: #f3f3f3; }
code { padding: 0 .2em; overflow-wrap: anywhere; }
pre { padding: .6rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
a { color: #0645ad; }
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #161616; }
  code, pre { background: #262626; }
  th { background: #2a2a2a; }
  th, td { border-color: #555; }
  a { color: #8ab4f8; }
}
"""


def policy() -> str:
    """No script, no image, no request anywhere: only the page's own style."""
    return (
        f"default-src 'none'; style-src '{csp_hash(STYLE)}'; script-src 'none'; img-src 'none'; connect-src 'none'; "
        "font-src 'none'; media-src 'none'; frame-src 'none'; worker-src 'none'; base-uri 'none'; form-action 'none'"
    )


def text(value: str) -> str:
    """Captured or not: control and invisible characters shown as their escapes, then HTML-escaped."""
    return html.escape(inert_lines(value))


def pieces_html(pieces: Pieces) -> str:
    shown = []
    for piece in pieces:
        if isinstance(piece, Quoted):
            shown.append(f"<code>{text(piece.text)}</code>")
        elif isinstance(piece, Link):
            shown.append(f'<a href="{html.escape(piece.href)}">{text(piece.text)}</a>')
        else:
            shown.append(text(piece))
    return "".join(shown)


def page(title: str, blocks: list[Block]) -> str:
    body: list[str] = []
    in_list = False
    for block in blocks:
        if isinstance(block, Item) != in_list:
            body.append("<ul>" if not in_list else "</ul>")
            in_list = not in_list
        if isinstance(block, Item):
            body.append(f"<li>{pieces_html(block.pieces)}</li>")
        elif isinstance(block, Heading):
            anchor = f' id="{html.escape(block.anchor)}"' if block.anchor else ""
            body.append(f"<h{block.level}{anchor}>{pieces_html(block.pieces)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append(f"<p>{pieces_html(block.pieces)}</p>")
        elif isinstance(block, Table):
            body.append(table_html(block))
        elif isinstance(block, Code):
            body.append(f"<pre><code>{text(block.text)}</code></pre>")
    if in_list:
        body.append("</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en" data-ready="1">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy()}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def table_html(table: Table) -> str:
    head = "".join(f'<th scope="col">{text(name)}</th>' for name in table.headers)
    rows = []
    for row in table.rows:
        cells = [f'<th scope="row">{pieces_html(row[0])}</th>'] + [f"<td>{pieces_html(cell)}</td>" for cell in row[1:]]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
