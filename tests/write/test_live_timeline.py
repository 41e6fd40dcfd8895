"""The live viewer's timeline while a run grows, in the real headless Chromium: the time model as it stands at the
last exchange read, its lanes and intervals growing line by line, and once the run ends the model report.html draws
for the same capture."""

import io
import itertools
import json
import shutil

import pytest
from playwright.sync_api import expect
from test_live import DATA
from test_viewer import assert_quiet
from test_viewer_overview import SUBAGENTS

from probe.analyse.prices_kept import keeping_prices
from probe.analysis.report import viewer_reading, write_report
from probe.runs.targets import load_target
from probe.write.live.run_data import LiveData
from probe.write.live.viewer import LiveViewer
from probe.write.viewer.headless import open_page

# What the page's timeline holds: each lane's agent, readable name and how many intervals it has.
DRAWN = "timeline.model.lanes.map((lane) => [lane.agent, lane.name, lane.order.length])"


def drawn(page) -> list[list]:
    """The timeline's lanes as the page holds them, checked against the labels it drew."""
    lanes = page.evaluate(DRAWN)
    expect(page.locator("#time-view .tl-label title")).to_have_text([name for _, name, _ in lanes])  # (drawn soon)
    return lanes


@pytest.mark.browser
@pytest.mark.slow  # (4–6 s: six exchanges, each awaited in the page, then report.html written and opened)
def test_the_live_timeline_grows_with_the_run_and_ends_as_report_html_draws_it(browser, tmp_path):
    source = SUBAGENTS / "claude-code"
    run = tmp_path / "data" / "claude-code" / "subagents"
    run.mkdir(parents=True)
    shutil.copy(source / "manifest.json", run)
    lines = (source / "traffic.jsonl").read_bytes().splitlines(keepends=True)
    traffic = run / "traffic.jsonl"
    traffic.write_bytes(b"")
    reading, job = viewer_reading(run, load_target("claude-code"))
    viewer = LiveViewer(LiveData(job.traffic, reading, job.warnings)).start(io.StringIO())
    try:
        watched = open_page(browser, viewer.server.url)
        page = watched.page
        page.locator("header.top button", has_text="Timeline").click()
        grown = []
        with traffic.open("ab") as out:
            for count, line in enumerate(lines, 1):
                out.write(line)
                out.flush()
                # The page has this exchange, and draws the model made with it (not the turns' own times).
                page.wait_for_function(
                    "n => TURNS.length === n && timeline.model.provisional"
                    " && timeline.model.count === DATA.header.insight.spans.length"
                    " && DATA.header.insight.spans.some((span) => span.exchanges.includes(n))",
                    arg=count,
                    timeout=5000,
                )
                grown.append(drawn(page))
                expect(page.locator("#time-view .tl-note")).to_contain_text("The run is still going")
        viewer.run_ended()
        expect(page.locator("#live-status")).to_have_text(f"the run ended: {len(lines)} exchanges")
        page.wait_for_function("!timeline.model.provisional && DATA.header.insight.run !== null")
        final = drawn(page)
        final_spans = page.evaluate("DATA.header.insight.spans")
        expect(page.locator("#time-view .tl-note")).not_to_contain_text("still going")
        assert watched.asked and all(asked.startswith(viewer.server.url + "since?") for asked in watched.asked)
        assert_quiet(watched)
        page.context.close()
    finally:
        viewer.close()
    # Lanes come as their agents make requests, and no lane's intervals ever shrink.
    names = [[name for _, name, _ in lanes] for lanes in grown]
    assert [len(lanes) for lanes in names] == [1, 2, 3, 3, 3, 3]
    assert names[0] == ["main"] and names[-1] == [name for _, name, _ in final]
    for before, after in itertools.pairwise(grown):
        had = {agent: spans for agent, _, spans in before}
        assert all(spans >= had.get(agent, 0) for agent, _, spans in after)
    assert sum(spans for *_, spans in grown[0]) < sum(spans for *_, spans in grown[-1])
    # Ended: the run's own model, as report.html draws it for the same capture.
    folder = tmp_path / "report"
    folder.mkdir()
    with keeping_prices(run, []):  # (priced as the live reading was)
        report, _ = write_report(traffic, folder / "report.md", load_target("claude-code"), run)
    written = json.loads(DATA.search(report.with_suffix(".html").read_bytes()).group(1))
    assert final_spans == written["header"]["insight"]["spans"] and len(final_spans) == 13  # (11, and 2 endings)
    watched = open_page(browser, report.with_suffix(".html"))
    watched.page.locator("header.top button", has_text="Timeline").click()
    assert drawn(watched.page) == final
    assert_quiet(watched)
    watched.page.context.close()


@pytest.mark.parametrize("target", ["claude-code", "codex"])
def test_the_model_so_far_leaves_the_runs_own_records_as_they_would_be(target, tmp_path):
    """A reading whose header was made, with the model so far, after every exchange ends with the records of one
    never asked for it; each model so far names every agent that had made a request by then."""
    source = SUBAGENTS / target
    lines = (source / "traffic.jsonl").read_bytes().splitlines()
    ended = []
    for previewed in (True, False):
        run = tmp_path / str(previewed) / target / "subagents"
        run.mkdir(parents=True)
        for name in ("manifest.json", "traffic.jsonl"):
            shutil.copy(source / name, run)
        reading, job = viewer_reading(run, load_target(target))
        data = LiveData(job.traffic, reading, job.warnings)
        for line in lines:
            data.take(line)
            if previewed:
                insight = json.loads(data.snapshot().header)["insight"]
                assert insight["provisional"] is True and insight["spans"] and insight["times"][-1]["name"] == "run"
                lanes = {record["agent"] for record in insight["times"] if record["agent"] is not None}
                assert lanes == set(reading.totals.insight.agents.agents)
                assert data.time_so_far.made_for == data.exchanges
        data.end()
        ended.append((reading.totals.insight.time.records(1), json.loads(data.snapshot().header)["insight"]))
    assert ended[0] == ended[1] and ended[0][0] and "provisional" not in ended[0][1]
