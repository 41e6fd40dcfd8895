"""The viewer's timeline in the real headless Chromium: a lane per agent in tree order, overlapping intervals of one
agent stacked in its own lane, a click or Enter opening an interval's turn, zoom and pan by keyboard, the figures on
hover and focus, dark mode and a 600 px window, and a 1,000-turn session with more intervals than a page keeps.
The run's intervals are the time model's `span` and `time` records (docs/formats.md), written here into the
insight of a real capture's reading, on the real exchanges of its three agents."""

import json
import re
import sys

import pytest
from conftest import PROJECT_ROOT
from fork_runs import CHEAPER, CLAUDE, copied, fork_with_model, with_manifest
from playwright.sync_api import expect
from test_viewer import analysed, assert_quiet
from test_viewer_overview import SUBAGENTS

from probe.analysis.report import analyze_run
from probe.write import insight_lines
from probe.write.viewer import page_budget
from probe.write.viewer.headless import open_page

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import conversation, template_request  # (bench/ is not a package)

pytestmark = pytest.mark.browser
T0 = 1_800_000_000.0


def span(number, agent, kind, name, start, end, exchanges, **fields):
    return {"record": "span", "schema": 1, "id": number, "agent": agent, "kind": kind, "name": name,
            "start": T0 + start, "end": T0 + end, "duration_ms": (end - start) * 1000, "first_byte": None,
            "exchanges": exchanges, "call_id": None, "child": None, "tokens": None, "cost_usd": None,
            "cache_break": False, "compaction": False, "open": False, "critical": False, **fields}  # fmt: skip


def model(number, agent, start, first_byte, end, exchange, **fields):
    tokens = {"input": 1200 + exchange, "output": 34, "cache_read": 1000, "cache_write": 0}
    return span(number, agent, "model", "claude-opus-5-5", start, end, [exchange], first_byte=T0 + first_byte,
                tokens=tokens, cost_usd="0.0123", **fields)  # fmt: skip


def time_record(agent, name, parent, depth):
    return {"record": "time", "schema": 1, "agent": agent, "name": name, "parent": parent, "depth": depth,
            "start": T0, "end": T0 + 10, "wall_s": 10.0, "parts": {}, "tools": {}, "spans": 0,
            "critical_path": None, "critical_s": None}  # fmt: skip


def three_agents(agents) -> list[dict]:
    """Main spawning two sub-agents that run side by side: the records the time model would write."""
    main, first, second = agents
    m, a, b = main.requests, first.requests, second.requests
    spans = [
        model(1, main.id, 0.0, 0.5, 2.0, m[0]),
        span(2, main.id, "sub_agent", first.name, 2.0, 8.0, [m[0], a[-1]], child=first.id),
        model(3, first.id, 2.1, 2.4, 3.0, a[0], cache_break=True),
        span(4, main.id, "sub_agent", second.name, 2.5, 9.0, [m[0], b[-1]], child=second.id),
        model(5, second.id, 2.6, 3.0, 4.0, b[0]),
        span(6, first.id, "tool", "Bash", 3.0, 6.0, [a[0], a[-1]]),
        span(7, first.id, "tool", "Read", 3.2, 4.0, [a[0], a[-1]]),
        span(8, second.id, "tool", "Grep", 4.0, 5.0, [b[0], b[-1]]),
        model(9, second.id, 5.0, 5.4, 9.0, b[-1], critical=True),
        model(10, first.id, 6.0, 6.3, 8.0, a[-1], compaction=True),
        model(11, main.id, 9.0, 9.3, 10.0, m[-1], critical=True),
    ]
    times = [time_record(main.id, main.name, None, 0), time_record(first.id, first.name, main.id, 1),
             time_record(second.id, second.name, main.id, 1)]  # fmt: skip
    return spans + times


