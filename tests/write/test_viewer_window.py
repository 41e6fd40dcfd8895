"""The context window and the prompt cache's lifetime in the viewer, in the real headless Chromium: each agent's window
drawn on the input chart at its height (or named above the scale), each turn's share on hover and in its facts, the
cache's time since its prefix was last used, and a live interactive session's countdown of the cache's time left."""

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange, wait_for
from price_oracle import lines
from test_viewer import analysed, assert_quiet
from test_viewer_accessibility import AXE, SERIOUS, serious_violations

from probe.analyse.prices import prices_from
from probe.analysis.report import viewer_reading
from probe.runs.targets import load_target
from probe.write.live.run_data import LiveData
from probe.write.live.viewer import LiveViewer
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
CAPTURE = PROJECT_ROOT / "tests" / "data" / "subagents" / "claude-code"  # three agents on claude-opus-5-5
SAMPLE_PRICES = PROJECT_ROOT / "data" / "sample-prices.yaml"
PAUSE_S = 400  # moved in before the last exchange: past Anthropic's 5 min lifetime
MODEL, SMALL_MODEL = "claude-opus-5-5", "claude-haiku-45"  # (as long: the bodies' sizes stay as recorded)
ANTHROPIC_DEFAULT = "Anthropic's default, 5 min (platform.claude.com/docs/en/build-with-claude/prompt-caching)"


def windowed(folder: Path, window: int | None, pause_last: bool = False, small: tuple[int, ...] = ()) -> Path:
    """The capture in `folder`, priced by the sample price file with claude-opus-5-5's window set to `window` (None:
    the file without its windows, which gives none); the exchanges at the indexes `small` on SMALL_MODEL instead,
    whose window is half as large; with `pause_last`, its last exchange PAUSE_S later."""
    folder.mkdir(parents=True)
    texts = (CAPTURE / "traffic.jsonl").read_text().splitlines()
    exchanges = [json.loads(text.replace(MODEL, SMALL_MODEL) if at in small else text) for at, text in enumerate(texts)]
    if pause_last:
        exchanges[-1]["timing"] = {key: value + PAUSE_S for key, value in exchanges[-1]["timing"].items()}
    (folder / "traffic.jsonl").write_text("".join(json.dumps(exchange) + "\n" for exchange in exchanges))
    shutil.copy(CAPTURE / "manifest.json", folder / "manifest.json")
    prices = re.sub(r", context_window: \d+", "", SAMPLE_PRICES.read_text())  # the sample's own windows left out
    if window is not None:
        small_prices = f"{{input: 1, output: 5, cache_read: 0.1, cache_write: 1.25, context_window: {window // 2}}}"
        prices = prices.replace(
            "cache_write_1h: 8}", f"cache_write_1h: 8, context_window: {window}}}\n  {SMALL_MODEL}: {small_prices}"
        )
    (folder / "prices.yaml").write_text(prices)
    with prices_from(folder / "prices.yaml"):
        return analysed(folder / "traffic.jsonl", "claude-code", folder)


def turn_records(folder: Path) -> dict[int, dict]:
    return {each["number"]: each for each in lines(folder / "insight.jsonl") if each["record"] == "turn"}


def turn_facts(page) -> dict[str, str]:
    """The open turn's facts, by label."""
    labels, texts = page.locator("#turn .facts dt"), page.locator("#turn .facts dd")
    return dict(zip(labels.all_inner_texts(), texts.all_inner_texts()))


def legend(page) -> str:
    return page.locator(".ov-charts .ov-legend").first.inner_text()


