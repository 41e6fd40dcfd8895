"""The changelog (probe.write.releases_page) from the committed codex samples of 0.166.0 and 0.169.0: it names the
changes their committed diff shows, with sizes, gives each run's own report's figures, says the same in its HTML,
lists a failed version with why and a model without a price under what agent-probe needs to learn, and leaves
hostile captured text inert in both files."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from test_viewer_accessibility import serious_violations

from probe.runs.release_runs import COMPLETE, INSTALL_FAILED, ReleaseRun
from probe.write.releases_page import changelog
from probe.write.viewer.headless import open_page

SAMPLES = PROJECT_ROOT / "data"
[OLDER] = (SAMPLES / "codex").glob("*-sample-v0.166.0")
[NEWER] = (SAMPLES / "codex").glob("*-sample-v0.169.0")
[COMMITTED_DIFF] = NEWER.glob("diff-*.md")
FIGURE_COLUMNS = ["requests", "input", "output", "cache read", "cache write", "cost", "wall time"]


def copied(tmp_path: Path, prices: str | None = None) -> tuple[Path, Path]:
    """The two samples in a data folder of their own, beside the price file they were priced with (or `prices`)."""
    data = tmp_path / "data"
    (data / "codex").mkdir(parents=True)
    runs = tuple(
        Path(shutil.copytree(run, data / "codex" / run.name, ignore=shutil.ignore_patterns("report.html")))
        for run in (OLDER, NEWER)
    )
    if prices is None:
        shutil.copy(SAMPLES / "sample-prices.yaml", data / "sample-prices.yaml")
    else:
        (data / "sample-prices.yaml").write_text(prices)
    return runs


def rows_of(older: Path, newer: Path) -> list[ReleaseRun]:
    return [
        ReleaseRun("codex", "0.169.0", "tool", COMPLETE, newer),
        ReleaseRun("codex", "0.166.0", "tool", COMPLETE, older),
        ReleaseRun("codex", "0.170.0", "tool", INSTALL_FAILED, None, "npm: no version 0.170.0 of @openai/codex"),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("releases")
    older, newer = copied(tmp_path)
    paths = changelog("codex", rows_of(older, newer), tmp_path / "out", compares="tool")
    return tmp_path, older, newer, paths


def entry(markdown: str, version: str) -> str:
    """One version's entry: from its heading to the next version's."""
    return re.search(rf"^## {re.escape(version)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M).group(1)


def test_the_entry_names_the_changes_the_committed_diff_shows_with_sizes(written):
    tmp_path, _, _, paths = written
    here = tmp_path / "out" / "codex"
    assert paths == [here / "diff-0.166.0-0.169.0.md", here / "releases.md", here / "releases.html"]
    text = (here / "releases.md").read_text()
    newer = entry(text, "0.169.0")
    committed = COMMITTED_DIFF.read_text()
    # The instruction block the committed diff says changed, its likeness and its token sizes (its Context table).
    block, alike = re.search(r"<summary>(developer block \S+) changed \((\d+%) alike\)", committed).groups()
    before, after = re.search(rf"\| `{re.escape(block)}` \| ([\d,]+) \| ([\d,]+) \|", committed).groups()
    assert f"- Changed: {block} ({alike} alike, 1,950 → 2,115 characters, {before} → {after} tokens" in newer
    assert "openai-docs: [-Use for Codex models/pricing" in newer  # its diff, changed lines only
    # The tool the committed diff says changed, and the removed endpoint.
    [tool] = re.findall(r"^### Changed: `(.+)`$", committed, re.M)
    assert re.search(rf"- Changed: `{re.escape(tool)}` \(24,671 → 24,082 characters, 5,833 → 5,685 tokens", newer)
    [endpoint] = re.findall(r"^- Only in A: `(GET .+)` ×1$", committed, re.M)
    assert f"- Endpoints removed: `{endpoint}`" in newer
    assert "- `version`: `0.166.0` → `0.169.0`" in newer
    assert "Unchanged: models." in newer  # the default model did not move (gpt-6.1-sol in both)
    assert "([full diff](<diff-0.166.0-0.169.0.md>))" in newer
    full = (here / "diff-0.166.0-0.169.0.md").read_text()
    assert full.split("\n", 5)[5] == committed.split("\n", 5)[5]  # the same diff, but for the runs' paths
    # Newest first, the oldest with nothing to compare.
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## What agent-probe needs to learn", "## 0.170.0", "## 0.169.0", "## 0.166.0"]  # fmt: skip
    assert "nothing before it to compare with" in entry(text, "0.166.0")


def report_figures(run: Path) -> list[str]:
    """The figures the run's own report.md gives, as the changelog's table shows them."""
    report = (run / "report.md").read_text()
    tokens = re.search(r"^- Tokens: .*$", report, re.M).group()
    kinds = ("input", "output", "cache read", "cache write")
    said = {kind: re.search(rf"{kind} (\d[\d,]*\d|\d)", tokens) for kind in kinds}
    requests = re.search(r"One agent made all ([\d,]+) requests", report).group(1)
    cost = re.search(r"^- Cost: (\$[\d.]+) for", report, re.M).group(1)
    wall = re.search(r"^Wall time ([\d.]+ s),", report, re.M).group(1)
    return [requests, *(match.group(1) if match else "—" for match in said.values()), cost, wall]


def table_rows(markdown: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in markdown.splitlines()
            if line.startswith("| `")]  # fmt: skip


def test_each_scenario_figure_is_the_runs_own_report(written):
    tmp_path, older, newer, _ = written
    text = (tmp_path / "out/codex/releases.md").read_text()
    for version, run in (("0.169.0", newer), ("0.166.0", older)):
        [row] = table_rows(entry(text, version))
        assert row[0] == "`tool`"
        assert row[1] == f"[complete](<../../data/codex/{run.name}/report.md>)"
        assert row[2:] == report_figures(run), version
    assert report_figures(newer) == ["3", "17,703", "65", "8,851", "—", "$0.0192", "0.477 s"]  # (the parse reads)


def test_a_version_that_failed_to_install_is_a_row_with_why(written):
    tmp_path, *_ = written
    text = (tmp_path / "out/codex/releases.md").read_text()
    [row] = table_rows(entry(text, "0.170.0"))
    assert row[:2] == ["`tool`", "install failed: `npm: no version 0.170.0 of @openai/codex`"]
    assert "- 0.170.0: scenario `tool` install failed: `npm: no version 0.170.0 of @openai/codex`" in text


class Page(HTMLParser):
    """The page's headings and table rows as text, and every tag met."""

    def __init__(self):
        super().__init__()
        self.headings, self.rows, self.tags, self.open = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("h1", "h2", "h3", "tr", "th", "td"):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("th", "td"):
                self.rows[-1].append("")
            else:
                self.headings.append(tag[1] + " ")
            self.open = tag

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "th", "td"):
            self.open = None

    def handle_data(self, data):
        if self.open in ("h1", "h2", "h3"):
            self.headings[-1] += data
        elif self.open in ("th", "td") and self.rows:
            self.rows[-1][-1] += data