@pytest.fixture
def with_spans(monkeypatch):
    """Readings in this test write, after their agents, the span and time records `make(agents)` returns."""

    def using(make):
        finish = insight_lines.InsightLines.finish

        def finished(self, insight, agents, unanswered):
            finish(self, insight, agents, unanswered)
            # In place of the time model's own records of the reading, those of known figures.
            self.kept.update(spans=[], times=[], spans_left_out=0)
            self.span_bytes = 0
            for record in make(agents):
                self.write(record)

        monkeypatch.setattr(insight_lines.InsightLines, "finish", finished)

    return using


@pytest.fixture(scope="module")
def three(browser, tmp_path_factory):
    """The committed Claude Code capture of three agents, read with the time model's records of three_agents."""
    folder = tmp_path_factory.mktemp("timeline")
    with pytest.MonkeyPatch.context() as patch:
        finish = insight_lines.InsightLines.finish
        names = {}

        def finished(self, insight, agents, unanswered):
            finish(self, insight, agents, unanswered)
            names.update({agent.id: (agent.name, agent.requests) for agent in agents})
            self.kept.update(spans=[], times=[], spans_left_out=0)
            self.span_bytes = 0  # (the model's own: those of known figures instead)
            for record in three_agents(agents):
                self.write(record)

        patch.setattr(insight_lines.InsightLines, "finish", finished)
        page = analysed(SUBAGENTS / "claude-code" / "traffic.jsonl", "claude-code", folder)
    watched = open_page(browser, page)
    watched.page.locator("header.top button", has_text="Timeline").click()
    yield watched, names
    assert_quiet(watched)
    watched.page.context.close()


def lane(page, agent):
    return page.locator(f'#time-view .tl-lane[data-agent="{agent}"]')


def top_of(locator) -> float:
    return float(locator.locator("rect").first.get_attribute("y"))


def test_lanes_follow_the_tree_and_overlapping_intervals_stack_in_their_own_lane(three, tmp_path):
    watched, names = three
    page = watched.page
    main, first, second = names
    labels = page.locator("#time-view .tl-label title").all_text_contents()
    assert labels == [names[main][0], names[first][0], names[second][0]]
    assert labels[1].startswith("agent-probe sub-agent")
    # Indented under main, side by side.
    xs = [float(each.get_attribute("x")) for each in page.locator("#time-view .tl-label").all()]
    assert xs[0] < xs[1] == xs[2]
    # Each sub-agent's intervals on its own lane; main waits on both, in two sub-rows of its own lane.
    assert lane(page, main).locator(".tl-span").count() == 4
    assert lane(page, first).locator(".tl-span").count() == 4
    assert lane(page, second).locator(".tl-span").count() == 3
    waits = lane(page, main).locator(".tl-sub_agent")
    assert waits.count() == 2 and top_of(waits.nth(0)) != top_of(waits.nth(1))
    bash, read = lane(page, first).locator('[data-span="6"]'), lane(page, first).locator('[data-span="7"]')
    assert top_of(bash) != top_of(read)
    # Model calls are two shades, and the markers and the critical path are drawn.
    assert page.locator('#time-view [data-span="3"] .tl-waiting').count() == 1
    assert page.locator('#time-view [data-span="3"] .tl-streaming').count() == 1
    assert page.locator('#time-view [data-span="3"] .tl-mark-cache').count() == 1
    assert page.locator('#time-view [data-span="10"] .tl-mark-compaction').count() == 1
    assert page.locator("#time-view .tl-critical").count() == 2
    assert page.locator("#time-view .tl-legend").inner_text().split("\n")[:3] == [
        "model: waiting",
        "model: streaming",
        "tool",
    ]
    page.locator("#time-view").screenshot(path=tmp_path / "three.png")


def test_a_click_on_a_model_call_opens_its_turn(three):
    watched, names = three
    page = watched.page
    _, first, _ = names
    number = names[first][1][-1]
    page.locator('#time-view [data-span="10"]').click()
    expect(page.locator(".row.selected .n")).to_have_text(f"#{number}")
    assert page.evaluate("location.hash") == f"#turn-{number}"
    page.locator("header.top button", has_text="Timeline").click()


