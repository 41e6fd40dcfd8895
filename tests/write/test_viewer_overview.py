"""The viewer's overview in the real headless Chromium: what it shows of a run (each turn's tokens and context, the
cost, the prompt cache, the tool calls, the agent tree) held to figures worked out here from turns.jsonl, the
capture's own headers and the sample price file, and its charts read and driven by keyboard and pointer."""

import json
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange
from playwright.sync_api import expect
from price_oracle import lines, price_file, spends, turn_cost
from test_agent_tree import expected_names, expected_tree
from test_viewer import analysed, assert_quiet, follow

from probe.analyse.prices import prices_from
from probe.write import insight_lines
from probe.write.viewer import page_budget
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
# The tests of the two sub-agent captures, kept on one test process: each is analysed once, not once on each.
ON_THE_SUBAGENTS = pytest.mark.xdist_group("viewer-subagents")
SAMPLE_PRICES = PROJECT_ROOT / "data" / "sample-prices.yaml"
SUBAGENTS = PROJECT_ROOT / "tests" / "data" / "subagents"
GROUPS = ["instructions", "tool definitions", "instructions in the history", "user text", "assistant text",
          "reasoning", "tool calls", "tool results", "images and files", "other", "kept by the server",
          "not attributed"]  # fmt: skip


@dataclass
class Run:
    folder: Path
    turns: list[dict]
    records: list[dict]  # insight.jsonl

    @property
    def page(self) -> Path:
        return self.folder / "report.html"

    def insight(self, record: str) -> list[dict]:
        return [each for each in self.records if each["record"] == record]


def analysed_copy(source: Path, target: str, folder: Path) -> Run:
    """The capture in `source`, analysed afresh in `folder` with the sample price file alone."""
    folder.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(source / name, folder / name)
    with prices_from(SAMPLE_PRICES):
        analysed(folder / "traffic.jsonl", target, folder)
    return Run(folder, lines(folder / "turns.jsonl"), lines(folder / "insight.jsonl"))


@pytest.fixture(scope="module", params=["codex", "claude-code"])
def subagents(request, browser, tmp_path_factory):
    """A committed capture of an agent spawning a child that spawns a grandchild, with its page open."""
    run = analysed_copy(SUBAGENTS / request.param, request.param, tmp_path_factory.mktemp("run") / request.param)
    watched = open_page(browser, run.page)
    yield watched, run
    assert_quiet(watched)
    watched.page.context.close()


# ---- figures worked out here ------------------------------------------------------------------------------


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def dollars(usd: Decimal) -> str:
    return f"${usd:,.4f}"


def costs(run: Run) -> dict[int, Decimal | None]:
    """Each turn that spent tokens, priced from the usage its API sent and the sample price file."""
    prices = price_file(SAMPLE_PRICES)
    return {turn["number"]: turn_cost(turn, prices) for turn in run.turns if spends(turn)}


def group_of(category: dict) -> str:
    if category["kind"] in ("instructions", "tools"):
        return {"instructions": "instructions", "tools": "tool definitions"}[category["kind"]]
    name = category["name"]
    return "tool results" if name.startswith("tool results") else name if name in GROUPS else "other"


def window_words(record: dict) -> str:
    """What the readout says of a turn's share of its context window (its record of insight.jsonl)."""
    window = record["window"]
    if window["tokens"] is None:
        return "window unknown"
    return f"window: {record['share'] * 100:.1f}% of {window['tokens']:,} ({window['source']})"


