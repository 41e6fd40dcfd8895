"""The viewer's Compare view: a fork's report.html shows its origin's figures beside its own, the rows `invoke
compare` prints, behind a header button; a run with no origin has neither; a long fork's page kept within its budget
still compares every turn; the view is accessible and nothing leaves the page."""

import json
import re

import pytest
from conftest import captured_exchange
from fork_runs import CHEAPER, CLAUDE, copied, fork_with_model, origin_block
from test_viewer import analysed, assert_quiet
from test_viewer_accessibility import serious_violations

from probe.analysis import compare
from probe.analysis.report import analyze_run
from probe.common.errors import run_main
from probe.write.viewer import page_budget
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
VERIFY = {"command": "test -f hello.py", "exit_code": 0, "tail": "hello.py\n\x1b[32mok\x1b[0m", "seconds": 0.05}


def table_of(page) -> list[list[str]]:
    """The Compare view's table as its rows of cell texts, the header row first."""
    return page.evaluate(
        "[...document.querySelectorAll('#compare-view tr')].map((row) => [...row.cells].map((cell) => cell.innerText))"
    )


def printed_rows(capsys, *argv: str) -> list[list[str]]:
    assert run_main(compare.main, list(argv)) == 0
    return [re.split(r" {2,}", line) for line in capsys.readouterr().out.splitlines()]


def test_a_forks_page_shows_its_origin_beside_it_as_compare_prints_it(browser, private_data_dir, capsys, tmp_path):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=VERIFY)
    printed = printed_rows(capsys, "--run", str(fork))  # analyses both runs: the fork's page is made then
    watched = open_page(browser, fork / "report.html")
    page = watched.page
    assert page.locator("#compare-view").count() == 1
    page.locator("header.top button", has_text="Compare").click()
    rows = table_of(page)
    assert rows[0] == ["Figure", "claude-code/20261127-100000-mock", "claude-code/20261127-100100-fork"]
    assert rows[1:] == printed[1:] and printed[0][0] == "run"
    by_figure = {row[0]: row[1:] for row in rows}
    assert by_figure["first difference"] == ["—", "request 2"]
    assert by_figure["verify"] == ["—", "exit 0 in 0.05 s: \\x1b[32mok\\x1b[0m"]
    assert by_figure["models"] == ["claude-opus-5-5 ×2", f"{CHEAPER} ×1, claude-opus-5-5 ×1"]
    assert page.evaluate("document.activeElement.id") == "compare-view"
    page.locator("#compare-view").screenshot(path=tmp_path / "compare.png")
    assert serious_violations(page) == []
    assert_quiet(watched)
    watched.page.context.close()
    plain = open_page(browser, origin / "report.html")  # the origin names no origin: no view, no button
    assert plain.page.locator("#compare-view").count() == 0
    assert plain.page.locator("header.top button", has_text="Compare").count() == 0
    assert_quiet(plain)
    plain.page.context.close()


def test_a_fork_whose_origin_is_not_here_says_so_beside_its_own_figures(browser, private_data_dir):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    (origin / "traffic.jsonl").unlink()
    analyze_run(fork)
    watched = open_page(browser, fork / "report.html")
    note = watched.page.locator("#compare-view .cmp-missing").inner_text()
    assert note.startswith("origin claude-code/20261127-100000-mock of ") and "no such run in" in note
    rows = {row[0]: row[1:] for row in table_of(watched.page)}
    assert rows["Figure"] == ["claude-code/20261127-100100-fork"]
    assert rows["role"] == ["fork of claude-code/20261127-100000-mock"] and rows["first difference"] == ["—"]
    assert rows["fork point"] == [f"request 1, then model {CHEAPER}"]
    assert_quiet(watched)
    watched.page.context.close()


def long_run(turns: int, model_after: int | None = None) -> list[dict]:
    """`turns` priced exchanges, each its own task; those after `model_after` ask for the cheaper model."""
    lines = []
    for n in range(1, turns + 1):
        model = "gpt-5-mini" if model_after is not None and n > model_after else "gpt-6.1-sol"
        usage = {"input_tokens": 1000 + n, "output_tokens": n}
        answer = "event: response.completed\ndata: " + json.dumps(
            {"type": "response.completed", "response": {"id": f"r{n}", "model": model, "output": [], "usage": usage}}
        )
        start = 1_795_000_000.0 + n
        timing = {"start": start, "first_byte": start + 0.1, "end": start + 0.5}
        lines.append(captured_exchange("/v1/responses", {"model": model, "input": f"task {n}"}, answer + "\n\n",
                                       timing=timing))  # fmt: skip
    return lines


def test_a_long_forks_page_within_its_budget_compares_every_turn(browser, private_data_dir, monkeypatch):
    # A page held to a smaller limit keeps its first and last turns; the Compare view's figures are the whole runs'.
    monkeypatch.setattr(page_budget, "PAGE_LIMIT", 470_000)
    runs = {}
    for name, model_after, manifest in (("20261127-100000-long", None, {"target": "codex"}),
                                        ("20261127-100100-fork", 150, None)):  # fmt: skip
        folder = private_data_dir / "codex" / name
        folder.mkdir(parents=True)
        traffic = folder / "traffic.jsonl"
        traffic.write_text("".join(json.dumps(line) + "\n" for line in long_run(300, model_after)))
        manifest = manifest or {"target": "codex", "origin": origin_block(runs["origin"], 150, model="gpt-5-mini")}
        runs["origin" if model_after is None else "fork"] = folder
        page_path = analysed(traffic, "codex", folder, manifest)
    assert page_path.stat().st_size < page_budget.PAGE_LIMIT
    watched = open_page(browser, page_path)
    page = watched.page
    kept = page.evaluate("TURNS.length")
    assert kept < 300
    rows = {row[0]: row[1:] for row in table_of(page)}
    assert rows["turns"] == ["300 (300 with usage)", "300 (300 with usage)"]
    assert rows["input tokens"] == [f"{sum(1000 + n for n in range(1, 301)):,}"] * 2
    assert rows["models"] == ["gpt-6.1-sol ×300", "gpt-5-mini ×150, gpt-6.1-sol ×150"]
    assert rows["fork point"] == ["—", "request 150, then model gpt-5-mini"]
    assert rows["first difference"] == ["—", "request 151"]
    assert rows["wall time"][0] == rows["wall time"][1] == "299.50 s"
    assert_quiet(watched)
    watched.page.context.close()