def test_keys_zoom_and_pan_and_focus_shows_an_intervals_figures(three):
    watched, names = three
    page = watched.page
    _, _, second = names
    frame = page.locator("#time-view .tl-frame")
    range_text = page.locator("#time-view .tl-range")
    frame.focus()
    page.keyboard.press("0")
    whole = range_text.inner_text()
    assert whole.startswith("showing -") and whole.endswith("of 10.0 s")
    page.keyboard.press("+")
    zoomed = range_text.inner_text()
    assert zoomed != whole
    page.keyboard.press("ArrowRight")
    assert range_text.inner_text() not in (whole, zoomed)
    page.keyboard.press("0")
    # Tab reaches the intervals; the arrows move between them; focus shows the figures.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.span") == "1"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # main -> the first sub-agent -> the second: its nearest in time
    assert page.evaluate("document.activeElement.dataset.span") == "5"
    readout = page.locator("#time-view .tl-readout")
    expect(readout).to_have_text(
        "model call claude-opus-5-5 · start +2.60 s · duration 1.40 s · waiting 400 ms, streaming 1.00 s · "
        f"tokens: input {1200 + names[second][1][0]:,}, output 34, cache read 1,000, cache write 0 · cost $0.0123 · "
        f"exchanges #{names[second][1][0]}"
    )
    page.keyboard.press("ArrowRight")
    expect(readout).to_contain_text("tool Grep · start +4.00 s · duration 1.00 s")
    page.locator('#time-view [data-span="9"]').hover()
    expect(readout).to_contain_text("on the critical path")
    page.keyboard.press("Enter")  # (the focus is still on Grep: its turn is the one that asked for it)
    expect(page.locator(".row.selected .n")).to_have_text(f"#{names[second][1][0]}")
    page.locator("header.top button", has_text="Timeline").click()


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_dark_mode_and_a_600_px_window(three, scheme, tmp_path):
    watched, _ = three
    page = watched.page
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": 600, "height": 900})
    page.locator("header.top button", has_text="Timeline").click()
    box = page.locator("#time-view .tl-frame").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 600
    streaming = page.evaluate(
        "getComputedStyle(document.querySelector('#time-view [data-span=\"1\"] .tl-streaming')).fill"
    )
    assert streaming == ("rgb(56, 139, 253)" if scheme == "dark" else "rgb(9, 105, 218)")
    assert page.locator("#time-view .tl-label").count() == 3
    page.locator("#time-view").screenshot(path=tmp_path / f"{scheme}-600.png")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.parametrize("width", [1400, 600])
def test_parallel_sub_agents_named_alike_have_lanes_told_apart(browser, tmp_path, with_spans, width):
    """Claude Code's two parallel sub-agents of the mock are named alike but for their number, longer than the room
    beside the plot: each lane's label shows where its name differs, within that room, in a wide and a narrow
    window (they were both cut to "agent-probe parallel sub…")."""
    names = ["agent-probe parallel sub-agent 1", "agent-probe parallel sub-agent 2"]

    def renamed(agents):
        found = three_agents(agents)
        for record, name in zip([record for record in found if record["record"] == "time"][1:], names, strict=True):
            record["name"] = name
        return found

    with_spans(renamed)
    watched = open_page(browser, analysed(SUBAGENTS / "claude-code" / "traffic.jsonl", "claude-code", tmp_path))
    page = watched.page
    page.set_viewport_size({"width": width, "height": 900})
    page.locator("header.top button", has_text="Timeline").click()
    labels = page.locator("#time-view .tl-label")
    assert labels.locator("title").all_text_contents()[1:] == names  # the full name on hover
    shown = [label.evaluate("node => node.firstChild.textContent") for label in labels.all()]
    assert len(set(shown)) == 3 and "…" in shown[1] and shown[1:] != names
    assert shown[1].endswith(" 1") and shown[2].endswith(" 2")
    # Each label ends before the plot begins.
    room = page.evaluate("timeline.geometry.label")
    ends = [label.evaluate("node => node.getBBox().x + node.getBBox().width") for label in labels.all()]
    assert all(end <= room for end in ends), (ends, room)
    page.locator("#time-view").screenshot(path=tmp_path / f"alike-{width}.png")
    assert_quiet(watched)
    watched.page.context.close()