def readout(run: Run, number: int) -> str:
    """What the charts' readout says of turn `number`: its usage as turns.jsonl has it, its context split by group
    (which adds up to its input), its cost from the price file."""
    turn = run.turns[number - 1]
    record = next(each for each in run.insight("turn") if each["number"] == number)
    agent_of, _, spawned = expected_tree(run.folder)
    head = f"#{number} ({expected_names(run.folder, spawned)[agent_of[number]]})"  # the agent that made it
    if not spends(turn):
        counted = (turn["usage"] or {}).get("input")
        reported = "" if counted is None else f" (input {counted:,} reported: a token count or a failed request)"
        return f"{head}: no tokens spent{reported}"
    usage = turn["usage"]
    split: Counter = Counter()
    for category in record["context"]["categories"]:
        split[group_of(category)] += category["tokens"]
    assert sum(split.values()) == usage["input"]
    parts = ", ".join(f"{group} {split[group]:,}" for group in GROUPS if split[group])
    read, spent_input = usage["cache_read"], usage["input"]
    rate = f"{read / spent_input * 100:.1f}%" if read is not None and spent_input else "—"
    cost = costs(run)[number]
    shown = [head, f"input {count(spent_input)} ({parts})", f"cache read {count(read)}",
             f"cache write {count(usage['cache_write'])}", f"hit rate {rate}", f"output {count(usage['output'])}",
             f"reasoning {count(usage['reasoning'])}", window_words(record),
             "cost " + (dollars(cost) if cost is not None else "unknown")]  # fmt: skip
    if record["cache"]["cause"]:
        shown.append("cache break: " + record["cache"]["cause"]["text"])
    return " · ".join(shown)


def tool_calls(run: Run) -> dict[str, tuple[int, int | None]]:
    """Each call id: the turn whose answer asked for it, and the first request that carried its result."""
    asked: dict[str, int] = {}
    answered: dict[str, int] = {}
    for turn in run.turns:
        for item in turn["input"]:
            for part in item["parts"]:
                if part["kind"] == "tool_result" and part["call_id"] in asked:
                    answered.setdefault(part["call_id"], turn["number"])
        for item in turn["output"]:
            for part in item["parts"]:
                if part["kind"] == "tool_call":
                    asked.setdefault(part["call_id"], turn["number"])
    return {call: (turn, answered.get(call)) for call, turn in asked.items()}


# ---- the page ---------------------------------------------------------------------------------------------


@ON_THE_SUBAGENTS
def test_the_page_opens_on_the_overview_and_comes_back_to_it_from_a_turn(subagents, browser):
    _watched, run = subagents
    fresh = open_page(browser, run.page, viewport=(1400, 900))
    page = fresh.page
    box = page.locator("#overview").bounding_box()
    assert 0 <= box["y"] < 900 and box["y"] + box["height"] <= 900  # all of it on one screen
    assert page.evaluate("document.querySelector('main').scrollTop") == 0
    assert page.evaluate("location.hash") == ""
    assert page.locator("#overview h2").inner_text() == "Overview"
    assert_quiet(fresh)
    fresh.page.context.close()
    last = run.turns[-1]["number"]
    linked = open_page(browser, run.page, viewport=(1400, 900), fragment=f"#turn-{last}")
    page = linked.page
    heading = page.locator(f"#turn-{last}").bounding_box()
    assert 0 <= heading["y"] < 900 and page.locator(".row.selected .n").inner_text() == f"#{last}"
    page.locator("button.to-overview").click()
    assert page.evaluate("document.querySelector('main').scrollTop") == 0
    assert 0 <= page.locator("#overview").bounding_box()["y"] < 900
    assert_quiet(linked)
    linked.page.context.close()


def marked_in_charts(page, number: int) -> bool:
    """Whether the charts mark turn `number`: its column, above any bar, is painted."""
    return page.evaluate(f"""CHARTS.every((u) => u.ctx.getImageData(
        Math.round(u.valToPos({number}, 'x', true)), u.bbox.top + 2, 1, 1).data[3] > 0)""")