def test_each_agents_window_is_drawn_at_its_height_with_each_turns_share_on_hover_and_in_its_facts(browser, tmp_path):
    # The second sub-agent (#3, #4) runs on a model with half the window, and the main agent moves to it at #6.
    folder = tmp_path / "run"
    watched = open_page(browser, windowed(folder, 40_000, pause_last=True, small=(2, 3, 5)))
    page = watched.page
    records = turn_records(folder)
    windows = {number: record["window"]["tokens"] for number, record in records.items()}
    assert windows == {1: 40_000, 2: 40_000, 3: 20_000, 4: 20_000, 5: 40_000, 6: 20_000}
    # One line per agent, each at its own model's window, carried over the others' turns, stepping where it changes.
    assert page.evaluate("NUMBERS.windows.map((line) => [line.steps, line.last])") == [
        [[[0, 40_000], [5, 20_000]], 5],
        [[[1, 40_000]], 4],
        [[[2, 20_000]], 3],
    ]
    assert legend(page).endswith(
        "\nwindow of main: 40,000 (prices.yaml), then 20,000 (prices.yaml)"
        "\nwindow of agent-probe sub-agent 1: 40,000 (prices.yaml)"
        "\nwindow of agent-probe sub-agent 2: 20,000 (prices.yaml)"
    )
    # On the canvas each is where its window is on the y axis, in its agent's colour (overview.css's --ov-window-0
    # and -2 in the light scheme), across each of its turns' slots, and nothing of it a few pixels above.
    pixel = """([value, n, dy]) => { const u = CHARTS[0], y = Math.round(u.valToPos(value, 'y', true)) + dy;
        const p = u.ctx.getImageData(Math.round(u.valToPos(n, 'x', true)), y, 1, 1).data;
        return [...p.slice(0, 3)].map((v) => v.toString(16).padStart(2, '0')).join(''); }"""
    main, second = "0550ae", "1a7f37"
    for value, turn, colour in [(40_000, 0.7, main), (40_000, 1.3, main), (20_000, 3.3, second), (20_000, 4.3, second),
                                (20_000, 6.3, main)]:  # fmt: skip
        assert page.evaluate(pixel, [value, turn, 0]) == colour
        assert page.evaluate(pixel, [value, turn, -5]) != colour
    # The scale holds the windows: the tallest bar is a third of the largest, still a third of the chart's height.
    assert 40_000 < page.evaluate("CHARTS[0].scales.y.max") < 45_000
    # Hovering a turn reads its share of its own window, as insight.jsonl gives it.
    for number in (1, 3, 6):
        x, y = page.evaluate(f"""(() => {{ const u = CHARTS[0], box = u.over.getBoundingClientRect();
            return [box.left + u.valToPos({number}, 'x'), box.top + 10]; }})()""")
        page.mouse.move(x, y)
        share = f"{records[number]['share'] * 100:.1f}%"
        expect_words = f"window: {share} of {windows[number]:,} (prices.yaml)"
        assert expect_words in page.locator("#ov-readout").inner_text()
    assert records[6]["share"] == 0.6732
    # The turn's facts: its window, its share, and the cache's time since its prefix was used, lapsed here.
    page.locator(".row[data-turn='6']").click()
    facts = turn_facts(page)
    assert facts["context window"] == "20,000 tokens (prices.yaml)"
    input_6 = lines(folder / "turns.jsonl")[5]["usage"]["input"]
    assert facts["share of the window"] == f"67.3% ({input_6:,} of 20,000 tokens)"
    cache = records[6]["cache"]
    assert cache["lapsed"] is True and cache["compared_with"] == 1
    minutes, rest = divmod(round(cache["since_s"]), 60)
    assert facts["cache lifetime"] == (
        f"{minutes} min {rest} s since #1 used the prefix, past the cache's 5 min lifetime: lapsed "
        f"({ANTHROPIC_DEFAULT})"
    )
    page.locator(".row[data-turn='4']").click()
    facts = turn_facts(page)
    since = records[4]["cache"]["since_s"]
    assert since < 1 and facts["cache lifetime"] == (
        f"{round(since * 1000)} ms since #3 used the prefix, within the cache's 5 min lifetime ({ANTHROPIC_DEFAULT})"
    )
    assert page.locator("#cache-time").count() == 0  # (report.html is no live page: it counts nothing down)
    # The agent tree: each agent's window against its main model, its peak share and its last.
    tree = {item.get_attribute("data-agent"): item.locator(":scope > .ov-agent-facts").inner_text()
            for item in page.locator(".ov-tree li").all()}  # fmt: skip
    agents = {each["id"]: each["window"] for each in lines(folder / "insight.jsonl") if each["record"] == "agent"}
    assert [len(agents[agent]["by_model"]) for agent in tree] == [2, 1, 1]  # (main moved to the small model at #6)
    for agent, facts in tree.items():
        window = agents[agent]
        on = f" on its main model, {window['model']}" if agent == "main" else ""
        assert (
            f" · window {window['tokens']:,} (prices.yaml){on}, peak {window['peak_share'] * 100:.1f}% at "
            f"#{window['peak_turn']}, last {window['last_share'] * 100:.1f}%"
        ) in facts
    page.locator(".to-overview").click()
    page.locator(".ov-charts").screenshot(path=tmp_path / "window.png")
    assert serious_violations(page) == []
    assert_quiet(watched)
    watched.page.context.close()


def test_a_window_far_above_the_inputs_is_named_above_the_scale_and_an_unknown_one_is_said(browser, tmp_path):
    watched = open_page(browser, windowed(tmp_path / "wide", 1_000_000))
    main = next(each for each in lines(tmp_path / "wide" / "insight.jsonl") if each["record"] == "agent")
    assert main["id"] == "main" and main["window"]["peak_share"] == 0.0135
    page = watched.page
    # Drawn to scale, 1,000,000 would flatten inputs of 13,000 to a sliver: it is named, not drawn.
    assert page.evaluate("CHARTS[0].series.some((s) => s.label.startsWith('window'))") is False
    assert page.evaluate("CHARTS[0].scales.y.max") < 20_000
    assert legend(page).endswith(
        "cache write\nwindow of every agent: 1,000,000 (prices.yaml), above the scale (peak input 1.4% of it)"
    )
    page.emulate_media(color_scheme="dark")
    page.locator(".ov-charts").screenshot(path=tmp_path / "above.png")
    assert_quiet(watched)
    watched.page.context.close()
    watched = open_page(browser, windowed(tmp_path / "unknown", None))
    page = watched.page
    assert page.evaluate("CHARTS[0].series.some((s) => s.label.startsWith('window'))") is False
    assert "window unknown" in legend(page)
    page.locator(".ov-charts").focus()
    assert page.locator("#ov-readout").inner_text().endswith(" · reasoning — · window unknown · cost $0.0628")
    page.locator(".row[data-turn='1']").click()
    assert "window unknown" in page.locator("#turn .facts").inner_text()
    assert_quiet(watched)
    watched.page.context.close()


