"""Opens a report.html in headless Chromium with every network request blocked and counted (for the tests and
the bench): what a person would see, and anything the page tried to load or run."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probe.common.errors import ProbeError

# Debian's Chromium, started as root on a machine without a network: no sandbox (root), and none of its own
# background connections (they would be refused, noisily, and are not the page's).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]

# Set before any script of the page runs: counts what a hostile capture could make the page do.
WATCH_SCRIPT = """
window.__probeWatch = {violations: []};
document.addEventListener("securitypolicyviolation", (event) => {
  window.__probeWatch.violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def chromium_path() -> str:
    """The Chromium to drive: $PROBE_CHROMIUM, else Debian's `chromium` on PATH."""
    path = os.environ.get("PROBE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise ProbeError("no Chromium found: install Debian's chromium package, or set PROBE_CHROMIUM")
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, driven by Playwright (which downloads no browser of its own here)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ProbeError("Playwright is not installed: pip install -e '.[dev]'") from None
    # Chromium keeps its crash reports and caches in $XDG_CONFIG_HOME/chromium and $XDG_CACHE_HOME/chromium (else
    # under ~/.config and ~/.cache): in folders of its own here, removed with it, never in the user's home.
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="agent-probe-chromium-") as folder:
        env = dict(os.environ, XDG_CONFIG_HOME=f"{folder}/config", XDG_CACHE_HOME=f"{folder}/cache")
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, env=env)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """A page, with everything it asked for besides its own file, and every error it logged."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)  # blocked: every URL but the page's own
    asked: list[str] = field(default_factory=list)  # a live page's questions to its own server (let through)
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # alert(), confirm(), prompt(): dismissed

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__probeWatch.violations")

    def text(self, selector: str = "body") -> str:
        return self.page.locator(selector).inner_text()


def open_page(browser, path: Path | str, viewport=(1400, 900), fragment: str = "") -> Watched:
    """`path` in a new page, once its script has finished starting (the page marks itself ready); `path` is a
    report.html, or the address of a live viewer (probe.write.live), whose page may ask for what is under it."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    live = isinstance(path, str)
    watched = Watched(page, path if live else path.resolve().as_uri())

    def own(url: str) -> bool:
        url = url.split("#", 1)[0]
        return url == watched.url or (live and url.startswith(watched.url))

    def block(route) -> None:
        if own(route.request.url):
            route.continue_()
        else:
            route.abort()

    def requested(request) -> None:
        if request.url.split("#", 1)[0] == watched.url:
            return
        (watched.asked if own(request.url) else watched.requests).append(request.url)

    context.route("**/*", block)
    page.on("request", requested)
    page.on("console", lambda message: message.type == "error" and watched.errors.append(message.text))
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(WATCH_SCRIPT)
    page.goto(watched.url + fragment)
    page.wait_for_selector("html[data-ready='1']", state="attached", timeout=30_000)
    return watched