@ON_THE_SUBAGENTS
def test_back_from_a_turn_followed_from_the_overview_shows_it_again_and_forward_the_turn(subagents, browser, tmp_path):
    _watched, run = subagents
    fresh = open_page(browser, run.page, viewport=(1400, 900))
    page = fresh.page
    main = "document.querySelector('main').scrollTop"
    link = page.locator("#overview a.turn-link").last
    target = int(link.get_attribute("href").removeprefix("#turn-"))
    assert target > 1  # a turn other than the one shown below the overview
    # The page opens on the overview: the first turn is shown below it, but no chart marks it as if it stood out.
    assert not marked_in_charts(page, 1) and not marked_in_charts(page, target)
    page.evaluate(f"{main} = 40")  # where the reader was; Back is to bring them there again
    page.wait_for_timeout(300)
    left_at = page.locator("#overview").bounding_box()["y"]
    follow(link, page, target)
    assert page.evaluate("location.hash") == f"#turn-{target}"
    assert page.locator("#turn h2").inner_text().startswith(f"#{target} ")
    assert 0 <= page.locator(f"#turn-{target}").bounding_box()["y"] < 900  # the turn, not the overview, on screen
    assert marked_in_charts(page, target) and not marked_in_charts(page, 1)
    page.screenshot(path=tmp_path / "turn.png")
    page.go_back()
    expect(page.locator(".row.selected .n")).to_have_text("#1")
    assert page.evaluate("location.hash") == "" and page.url == fresh.url
    assert page.evaluate(main) == 40
    assert page.locator("#overview").bounding_box()["y"] == left_at  # the overview on screen, as it was left
    assert page.locator("#turn h2").inner_text().startswith("#1 ")
    assert not marked_in_charts(page, 1) and not marked_in_charts(page, target)
    page.screenshot(path=tmp_path / "back.png")
    page.go_forward()
    expect(page.locator(".row.selected .n")).to_have_text(f"#{target}")
    assert page.evaluate("location.hash") == f"#turn-{target}"
    assert 0 <= page.locator(f"#turn-{target}").bounding_box()["y"] < 900
    # The Overview button is a step too: Back from it returns to the turn.
    page.locator("button.to-overview").click()
    assert page.evaluate("location.hash") == "" and page.evaluate(main) == 0
    page.go_back()
    expect(page.locator(".row.selected .n")).to_have_text(f"#{target}")
    assert page.evaluate("location.hash") == f"#turn-{target}"
    assert 0 <= page.locator(f"#turn-{target}").bounding_box()["y"] < 900
    assert_quiet(fresh)
    fresh.page.context.close()


def test_a_page_that_kept_a_long_runs_ends_gives_totals_and_cost_over_the_same_turns(browser, tmp_path, monkeypatch):
    # 300 priced exchanges, each a different size, on a page held to a smaller limit than 25 MB: the page keeps its
    # first and last turns, and its headline's tokens and cost are both theirs; the cost card is the whole run's.
    # (The script and style take about 260,000 bytes: room above them for several turns, whatever a header line takes.)
    monkeypatch.setattr(page_budget, "PAGE_LIMIT", 470_000)
    lines = []
    for n in range(1, 301):
        usage = {"input_tokens": 1000 + n, "output_tokens": n}
        answer = "event: response.completed\ndata: " + json.dumps(
            {"type": "response.completed", "response": {"id": f"r{n}", "output": [], "usage": usage}}
        )
        lines.append(
            captured_exchange("/v1/responses", {"model": "gpt-6.1-sol", "input": f"task {n}"}, answer + "\n\n")
        )
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with prices_from(SAMPLE_PRICES):
        watched = open_page(browser, analysed(traffic, "codex", tmp_path / "run"))
    page = watched.page
    kept = [int(n) for n in page.evaluate("TURNS.map((turn) => turn.n)")]
    assert 1 in kept and 300 in kept and len(kept) < 300
    headline = page.locator("[data-fact='turns'] dd").inner_text()
    scope = "the totals and cost here are theirs"
    assert headline == f"{len(kept)} of the run's 300, its first and last ({len(kept)} with usage): {scope}"
    assert page.locator("[data-fact='input'] dd").inner_text() == f"{sum(1000 + n for n in kept):,}"
    assert page.locator("[data-fact='output'] dd").inner_text() == f"{sum(kept):,}"
    usd = lambda turns: sum(Decimal(1000 + n) * 2 / 10**6 + Decimal(n) * 10 / 10**6 for n in turns)  # noqa: E731
    assert page.locator("[data-fact='cost'] dd").inner_text() == dollars(usd(kept))
    card = page.locator(".ov-cost")
    assert card.locator(".ov-total").inner_text() == f"{dollars(usd(range(1, 301)))} for 300 turns, every turn priced"
    assert card.locator(".ov-scope").inner_text() == (
        f"The whole run's, all 300 turns; the headline's cost is the {len(kept)} this page holds."
    )
    page.locator("#overview").screenshot(path=tmp_path / "kept.png")
    assert_quiet(watched)
    watched.page.context.close()


