"""The viewer's sidebar in the real headless Chromium: what each row says, the filters, the keyboard, a list of
5,000 turns, a live page's new turns and a narrow screen."""

import json
import re
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange
from playwright.sync_api import expect
from test_viewer import analysed, assert_quiet

from probe.read.whole_turns import whole_turns
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
# The tests of the thirty-turn page, kept on one test process: the page is made once, not once on each.
ON_THIRTY_TURNS = pytest.mark.xdist_group("viewer-thirty-turns")

SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
TOOLS = ["exec", "read_file", "apply_patch", "web.search", "clock.sleep"]


def sse(events: list[dict]) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def exchange(n: int) -> dict:
    """Turn `n` of a made-up run: two turns in three call a tool (some twice), a few fail or are cut off, every
    eleventh is a sub-agent's, every seventh asks another model."""
    tools = [TOOLS[n % len(TOOLS)]] * (1 + n % 2) if n % 3 else []
    output = [
        {"type": "function_call", "name": name, "call_id": f"c{n}_{i}", "arguments": "{}"}
        for i, name in enumerate(tools)
    ]
    if not tools:
        answer = [{"type": "output_text", "text": f"answer number {n}"}]
        output.append({"type": "message", "role": "assistant", "content": answer})
    events = [{"type": "response.created", "response": {"id": f"r{n}", "model": "m"}}]
    events += [{"type": "response.output_item.done", "item": item} for item in output]
    usage = {"input_tokens": 100 + n, "output_tokens": n % 50, "input_tokens_details": {"cached_tokens": 50}}
    events.append({"type": "response.completed", "response": {"id": f"r{n}", "status": "completed", "usage": usage}})
    question = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"question {n}"}]}
    body = {"model": "small" if n % 7 == 0 else "big", "input": [question]}
    headers = [["content-type", "application/json"]] + ([["x-claude-code-agent-id", "helper"]] if n % 11 == 0 else [])
    cut = {"complete": False, "error": "Client disconnected."} if n % 17 == 0 else {}
    start = 1000.0 + n
    return captured_exchange(
        "/v1/responses", body, sse(events), status=500 if n % 13 == 0 else 200, request_headers=headers,
        timing={"start": start, "first_byte": start + 0.01, "end": start + 0.2}, id=f"f{n}", **cut,
    )  # fmt: skip


def made_up_run(folder: Path, count: int) -> tuple[Path, list[dict], dict[int, str]]:
    """report.html of `count` made-up turns, with turns.jsonl's records and each turn's agent from insight.jsonl."""
    folder.mkdir(parents=True)
    (folder / "traffic.jsonl").write_text("".join(json.dumps(exchange(n)) + "\n" for n in range(1, count + 1)))
    page = analysed(folder / "traffic.jsonl", "codex", folder)
    turns = list(whole_turns(folder / "turns.jsonl"))
    records = [json.loads(line) for line in (folder / "insight.jsonl").read_text().splitlines()]
    agents = {record["number"]: record["agent"] for record in records if record["record"] == "turn"}
    return page, turns, agents


def calls(turn: dict) -> list[str]:
    return [part["name"] for item in turn["output"] for part in item["parts"] if part["kind"] == "tool_call"]


def shown(page) -> list[int]:
    """The turns whose rows are in the page, in order."""
    numbers = page.locator("#timeline .row").evaluate_all("rows => rows.map((row) => row.dataset.turn)")
    return [int(number) for number in numbers]


def selected(page) -> str:
    return page.locator(".row.selected .n").inner_text()


def choose(page, control: str, label_start: str) -> None:
    """Picks the option of a filter labelled `label_start`, followed by its count of turns but for "All …"."""
    select = page.locator(f"select[data-filter={control}]")
    labels = select.locator("option").all_text_contents()
    [label] = [label for label in labels if label == label_start or label.startswith(label_start + " (")]
    select.select_option(label=label)


