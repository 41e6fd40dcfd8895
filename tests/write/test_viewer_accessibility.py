"""The viewer's accessibility, checked by axe-core in the real headless Chromium: no serious or critical
violation on real captures, a hostile one, every collapsed part opened, in the dark scheme and a narrow window."""

import json
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import PROJECT_ROOT
from test_viewer import analysed, hostile_capture

from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser

SAMPLES = {
    "claude-code": PROJECT_ROOT / "data/claude-code/20261125-122623-sample-mock",
    "codex-http": PROJECT_ROOT / "data/codex/20261125-123532-sample-http",
    "codex-websocket": PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket",
    "gemini": next((PROJECT_ROOT / "data/gemini").glob("*-sample-*")),
    "claude-code-subagents": PROJECT_ROOT / "tests/data/subagents/claude-code",
}
SERIOUS = {"serious", "critical"}
AXE = Axe()  # axe-core's script, read once
# axe-core's check as Axe.run makes it, answering with each violation's rule, impact, help and first element only.
RUN_AXE = """axe.run({resultTypes: ["violations"]}).then((results) => results.violations.map((violation) => ({
    id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.slice(0, 1).map(
        (node) => ({target: node.target}))})))"""


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory):
    """Each sample's page, analysed once for the module: every scheme and size opens the same file."""
    made: dict[str, Path] = {}

    def page(name: str) -> Path:
        if name not in made:
            made[name] = page_of(SAMPLES[name], tmp_path_factory.mktemp("accessibility") / name)
        return made[name]

    return page


def page_of(sample: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(sample / "traffic.jsonl", folder / "traffic.jsonl")
    manifest = json.loads((sample / "manifest.json").read_text())
    return analysed(folder / "traffic.jsonl", manifest["target"], folder / "out", manifest)


def serious_violations(page, again: bool = False) -> list[str]:
    """axe-core's serious and critical violations, each with the rule, its help and the first element. `again`: axe
    is in the page already, put there by the check before (its script is large, and so is its whole answer: only
    what is reported here comes back)."""
    if not again:
        page.evaluate(AXE.axe_script)
    found = page.evaluate(RUN_AXE)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes'][0]['target']}"
        for violation in found
        if violation["impact"] in SERIOUS
    ]


def open_everything(page) -> None:
    """Every collapsed part opened and every folded text shown: what a reader may reach must pass too."""
    page.evaluate("() => document.querySelectorAll('details').forEach((node) => (node.open = true))")
    page.evaluate("() => document.querySelectorAll('.fold-toggle').forEach((button) => button.click())")


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("scheme, size", [("light", (1400, 900)), ("dark", (1400, 900)), ("light", (600, 800))])
def test_no_serious_violation_on_a_real_capture(browser, sample_pages, name, scheme, size):
    path = sample_pages(name)
    turns = (path.parent / "turns.jsonl").read_text().count("\n")
    for fragment in ("", f"#turn-{turns}"):
        watched = open_page(browser, path, size, fragment)
        try:
            watched.page.emulate_media(color_scheme=scheme)
            assert serious_violations(watched.page) == [], (name, scheme, size, fragment)
            open_everything(watched.page)
            assert serious_violations(watched.page, again=True) == [], (name, scheme, size, fragment, "opened")
        finally:
            watched.page.context.close()


def test_no_serious_violation_on_a_hostile_capture(browser, tmp_path):
    traffic, manifest = hostile_capture(tmp_path / "hostile")
    path = analysed(traffic, None, tmp_path / "out", manifest)
    watched = open_page(browser, path, fragment="#turn-2")
    try:
        open_everything(watched.page)
        assert serious_violations(watched.page) == []
    finally:
        watched.page.context.close()


def test_the_checker_finds_a_violation_when_there_is_one(browser, sample_pages):
    """The check above can fail: a button without a name, added to a real page, is reported."""
    watched = open_page(browser, sample_pages("codex-http"))
    try:
        watched.page.evaluate("() => document.body.appendChild(document.createElement('button'))")
        assert [line.split(" ")[0] for line in serious_violations(watched.page)] == ["button-name"]
        assert [line.split(" ")[0] for line in serious_violations(watched.page, again=True)] == ["button-name"]
    finally:
        watched.page.context.close()