def test_a_forks_timeline_marks_the_moment_it_went_live(browser, private_data_dir, tmp_path):
    """A fork of the Claude Code sample at request 1, which the fork's own request 1 was served: a dashed line
    across the lanes where that answer ended (traffic.jsonl's own timing), a note saying what it is, and the legend
    naming it; the origin's timeline has none."""
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    with_manifest(fork, replay={"status": "every request matched up to 1", "forked_at_request": 1})
    for run in (origin, fork):
        analyze_run(run)
    timings = [json.loads(line)["timing"] for line in (fork / "traffic.jsonl").read_text().splitlines()]
    went_live, start = timings[0]["end"], min(timing["start"] for timing in timings)
    watched = open_page(browser, fork / "report.html")
    page = watched.page
    page.locator("header.top button", has_text="Timeline").click()
    [x] = [float(line.get_attribute("x1")) for line in page.locator("#time-view .tl-fork-line").all()]
    assert x == pytest.approx(page.evaluate(f"xOf({went_live!r}, timeline.geometry)"), abs=0.01)
    expect(page.locator("#time-view .tl-note")).to_have_text(
        "A fork: its requests up to #1 (the origin's #1) were answered from the recording, those after it live, "
        f"asking for {CHEAPER}; the dashed line marks the moment it went live, at +{(went_live - start) * 1000:.0f} ms."
    )
    expect(page.locator("#time-view .for-tl-fork-key")).to_be_visible()
    page.locator("#time-view").screenshot(path=tmp_path / "fork.png")
    assert_quiet(watched)
    watched.page.context.close()
    plain = open_page(browser, origin / "report.html")
    plain.page.locator("header.top button", has_text="Timeline").click()
    assert plain.page.locator("#time-view .tl-fork-line").count() == 0
    expect(plain.page.locator("#time-view .for-tl-fork-key")).to_be_hidden()
    assert_quiet(plain)
    plain.page.context.close()


@pytest.mark.slow
def test_a_1000_turn_session_keeps_its_first_intervals_and_draws_only_what_is_in_view(browser, tmp_path, with_spans):
    template = template_request()
    traffic = tmp_path / "session.jsonl"
    with traffic.open("w") as out:
        for first in range(1, 1001, 100):
            for entry in conversation(template, 100, first, websocket=False):
                out.write(json.dumps(entry) + "\n")
    extra = insight_lines.PAGE_SPANS + 50

    def many(agents):
        main = agents[0]
        spans = [span(n, main.id, "tool", "Bash", n * 0.01, n * 0.01 + 0.015, [1]) for n in range(1, extra + 1)]
        return [*spans, time_record(main.id, main.name, None, 0)]

    with_spans(many)
    page_path = analysed(traffic, "codex", tmp_path / "run")
    assert page_path.stat().st_size < page_budget.PAGE_LIMIT
    watched = open_page(browser, page_path)
    page = watched.page
    page.locator("header.top button", has_text="Timeline").click()
    # The page keeps the first intervals up to 20,000, or fewer where they would take more than a quarter of its limit.
    note = re.compile(r"This page draws the run's first ([\d,]+) intervals; ([\d,]+) more are in insight\.jsonl\.")
    expect(page.locator("#time-view .tl-note")).to_have_text(note)
    kept, more = (
        int(count.replace(",", ""))
        for count in note.fullmatch(page.locator("#time-view .tl-note").inner_text()).groups()
    )
    assert kept + more == extra and 15_000 < kept <= insight_lines.PAGE_SPANS
    # 20,000 overlapping intervals in sub-rows, drawn as marks at most a pixel apart: far fewer elements than intervals.
    drawn = page.locator("#time-view .tl-span, #time-view .tl-many").count()
    assert 0 < drawn < 5000
    frame = page.locator("#time-view .tl-frame")
    frame.focus()
    for _ in range(8):
        page.keyboard.press("+")
    assert page.locator("#time-view .tl-span").count() > 0
    assert_quiet(watched)
    watched.page.context.close()