@ON_THE_SUBAGENTS
def test_the_headline_and_every_turns_readout_give_the_runs_numbers(subagents):
    watched, run = subagents
    page = watched.page
    spent = [turn for turn in run.turns if spends(turn)]
    assert page.locator("[data-fact='turns'] dd").inner_text() == f"{len(run.turns)} ({len(spent)} with usage)"
    for kind, field in (("input", "input"), ("cache read", "cache_read"), ("cache write", "cache_write"),
                        ("output", "output"), ("reasoning", "reasoning")):  # fmt: skip
        reported = [turn["usage"][field] for turn in spent if turn["usage"][field] is not None]
        expected = "not reported" if not reported else f"{sum(reported):,}"
        if reported and len(reported) < len(spent):
            expected += f" ({len(reported)} of the {len(spent)})"
        assert page.locator(f"[data-fact='{kind}'] dd").inner_text() == expected
    # Focused, the charts' cursor starts on the selected turn (the first), and the arrows step through every turn.
    page.locator("#turn-1").evaluate("node => node.closest('main').scrollTop = 0")
    page.locator(".ov-charts").focus()
    for turn in run.turns:
        if turn["number"] > 1:
            page.keyboard.press("ArrowRight")
        assert page.locator("#ov-readout").inner_text() == readout(run, turn["number"])
    assert page.locator("#ov-readout").get_attribute("aria-live") == "polite"
    assert "estimated with o200k_base" in page.locator(".ov-charts").inner_text()


@ON_THE_SUBAGENTS
def test_the_keyboard_reads_turn_2_and_enter_or_a_click_selects_a_turn(subagents):
    watched, run = subagents
    page = watched.page
    page.locator(".row[data-turn='1']").click()
    page.locator(".ov-charts").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#ov-readout").inner_text() == readout(run, 2)
    page.keyboard.press("Enter")
    assert page.locator(".row.selected .n").inner_text() == "#2"
    # A click on a turn's slot selects it, and the charts mark it: its column differs from an unselected one.
    target = run.turns[-2]["number"]
    page.evaluate("document.querySelector('main').scrollTop = 0")
    x, y = page.evaluate(f"""(() => {{ const u = CHARTS[0], box = u.over.getBoundingClientRect();
        return [box.left + u.valToPos({target}, 'x'), box.top + box.height - 2]; }})()""")
    page.mouse.click(x, y)
    assert page.locator(".row.selected .n").inner_text() == f"#{target}"
    marked, unmarked = page.evaluate(f"""(() => {{ const u = CHARTS[1], y = u.bbox.top + 2;
        const at = (n) => [...u.ctx.getImageData(Math.round(u.valToPos(n, 'x', true)), y, 1, 1).data];
        return [at({target}), at({target - 1})]; }})()""")
    assert marked != unmarked and unmarked[3] == 0


