"""Writes report.html: the viewer's script and style inline, and the run's data as inert JSON, in one file."""

import base64
import hashlib
from collections.abc import Callable
from functools import cache
from typing import BinaryIO

# The script and the style, declared where the ledger counts them among what a report is made from.
from probe.runs.ledger import VIEWER_SCRIPTS, VIEWER_STYLES

GENERATED = b'<meta name="generated" content="'  # the one line that differs between two pages of the same capture
# A live page's own server, where it asks for what the run added since (relative to the page's address).
LIVE_META = '\n<meta name="live" content="since">'
LIVE_CONNECT = "'self'"


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
{generated}{live}
<title>agent-probe report</title>
<style>{style}</style>
</head>
<body>
<a id="skip" class="skip" href="#turn">Skip to the turn</a>
<header class="top">
<button id="turns-toggle" type="button" aria-expanded="false" aria-controls="sidebar">Turns</button>
<h1>agent-probe <span id="run-name"></span></h1>
<div class="search">
<input id="search" type="search" placeholder="Search the run (/)" aria-label="Search the run" autocomplete="off">
<span id="search-count" aria-live="polite"></span>
<button id="search-previous" type="button" title="Previous hit (Shift+Enter)">&#8593;</button>
<button id="search-next" type="button" title="Next hit (Enter)">&#8595;</button>
</div>
<span class="keys">j/k: turns · g/G: first/last · /: search · n/N: hits</span>
</header>
<div class="layout">
<nav id="sidebar" aria-label="Turns"></nav>
<main>
<section id="overview" aria-labelledby="overview-title"><h2 id="overview-title">Overview</h2></section>
<details id="run" open><summary>Run</summary></details>
<article id="turn"></article>
</main>
</div>
<noscript>This viewer needs JavaScript; report.md beside it holds the same report as text.</noscript>
<script type="application/json" id="probe-data">
"""

CLOSING = """
</script>
<script>{script}</script>
</body>
</html>
"""


@cache
def assets() -> tuple[str, str]:
    """The script and the style sheet, each joined from its parts."""
    script, style = (
        "\n".join(path.read_text(encoding="utf-8") for path in paths) for paths in (VIEWER_SCRIPTS, VIEWER_STYLES)
    )
    return script, style


def csp_hash(text: str) -> str:
    """A CSP source for one inline element: only our own script and style run, whatever else got in."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@cache
def policy(live: bool = False) -> str:
    """The page's Content-Security-Policy: only its own script and style, and no network at all, but for a live
    page's questions to the server that serves it (probe.write.live)."""
    script, style = assets()
    connect = LIVE_CONNECT if live else "'none'"
    return (
        f"default-src 'none'; script-src '{csp_hash(script)}'; style-src '{csp_hash(style)}'; img-src 'none'; "
        f"connect-src {connect}; font-src 'none'; media-src 'none'; frame-src 'none'; worker-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def write_page(out: BinaryIO, write_data: Callable[[BinaryIO], None], generated: str, live: bool = False) -> None:
    """The page, into `out`, its data written by `write_data(out)` as inert JSON (probe.write.viewer.inert): `generated`
    is the time it was made, on a line of its own (see GENERATED). A `live` page asks the server that serves it for
    what the run adds (js/live.js): it is told so by a meta element, and its policy lets it ask."""
    script, style = assets()
    head = TEMPLATE.format(
        policy=policy(live),
        generated=GENERATED.decode() + generated + '">',
        live=LIVE_META if live else "",
        style=style,
    )
    out.write(head.encode("utf-8"))
    write_data(out)
    out.write(CLOSING.format(script=script).encode("utf-8"))


def frame_size(live: bool = False) -> int:
    """The bytes of a page around its data (its script and style above all), near enough: a page's data is kept
    within what the page's limit leaves it (probe.write.viewer.page_budget)."""
    script, style = assets()
    return len(TEMPLATE.encode("utf-8")) + len(policy(live)) + len(style.encode()) + len(script.encode()) + 256