def plain(cell: str) -> str:
    """A Markdown cell's text as a page shows it."""
    return re.sub(r"\[(.*?)\]\(<.*?>\)", r"\1", cell).replace("`", "").replace("\\", "")


def test_the_page_shows_the_same_entries(written):
    tmp_path, *_ = written
    text = (tmp_path / "out/codex/releases.md").read_text()
    page = Page()
    page.feed((tmp_path / "out/codex/releases.html").read_text())
    headings = [f"{len(mark)} {title}" for mark, title in re.findall(r"^(#+) (.*)$", text, re.M)]
    assert page.headings == headings
    shown = [row for row in page.rows if row and row[0] != "scenario"]
    assert shown == [[plain(cell) for cell in row] for row in table_rows(text)]
    assert "script" not in page.tags


def test_a_model_without_a_price_is_what_agent_probe_needs_to_learn(tmp_path):
    prices = "use_database: false\nmodels:\n  other-model:\n    input: 1\n    output: 2\n"
    older, newer = copied(tmp_path, prices=prices)
    changelog("codex", rows_of(older, newer)[:2], tmp_path / "out")
    text = (tmp_path / "out/codex/releases.md").read_text()
    learn = re.search(r"## What agent-probe needs to learn\n\n(.*?)\n\n", text, re.S).group(1)
    assert learn.splitlines() == [
        "- 0.169.0: `gpt-6.1-sol`: cost unknown, no price for the model (`tool`)",
        "- 0.169.0: `gpt-6.1-sol`: window unknown (`tool`)",  # (the sample's price file gave its window too)
        "- 0.166.0: `gpt-6.1-sol`: cost unknown, no price for the model (`tool`)",
        "- 0.166.0: `gpt-6.1-sol`: window unknown (`tool`)",
    ]
    [row] = table_rows(entry(text, "0.169.0"))
    assert row[7] == "unknown for 2 turns (no price)"


HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) \\u001b[31mred\\u001b]0;title\\u0007"


def test_hostile_instructions_are_inert_in_both_files(tmp_path):
    older, newer = copied(tmp_path)
    traffic = newer / "traffic.jsonl"
    text = traffic.read_text()
    assert text.count("### Available skills\\n- imagegen") == 1
    hostile = text.replace("### Available skills\\n- imagegen", f"### Available skills {HOSTILE}\\n- imagegen")
    traffic.write_text(hostile)
    changelog("codex", rows_of(older, newer)[:2], tmp_path / "out")
    markdown = (tmp_path / "out/codex/releases.md").read_text()
    page = (tmp_path / "out/codex/releases.html").read_text()
    assert "\x1b" not in markdown + page and "\x07" not in markdown + page
    assert "\\x1b[31mred" in markdown and "\\x1b[31mred" in page  # shown as its escape
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # In Markdown, the line sits in a fenced block whose `<` cannot open a tag, so no link or HTML is made of it.
    fenced = re.search(r"^```\n(.*?)^```$", markdown, re.S | re.M).group(1)
    assert "<\u200bscript>alert(1)<\u200b/script> [click](javascript:alert(1))" in fenced
    assert "<script" not in markdown
    hrefs = re.findall(r"<a href=\"([^\"]*)\"", page)
    assert page.count("<a ") == len(hrefs) == 3  # our own links only: the diff and the two runs' reports
    assert hrefs[0] == "diff-0.166.0-0.169.0.md" and all(href.endswith("/report.md") for href in hrefs[1:])


@pytest.mark.browser
def test_the_page_has_no_accessibility_violation_and_runs_nothing(browser, written):
    """axe-core in the real Chromium finds no serious violation; the page asks for nothing and logs no error (its
    policy would block and report anything)."""
    tmp_path, *_ = written
    watched = open_page(browser, tmp_path / "out/codex/releases.html", (1200, 900))
    try:
        assert serious_violations(watched.page) == []
        assert watched.page.locator("h1").inner_text() == "Releases of codex"
        assert "Changed: developer block host_skills.instructions (91% alike" in watched.text()
        watched.page.screenshot(path=str(tmp_path / "releases.png"), full_page=True)
        assert (watched.requests, watched.errors, watched.violations()) == ([], [], [])
    finally:
        watched.page.context.close()