@ON_THE_SUBAGENTS
def test_the_cost_by_model_and_agent_is_the_price_files(subagents):
    watched, run = subagents
    page = watched.page
    priced = costs(run)
    assert all(usd is not None for usd in priced.values())
    card = page.locator(".ov-cost")
    total = dollars(sum(priced.values()))
    assert card.locator(".ov-total").inner_text() == f"{total} for {len(priced)} turns, every turn priced"
    by_model: dict[str, list[Decimal]] = defaultdict(list)
    for turn in run.turns:
        if turn["number"] in priced:
            by_model[turn["model"]].append(priced[turn["number"]])
    rows = [row.split("\t") for row in card.locator(".ov-by-model tbody tr").all_inner_texts()]
    assert rows == [[model, str(len(spent)), "0", dollars(sum(spent))] for model, spent in by_model.items()]
    agent_of, _parents, _spawned = expected_tree(run.folder)
    by_agent = {agent["id"]: agent["name"] for agent in run.insight("agent")}
    rows = dict(row.split("\t") for row in card.locator(".ov-by-agent tbody tr").all_inner_texts())
    for agent, name in by_agent.items():
        mine = [usd for number, usd in priced.items() if agent_of[number] == agent]
        assert rows[name] == dollars(sum(mine))
        assert f"cost {dollars(sum(mine))}" in page.locator(f".ov-tree li[data-agent='{agent}']").first.inner_text()
    assert "sample-prices.yaml" in card.locator(".ov-prices").inner_text()


def test_unknown_prices_are_unknown_with_their_reason_never_0(browser, tmp_path):
    [sample] = (PROJECT_ROOT / "data" / "qwen-code").glob("*-sample-*")
    run = analysed_copy(sample, "qwen-code", tmp_path / "qwen")
    priced = costs(run)
    assert priced and all(usd is None for usd in priced.values())  # gpt-4.1 is not in the sample price file
    [model] = {turn["model"] for turn in run.turns if spends(turn)}
    watched = open_page(browser, run.page)
    card = watched.text(".ov-cost")
    assert f"unknown: none of the {len(priced)} turns with usage has a known price" in card
    assert f"unknown: no price for {model} in sample-prices.yaml" in card and f"({len(priced)} turns left out)" in card
    assert "$0.0000" not in watched.text("#overview")
    assert watched.page.locator("[data-fact='cost'] dd").inner_text() == "unknown"
    assert_quiet(watched)
    watched.page.context.close()


@ON_THE_SUBAGENTS
def test_cache_breaks_are_listed_with_their_cause_and_lead_to_their_turn(subagents):
    watched, run = subagents
    page = watched.page
    breaks = [each for each in run.insight("turn") if each["cache"] and each["cache"]["cause"]]
    items = page.locator(".ov-breaks li")
    assert page.locator(".ov-cache h4").inner_text() == f"Cache breaks ({len(breaks)})"
    assert items.count() == len(breaks)
    for item, record in zip(items.all(), breaks, strict=True):
        number, before = record["number"], record["cache"]["compared_with"]
        # A break: fewer tokens read from the cache than the turn it is compared with left there (read, plus
        # written where the API reports it), as turns.jsonl says.
        left = run.turns[before - 1]["usage"]
        assert run.turns[number - 1]["usage"]["cache_read"] < (left["cache_read"] or 0) + (left["cache_write"] or 0)
        text = record["cache"]["cause"]["text"]
        assert item.inner_text().startswith(f"cache break at #{number} against #{before}: {text}")
        assert item.locator("a").first.get_attribute("href") == f"#turn-{number}"
        follow(item.locator("a").first, page, number)
    if run.folder.name == "codex":
        # The mock that recorded it counted each continuation by response id as its new input only: its cached
        # tokens fell three times, and the capture cannot tell what the cache could read, so none is a break.
        assert len(breaks) == 0 and page.locator(".ov-breaks li").count() == 0
        drops = [each for each in run.insight("turn") if each["cache"] and each["cache"].get("drop")]
        assert len(drops) == 3 and {drop["cache"]["drop"]["kind"] for drop in drops} == {"uncounted"}


