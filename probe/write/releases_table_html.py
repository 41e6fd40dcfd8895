"""The side-by-side table as a page of its own: no script at all, its one style allowed by hash, every captured text
escaped, a table a screen reader can walk (a caption, column and row headers)."""

import html

from probe.common import markdown as md
from probe.write.releases_table_rows import Cell, Column, Link, Quoted, unique_lists
from probe.write.viewer.page import csp_hash

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; background: #fff; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: 600; padding: 0.4rem 0; }
th, td { border: 1px solid #999; padding: 0.3rem 0.55rem; vertical-align: top; text-align: left; }
thead th { background: #e8eef5; }
tbody th { background: #f4f4f4; font-weight: 600; white-space: nowrap; }
code { font: 13px ui-monospace, monospace; background: #f0f0f0; padding: 0 0.2rem; overflow-wrap: anywhere; }
a { color: #0645ad; }
.scroll { overflow-x: auto; }
@media (prefers-color-scheme: dark) {
  body { color: #e6e6e6; background: #161616; }
  th, td { border-color: #666; }
  thead th { background: #23364a; }
  tbody th { background: #262626; }
  code { background: #2b2b2b; }
  a { color: #8cb4ff; }
}
"""


def policy() -> str:
    """Nothing runs and nothing loads: only the page's own style."""
    return (f"default-src 'none'; style-src '{csp_hash(STYLE)}'; img-src 'none'; script-src 'none'; "
            "connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'")  # fmt: skip


def captured(text: str) -> str:
    """Captured text masked, with control characters shown as escapes (as in Markdown), then escaped for HTML."""
    return html.escape(md.one_line(md.captured(text)))


def html_of(cell: Cell) -> str:
    parts = []
    for piece in cell:
        if isinstance(piece, Quoted):
            parts.append(f"<code>{captured(piece.text)}</code>")
        elif isinstance(piece, Link):
            parts.append(f'<a href="{html.escape(piece.href)}">{html.escape(piece.text)}</a>')
        else:
            parts.append(html.escape(piece))
    return "".join(parts)


def page(scenario: str, columns: list[Column], rows: list[tuple[str, list[Cell]]], about: str,
         warnings: list[str]) -> str:  # fmt: skip
    title = f"Agents side by side: scenario {captured(scenario)}"
    lines = [
        # (ready at once: no script starts, so the headless helper that waits for a page's readiness opens it as is)
        "<!DOCTYPE html>", '<html lang="en" data-ready="1">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy()}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", "<main>",
        f"<h1>{title}</h1>", f"<p>{html.escape(about)}</p>",
    ]  # fmt: skip
    if not columns:
        lines.append("<p>No agent was run on this scenario.</p>")
    else:
        lines += ['<div class="scroll" role="region" aria-labelledby="figures" tabindex="0">', "<table>",
                  f'<caption id="figures">Figures of each agent on scenario {captured(scenario)}</caption>',
                  '<thead><tr><th scope="col">figure</th>'
                  + "".join(f'<th scope="col"><code>{captured(column.name)}</code></th>' for column in columns)
                  + "</tr></thead>", "<tbody>"]  # fmt: skip
        for label, cells in rows:
            lines.append(f'<tr><th scope="row">{html.escape(label)}</th>'
                         + "".join(f"<td>{html_of(cell)}</td>" for cell in cells) + "</tr>")  # fmt: skip
        lines += ["</tbody>", "</table>", "</div>"]
    for column in columns:
        lists = unique_lists(column)
        if not lists:
            continue
        lines += [f"<h2>Only in <code>{captured(column.name)}</code></h2>", "<ul>"]
        for kind, names in lists:
            shown = ", ".join(f"<code>{captured(name)}</code>" for name in names)
            lines.append(f"<li>{html.escape(kind)}: {shown}</li>")
        lines.append("</ul>")
    if warnings:
        lines += ["<h2>Warnings</h2>", "<ul>", *(f"<li>{captured(warning)}</li>" for warning in warnings), "</ul>"]
    return "\n".join([*lines, "</main>", "</body>", "</html>", ""])