@pytest.fixture(scope="module")
def sample_page(browser, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sidebar-sample")
    page = analysed(SAMPLE / "traffic.jsonl", "codex", folder)
    turns = list(whole_turns(folder / "turns.jsonl"))
    watched = open_page(browser, page)
    yield watched, turns
    watched.page.context.close()


@pytest.fixture(scope="module")
def thirty(browser, tmp_path_factory):
    page, turns, agents = made_up_run(tmp_path_factory.mktemp("sidebar-thirty") / "run", 30)
    watched = open_page(browser, page)
    yield watched, turns, agents
    watched.page.context.close()


def test_each_row_names_the_tools_asked_for_the_stop_reason_a_preview_and_the_tokens(sample_page):
    watched, turns = sample_page
    page = watched.page
    assert shown(page) == [turn["number"] for turn in turns]
    for turn in turns:
        row = page.locator(f".row[data-turn='{turn['number']}']")
        assert row.locator(".n").inner_text() == f"#{turn['number']}"
        if calls(turn):
            assert row.locator(".calls").inner_text() == ", ".join(calls(turn))
        else:  # no tool asked for: the method and the path's end
            assert row.locator(".calls").inner_text() == f"{turn['method']} responses"
        if turn["stop_reason"]:
            assert row.locator(".stop").inner_text() == turn["stop_reason"]
        texts = [part["text"] for item in turn["output"] for part in item["parts"] if part["kind"] == "text"]
        if texts:
            assert row.locator(".preview").inner_text() == " ".join(texts[0][:400].split())[:200]
        if turn["usage"]:
            used = row.locator(".tokens")
            assert used.inner_text() == f"{turn['usage']['input']:,} in · {turn['usage']['output']:,} out"
            cached = turn["usage"]["cache_read"]
            assert f"cache read {cached:,}" in used.get_attribute("title")
        # The method and the whole path are the row's title, and the selected row shows them.
        status = turn["status"]
        assert row.get_attribute("title") == f"{turn['method']} {turn['path']} → {status} (model)"
    # The first exchange was refused: its row is marked, its preview is the error.
    refused = page.locator(".row[data-turn='1']")
    assert refused.locator(".mark.error").inner_text() == "error 426" and turns[0]["status"] == 426
    assert "WebSocket transport disabled by the mock" in refused.locator(".preview").inner_text()
    # The turn that asked for a tool, found from the capture: its row previews what the user asked.
    [calling] = [turn for turn in turns if calls(turn)]
    row = page.locator(f".row[data-turn='{calling['number']}']")
    assert row.locator(".preview").inner_text() == "user: write a hello world function"
    assert row.get_attribute("aria-selected") == "false" and row.get_attribute("aria-current") is None
    row.click()
    assert row.get_attribute("aria-current") == "true" and row.get_attribute("aria-selected") == "true"
    assert row.locator(".where").inner_text() == "POST /v1/responses → 200 (model)"
    assert page.locator("#turn h2").inner_text().startswith(f"#{calling['number']} POST")
    heights = page.locator(".row:not(.selected)").evaluate_all("rows => rows.map(r => r.offsetHeight)")
    assert heights and max(heights) <= 34
    assert page.locator("#turn-count").inner_text() == f"{len(turns)} of {len(turns)} turns"
    # The tool filter keeps exactly the turns whose output asked for the tool.
    choose(page, "tool", calls(calling)[0])
    assert shown(page) == [turn["number"] for turn in turns if calls(calling)[0] in calls(turn)]
    page.get_by_role("button", name="Clear").click()
    assert shown(page) == [turn["number"] for turn in turns]
    assert_quiet(watched)


@ON_THIRTY_TURNS
def test_the_filters_show_exactly_the_turns_they_name(thirty):
    watched, turns, agents = thirty
    page = watched.page
    by_number = {turn["number"]: turn for turn in turns}
    count = page.locator("#turn-count")
    # The choices come from the data, each with how many turns it holds.
    tool_labels = page.locator("select[data-filter=tool] option").all_text_contents()
    expected_tools = sorted({name for turn in turns for name in calls(turn)})
    assert tool_labels[1:-1] == [f"{name} ({sum(name in calls(turn) for turn in turns)})" for name in expected_tools]
    assert tool_labels[-1] == f"(no tool call) ({sum(not calls(turn) for turn in turns)})"

    def expect_rows(numbers: list[int]) -> None:
        assert shown(page) == numbers
        expect(count).to_have_text(re.compile(rf"{len(numbers)} of 30 turns( · #\d+ is filtered out)?"))

    choose(page, "tool", "exec")
    expect_rows([turn["number"] for turn in turns if "exec" in calls(turn)])
    assert all(row.startswith("exec") for row in page.locator(".row .calls").all_inner_texts())
    page.locator("input[data-filter=errors]").check()  # combined with errors only
    troubled = [n for n, turn in by_number.items() if turn["status"] >= 400 or turn["errors"] or not turn["complete"]]
    expect_rows([n for n in troubled if "exec" in calls(by_number[n])])
    page.get_by_role("button", name="Clear").click()
    expect_rows(list(by_number))
    choose(page, "status", "cut off")
    expect_rows([turn["number"] for turn in turns if not turn["complete"]])
    assert page.locator(".row .mark.incomplete").all_inner_texts() == ["cut off"]
    choose(page, "status", "error")
    expect_rows([turn["number"] for turn in turns if (turn["status"] >= 400 or turn["errors"]) and turn["complete"]])
    choose(page, "status", "All statuses")
    # The agent "helper" is a sub-agent no call named: it is called so, its id only beside the name.
    choose(page, "agent", "sub-agent")
    expect_rows([n for n, agent in agents.items() if agent == "helper"])
    assert set(page.locator(".row .agent").all_inner_texts()) == {"sub-agent"}  # two agents: rows name theirs
    assert set(page.locator(".row .agent").evaluate_all("(all) => all.map((span) => span.title)")) == {"helper"}
    choose(page, "agent", "All agents")
    choose(page, "model", "small")
    expect_rows([turn["number"] for turn in turns if turn["model"] == "small"])
    # The search's matches narrow the list further; cleared, the filters alone count again.
    page.fill("#search", "answer number")
    page.locator("#search").press("Enter")
    answered = [turn["number"] for turn in turns if not calls(turn)]
    expect_rows([turn["number"] for turn in turns if turn["model"] == "small" and turn["number"] in answered])
    page.fill("#search", "")
    page.locator("#search").press("Enter")
    expect_rows([turn["number"] for turn in turns if turn["model"] == "small"])
    page.get_by_role("button", name="Clear").click()
    expect_rows(list(by_number))
    assert_quiet(watched)


@ON_THIRTY_TURNS
def test_the_list_is_one_tab_stop_moved_through_with_the_keys(thirty):
    watched, turns, _agents = thirty
    page = watched.page
    page.locator(".row[data-turn='1']").click()
    listbox = page.get_by_role("listbox", name="Turns")
    assert page.evaluate("document.activeElement.id") == "timeline"  # a click on a row focuses the list
    page.keyboard.press("ArrowDown")
    assert selected(page) == "#2" and page.locator("#turn h2").inner_text().startswith("#2 ")
    row = page.locator(".row[data-turn='2']")
    assert row.get_attribute("aria-current") == "true" and listbox.get_attribute("aria-activedescendant") == "row-2"
    assert page.locator("[aria-current=true]").count() == 1
    page.keyboard.press("End")
    assert selected(page) == "#30"
    page.keyboard.press("ArrowDown")  # the last stays the last
    page.keyboard.press("Home")
    assert selected(page) == "#1"
    page.keyboard.press("PageDown")
    assert int(selected(page)[1:]) > 10
    # One Tab stop: the next one is past the list, the one before is the filter bar's.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#timeline') === null")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "timeline"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.filters') !== null")
    # j and k go through the turns the filters show, whichever has the focus.
    choose(page, "tool", "read_file")
    reading = [turn["number"] for turn in turns if "read_file" in calls(turn)]
    page.locator(f".row[data-turn='{reading[0]}']").click()
    page.keyboard.press("j")
    assert selected(page) == f"#{reading[1]}" and page.locator("#turn h2").inner_text().startswith(f"#{reading[1]} ")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert selected(page) == f"#{reading[1]}"
    page.keyboard.press("G")
    assert selected(page) == f"#{reading[-1]}"
    page.keyboard.press("g")
    assert selected(page) == f"#{reading[0]}"
    page.get_by_role("button", name="Clear").click()
    # The skip link is the page's first Tab stop, and takes the focus to the turn without changing the address.
    assert page.evaluate("document.body.firstElementChild.id") == "skip"
    page.locator("#skip").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "turn"
    assert page.evaluate("location.hash") == f"#turn-{reading[0]}"
    assert_quiet(watched)


def test_a_live_page_lists_new_turns_and_keeps_the_selection(browser, tmp_path):
    page_path, turns, _agents = made_up_run(tmp_path / "run", 12)
    watched = open_page(browser, page_path, fragment="#turn-5")
    page = watched.page
    try:
        exec_before = sum("exec" in calls(turn) for turn in turns)
        # What a live page does as turns arrive (js/live.js): the data grows, and the views are told from where.
        page.evaluate(
            """() => {
                const first = TURNS.length;
                for (const n of [13, 14, 15]) {
                    TURNS.push({ ...TURNS[n - 13], n });  // copies of #1, #2 and #3, numbered on
                    byNumber.set(n, TURNS.length - 1);
                }
                tell("added", first);
            }"""
        )
        added = [calls(turn) for turn in turns[:3]]
        expect(page.locator("#turn-count")).to_have_text("15 of 15 turns")
        assert shown(page) == list(range(1, 16))
        assert page.locator("select[data-filter=tool] option", has_text="exec (").text_content() == (
            f"exec ({exec_before + sum('exec' in names for names in added)})"
        )
        assert selected(page) == "#5" and page.locator("#turn h2").inner_text().startswith("#5 ")
        assert page.locator(".row[data-turn='14'] .n").inner_text() == "#14"
        assert_quiet(watched)
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def five_thousand(tmp_path_factory):
    return made_up_run(tmp_path_factory.mktemp("sidebar-5000") / "run", 5000)


def test_five_thousand_turns_keep_few_rows_in_the_page(browser, five_thousand):
    page_path, turns, _agents = five_thousand
    watched = open_page(browser, page_path, fragment="#turn-4000")
    page = watched.page
    listbox = page.locator("#timeline")

    def in_view(row) -> bool:
        box, outer = row.bounding_box(), listbox.bounding_box()  # to within a pixel: the list's height has fractions
        return outer["y"] - 1 <= box["y"] and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1

    try:
        # The address selects a turn far down the list, and brings its row into view.
        row = page.locator(".row[data-turn='4000']")
        assert row.get_attribute("aria-current") == "true" and in_view(row)
        assert page.locator("#turn h2").inner_text().startswith("#4000 ")
        assert page.locator(".row").count() < 100
        height = page.locator(".row:not(.selected)").first.evaluate("row => row.offsetHeight")
        # The list is as tall as all its rows: the scroll bar tells where the rows in view are among them.
        assert abs(listbox.evaluate("list => list.scrollHeight") - 5000 * height) <= 2 * height
        listbox.evaluate("list => { list.scrollTop = list.scrollHeight; }")
        last = page.locator(".row[data-turn='5000']")
        expect(last).to_have_count(1)  # drawn once the scroll is seen
        assert last.locator(".n").inner_text() == "#5000" and in_view(last)
        assert page.locator(".row").count() < 100
        # A filter makes the list as tall as the rows it keeps.
        choose(page, "tool", "apply_patch")
        patching = sum("apply_patch" in calls(turn) for turn in turns)
        expect(page.locator("#turn-count")).to_have_text(f"{patching:,} of 5,000 turns · #4000 is filtered out")
        assert abs(listbox.evaluate("list => list.scrollHeight") - patching * height) <= 2 * height
        page.get_by_role("button", name="Clear").click()
        listbox.focus()
        page.keyboard.press("ArrowDown")
        assert selected(page) == "#4001" and in_view(page.locator(".row[data-turn='4001']"))
        assert_quiet(watched)
    finally:
        page.context.close()


@ON_THIRTY_TURNS
def test_a_narrow_screen_folds_the_list_behind_a_button(browser, thirty):
    page_path = Path(thirty[0].url.removeprefix("file://"))
    watched = open_page(browser, page_path, viewport=(600, 800))
    page = watched.page
    try:
        wide = "document.documentElement.scrollWidth"
        sidebar = page.locator("#sidebar")
        toggle = page.get_by_role("button", name="Turns")
        assert page.evaluate(wide) <= 600
        assert sidebar.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
        toggle.focus()
        page.keyboard.press("Enter")
        assert sidebar.is_visible() and toggle.get_attribute("aria-expanded") == "true"
        assert page.evaluate("document.activeElement.id") == "timeline" and page.evaluate(wide) <= 600
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")  # the turn picked is shown: the list folds away
        assert sidebar.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
        assert page.locator("#turn h2").inner_text().startswith("#2 ")
        toggle.click()
        page.keyboard.press("Escape")
        assert sidebar.is_hidden() and page.evaluate("document.activeElement.id") == "turns-toggle"
        assert page.evaluate(wide) <= 600
        assert_quiet(watched)
    finally:
        page.context.close()


@ON_THIRTY_TURNS
def test_wide_screens_show_the_list_without_the_button(thirty):
    watched, _turns, _agents = thirty
    assert watched.page.locator("#sidebar").is_visible()
    assert watched.page.locator("#turns-toggle").is_hidden()
    assert re.fullmatch(r"\d+ of 30 turns", watched.text("#turn-count"))