@ON_THE_SUBAGENTS
def test_every_tool_call_is_listed_from_the_turn_that_asked_to_the_one_that_answered(subagents):
    watched, run = subagents
    page = watched.page
    calls = tool_calls(run)
    assert page.locator(".ov-tools h3").inner_text() == f"Tool calls ({len(calls)})"
    shown = {}
    for row in page.locator(".ov-calls tbody tr").all():
        links = row.locator("td").first.locator("a").all_inner_texts()
        shown[row.get_attribute("data-call")] = tuple(int(link.lstrip("#")) for link in links)
    assert shown == {call: (asked, answered) for call, (asked, answered) in calls.items()}
    rows = [row.split("\t") for row in page.locator(".ov-tool-totals tbody tr").all_inner_texts()]
    tools = run.insight("run")[0]["tools"]
    expected = {name: [str(stats[key]) for key in ("calls", "answered", "failed")] for name, stats in tools.items()}
    assert {row[0]: row[1:4] for row in rows} == expected
    assert sum(stats["calls"] for stats in tools.values()) == len(calls)


@ON_THE_SUBAGENTS
def test_the_agent_tree_is_the_captures(subagents):
    watched, run = subagents
    page = watched.page
    agent_of, parent_of, spawned = expected_tree(run.folder)
    items = page.locator(".ov-tree li")
    assert items.count() == len(set(agent_of.values())) == 3
    for item in items.all():
        agent = item.get_attribute("data-agent")
        parent = item.evaluate("node => node.parentElement.closest('li')?.dataset.agent ?? null")
        assert parent == parent_of.get(agent)
        numbers = [number for number, owner in agent_of.items() if owner == agent]
        facts = item.locator(":scope > .ov-agent-facts").inner_text()
        assert facts.startswith(f"{len(numbers)} requests from #{numbers[0]}")
        mine = [turn for turn in run.turns if agent_of[turn["number"]] == agent and spends(turn)]
        assert f"input {sum(turn['usage']['input'] for turn in mine):,}" in facts
        if agent in spawned:
            [asking] = [turn["number"] for turn in run.turns if any(
                part["call_id"] == spawned[agent] for item in turn["output"] for part in item["parts"])]  # fmt: skip
            assert f"spawned in #{asking} by " in facts
        else:
            assert "spawned" not in facts


@ON_THE_SUBAGENTS
def test_narrow_panes_and_the_dark_scheme(subagents, browser):
    _watched, run = subagents
    narrow = open_page(browser, run.page, viewport=(600, 900))
    page = narrow.page
    # Nothing in the overview is wider than the pane (what is wider is clipped inside a cell, never scrolled).
    assert page.evaluate("""(() => { const box = document.getElementById('overview'), main = box.parentElement;
        const right = main.getBoundingClientRect().left + main.clientWidth;
        return box.scrollWidth <= box.clientWidth && box.getBoundingClientRect().right <= right; })()""")
    rights = page.locator(".ov-charts canvas").evaluate_all("(all) => all.map((c) => c.getBoundingClientRect().right)")
    figure = page.locator(".ov-charts").bounding_box()
    assert len(rights) == 3 and max(rights) <= figure["x"] + figure["width"]
    # The charts read their colours from the page's variables when they draw: an output bar takes the scheme's.
    spent = next(turn for turn in run.turns if spends(turn) and turn["usage"]["output"])
    probe = f"""() => {{ const u = CHARTS[2], y = Math.round(u.valToPos({spent["usage"]["output"]} - 1, 'y', true));
        const pixel = u.ctx.getImageData(Math.round(u.valToPos({spent["number"]}, 'x', true)), y, 1, 1).data;
        return [...pixel.slice(0, 3)].map((value) => value.toString(16).padStart(2, "0")).join(""); }}"""
    wanted = {"light": "e07b39", "dark": "f0883e"}  # overview.css's --ov-output, in each scheme
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_function(f"() => ({probe})() === '{wanted[scheme]}'")  # redrawn when the scheme changes
    assert_quiet(narrow)
    narrow.page.context.close()


# ---- a long run -------------------------------------------------------------------------------------------