def test_a_window_from_the_agents_model_list_gives_its_effective_limit_and_share_of_it(browser, tmp_path):
    # codex's model list (its first exchange) gives a model the price table lacks, which codex fills to 95%.
    listed = {"models": [{"slug": "codex-house-model", "context_window": 272_000}]}
    exchanges = [captured_exchange("/v1/models?client_version=0.169.0", None, listed, id="models",
                                   response_headers=(("content-type", "application/json"),))]  # fmt: skip
    exchanges[0]["request"].update(method="GET", body_format="empty")
    answer = {"id": "resp_1", "object": "response", "status": "completed", "model": "codex-house-model", "output": [],
              "usage": {"input_tokens": 68_000, "output_tokens": 5}}  # fmt: skip
    body = {"model": "codex-house-model", "input": "Go.", "stream": False}
    exchanges.append(captured_exchange("/v1/responses", body, answer, id="turn",
                                       response_headers=(("content-type", "application/json"),)))  # fmt: skip
    (tmp_path / "traffic.jsonl").write_text("".join(json.dumps(exchange) + "\n" for exchange in exchanges))
    with prices_from(SAMPLE_PRICES):
        watched = open_page(browser, analysed(tmp_path / "traffic.jsonl", "codex", tmp_path / "run"))
    page = watched.page
    page.locator(".row[data-turn='2']").click()
    facts = turn_facts(page)
    assert facts["context window"] == (
        "272,000 tokens (the agent's model list), of which the agent lets a conversation fill 258,400"
    )
    assert facts["share of the window"] == "25.0% (68,000 of 272,000 tokens), 26.3% of the effective limit"
    assert_quiet(watched)
    watched.page.context.close()


def test_a_live_interactive_session_counts_its_caches_time_down_and_says_when_it_lapsed(browser, tmp_path):
    run = tmp_path / "data" / "claude-code" / "20261127-000000-interactive"
    run.mkdir(parents=True)
    shutil.copy(CAPTURE / "traffic.jsonl", run / "traffic.jsonl")
    manifest = json.loads((CAPTURE / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(manifest | {"session": "interactive"}))
    # Served live and never ended, as while the user is still in the session.
    reading, job = viewer_reading(run, load_target("claude-code"))
    viewer = LiveViewer(LiveData(job.traffic, reading, job.warnings)).start()
    try:
        last = json.loads((CAPTURE / "traffic.jsonl").read_text().splitlines()[-1])["timing"]
        watched = open_page(browser, viewer.server.url)
        page = watched.page
        assert wait_for(lambda: page.evaluate("TURNS.length") == 6)
        timer = page.locator("#cache-time")
        assert timer.get_attribute("role") == "timer"
        end = page.evaluate("(() => { const t = TURNS[5].timing; return t.start + t.duration_ms / 1000; })()")
        assert abs(end - last["end"]) < 0.01
        page.clock.set_fixed_time(end + 100.5)
        expected = "cache: 3 min 20 s left of 5 min since #6"
        page.wait_for_function("(text) => document.getElementById('cache-time').textContent === text", arg=expected)
        page.clock.set_fixed_time(end + 306.5)
        lapsed = "cache lapsed 6 s ago: the next turn re-reads its whole input"
        page.wait_for_function("(text) => document.getElementById('cache-time').textContent === text", arg=lapsed)
        assert timer.get_attribute("class") == "bad"
        # A side call of the main agent on another model (a title request) has a cache of its own: the count is the
        # main model's, from its last turn before the side call.
        side_call = "(() => { const model = TURNS[5].model; TURNS[5].model = 'claude-haiku-45'; const n = "
        side_call += "lastCacheTurn().n; TURNS[5].model = model; return [n, lastCacheTurn().n]; })()"
        assert page.evaluate(side_call) == [1, 6]
        assert timer.get_attribute("title") == f"the prompt cache's lifetime after #6 ended: {ANTHROPIC_DEFAULT}"
        page.locator("header.top").screenshot(path=tmp_path / "countdown.png")
        # The countdown's line, by axe-core (the whole page is checked in test_viewer_accessibility: here the list
        # is redrawn as the live header comes, under axe's feet).
        page.evaluate(AXE.axe_script)
        found = page.evaluate(
            "axe.run('header.top', {resultTypes: ['violations']}).then((r) => r.violations.map((v) => v.impact))"
        )
        assert not SERIOUS & set(found)
        assert re.fullmatch(r"live: 6 exchanges, updated [0-9:]{8}", page.locator("#live-status").inner_text())
        assert_quiet(watched)
        watched.page.context.close()
    finally:
        viewer.close()