def long_run(folder: Path, turns: int) -> Path:
    """A Responses conversation of `turns` exchanges, each continuing the one before by its id with the result of
    the tool call it asked for."""
    folder.mkdir(parents=True)
    with (folder / "traffic.jsonl").open("w") as out:
        for n in range(1, turns + 1):
            given = [{"type": "function_call_output", "call_id": f"call_{n - 1}", "output": "ok"}] if n > 1 else []
            body = {"model": "gpt-6.1-sol", "input": [*given, {"type": "message", "role": "user",
                    "content": [{"type": "input_text", "text": f"step {n}"}]}], "previous_response_id": f"resp_{n - 1}",
                    "tools": [{"type": "function", "name": "shell", "parameters": {}}]}  # fmt: skip
            call = {"type": "function_call", "name": "shell", "call_id": f"call_{n}", "arguments": "{}"}
            usage = {"input_tokens": 100 + n, "output_tokens": 10, "input_tokens_details": {"cached_tokens": 50}}
            events = [{"type": "response.output_item.done", "item": call},
                      {"type": "response.completed", "response": {"id": f"resp_{n}", "usage": usage}}]  # fmt: skip
            stream = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
            start = 1000.0 + n
            timing = {"start": start, "first_byte": start + 0.01, "end": start + 0.2}
            entry = captured_exchange(request_body=body, response_body=stream, timing=timing)
            out.write(json.dumps(entry) + "\n")
    return folder / "traffic.jsonl"


def test_a_thousand_turns_are_drawn_from_arrays_with_no_node_per_turn(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(insight_lines, "PAGE_TOOL_CALLS", 300)  # the page lists so many calls, insight.jsonl all
    small = open_page(browser, analysed(long_run(tmp_path / "small", 3), "codex", tmp_path / "small"))
    nodes = small.page.evaluate("document.querySelectorAll('.ov-charts *').length")
    small.page.context.close()
    watched = open_page(browser, analysed(long_run(tmp_path / "long", 1000), "codex", tmp_path / "long"))
    page = watched.page
    turns = lines(tmp_path / "long" / "turns.jsonl")
    assert len(turns) == 1000 and page.evaluate("CHARTS.map((chart) => chart.data[0].length)") == [1000] * 3
    assert page.evaluate("document.querySelectorAll('.ov-charts *').length") == nodes
    assert page.locator(".ov-charts canvas").count() == 3
    page.locator(".ov-charts").focus()
    page.keyboard.press("End")
    assert page.locator("#ov-readout").inner_text().startswith("#1000 · input 1,100 (")
    # The calls are listed a few hundred at a time, and those the page does not hold are counted.
    assert page.locator(".ov-calls tbody tr").count() == 200
    page.locator("button.ov-more").click()
    assert page.locator(".ov-calls tbody tr").count() == 300 and page.locator("button.ov-more").is_hidden()
    calls = tool_calls(Run(tmp_path / "long", turns, []))
    assert len(calls) == 1000 and calls["call_999"] == (999, 1000) and calls["call_1000"] == (1000, None)
    assert page.locator(".ov-left-out").inner_text() == f"{len(calls) - 300} more in insight.jsonl"
    assert page.locator(".ov-tools h3").inner_text() == f"Tool calls ({len(calls):,})"
    # A live page tells of turns added, then of the header that came with them: the charts take the turns, the
    # headline the header's news.
    page.evaluate("""() => { TURNS.push({ ...TURNS[TURNS.length - 1], n: 1001 }); byNumber.set(1001, TURNS.length - 1);
        tell("added", TURNS.length - 1); }""")
    assert page.evaluate("CHARTS.map((chart) => chart.data[0].at(-1))") == [1001] * 3
    assert page.locator("[data-fact='turns'] dd").inner_text() == "1,000 (1,000 with usage)"
    page.evaluate('tell("header")')
    assert page.locator("[data-fact='turns'] dd").inner_text() == "1,001 (1,001 with usage)"
    assert_quiet(watched)
    watched.page.context.close()
