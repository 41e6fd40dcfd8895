"""report.html in the real headless Chromium: what a person sees, searches and clicks, with the network blocked."""

import json
import re
from pathlib import Path

import pytest
from codex_pipeline import run_pipeline
from conftest import PROJECT_ROOT, captured_exchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from test_inert_reports import PAYLOADS, capture, manifest

from probe.analysis.report import write_report
from probe.read.whole_turns import whole_turns
from probe.runs.targets import load_target
from probe.write.viewer import page_budget
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
# The tests of the one real codex run, kept on one test process: the run is made once, not once on each.
ON_THE_CODEX_RUN = pytest.mark.xdist_group("viewer-codex-run")

# What a hostile capture would do if any of its text ran: set a flag, call home, or open a dialog.
SCRIPT_PAYLOADS = [
    "</script><script>window.__pwned=1</script>",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "<svg onload=window.__pwned=1>",
    "<!--<script>window.__pwned=1</script>-->",
    '"><script>alert(1)</script>',
    "' onmouseover='window.__pwned=1",
    "javascript:window.__pwned=1",
    "<iframe src=https://evil.example/x></iframe>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "<base href=https://evil.example/>",
    "${window.__pwned=1}",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "__proto__",
    "constructor",
    "\u2028\u2029",
    "</SCRIPT >",
    "<style>body{background:url(https://evil.example/x)}</style>",
]


def analysed(traffic: Path, target: str | None, folder: Path, manifest_data: dict | None = None) -> Path:
    """report.html for `traffic`, written into `folder` (with its manifest, if given)."""
    folder.mkdir(parents=True, exist_ok=True)
    if manifest_data is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest_data))
    report, _warnings = write_report(traffic, folder / "report.md", load_target(target) if target else None, folder)
    return report.with_suffix(".html")


def assert_quiet(watched) -> None:
    """Nothing left the page, nothing was blocked by its policy, nothing failed and no dialog opened."""
    assert watched.requests == []
    assert watched.errors == []
    assert watched.dialogs == []
    assert watched.violations() == []
    assert watched.page.evaluate("window.__pwned") is None


# Opens every collapsed part there is, and comes back once each has told of its toggle: the events that fill the
# parts just opened come a moment after the clicks, and a part's own listener, added when it was made, runs before
# the one added here. (A part that never tells is waited for a second at most, then counted as opened.)
OPEN_CLOSED_PARTS = """async () => {
    const closed = [...document.querySelectorAll("#turn details:not([open]), #run details:not([open])")];
    const told = closed.map((node) => new Promise((done) => node.addEventListener("toggle", done, { once: true })));
    closed.forEach((node) => node.querySelector("summary").click());
    await Promise.race([Promise.all(told), new Promise((done) => setTimeout(done, 1000))]);
    return closed.length;
}"""


def open_every_section(page) -> int:
    """Click every collapsed part of the turn shown, including those inside parts just opened; their count."""
    opened = 0
    for _ in range(6):  # parts are built when opened, and may hold parts of their own
        count = page.evaluate(OPEN_CLOSED_PARTS)
        opened += count
        if not count:
            break
    return opened


def selected(page) -> str:
    return page.locator(".row.selected .n").inner_text()


def follow(link, page, number: int) -> None:
    """Clicks a link to a turn and waits for the selection: a link selects on hashchange, which comes a moment later."""
    link.click()
    expect(page.locator(".row.selected .n")).to_have_text(f"#{number}")


# ---- a real codex run against the mock -------------------------------------------------------------------


@pytest.fixture(scope="module")
def codex_page(browser, tmp_path_factory, codex_program):
    result, run = run_pipeline(tmp_path_factory.mktemp("viewer-data"), codex_program, "http")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"viewer: {run / 'report.html'}" in result.stdout
    turns = list(whole_turns(run / "turns.jsonl"))
    watched = open_page(browser, run / "report.html")
    yield watched, turns, run
    watched.page.context.close()


@ON_THE_CODEX_RUN
def test_the_final_answer_and_the_run_header(codex_page):
    watched, turns, run = codex_page
    page = watched.page
    header = watched.text("#run")
    manifest_data = json.loads((run / "manifest.json").read_text())
    assert manifest_data["agent"]["version"] in header and "write a hello world function" in header
    total_input = sum(turn["usage"]["input"] for turn in turns if turn["usage"])
    total_output = sum(turn["usage"]["output"] for turn in turns if turn["usage"])
    assert total_input > 1000 and total_output > 0
    assert f"input {total_input:,}" in header and f"output {total_output:,}" in header
    page.keyboard.press("G")
    last = turns[-1]
    assert selected(page) == f"#{last['number']}"
    answer = next(part["text"] for item in last["output"] for part in item["parts"] if part["kind"] == "text")
    assert 'return "Hello, world!"' in answer
    assert 'return "Hello, world!"' in watched.text("#turn")
    # The sidebar shows each exchange's tokens, the overview's chart the input each turn spent.
    row = page.locator(f".row[data-turn='{last['number']}'] .tokens").inner_text()
    assert row == f"{last['usage']['input']:,} in · {last['usage']['output']:,} out"
    numbers, inputs = page.evaluate("[CHARTS[0].data[0], NUMBERS.input]")
    drawn = [(n, i) for n, i in zip(numbers, inputs, strict=True) if i is not None]
    spent = [turn for turn in turns if turn["usage"] and (turn["output"] or turn["stop_reason"] or turn["response_id"])]
    assert drawn == [(turn["number"], turn["usage"]["input"]) for turn in spent]
    assert_quiet(watched)


@ON_THE_CODEX_RUN
def test_a_tool_call_with_its_arguments_linked_to_its_result(codex_page):
    watched, turns, _run = codex_page
    page = watched.page
    calling = next(turn for turn in turns if any(item["type"] == "function_call" for item in turn["output"]))
    [call] = [part for item in calling["output"] for part in item["parts"] if part["kind"] == "tool_call"]
    page.locator(f".row[data-turn='{calling['number']}']").click()
    shown = page.locator(".tool-call").first
    assert call["name"] in shown.inner_text()
    arguments = shown.locator("pre.arguments").inner_text()
    assert json.loads(arguments) == call["arguments"]
    answering = next(turn for turn in turns if turn["number"] > calling["number"] and turn["input"])
    follow(shown.locator("a.turn-link"), page, answering["number"])  # "result in #n"
    result = page.locator("[data-section=input] .item.new .tool-result").first
    assert call["call_id"] in result.inner_text()
    # The link was a step in the history: Back returns to the call, Forward to its result.
    page.go_back()
    expect(page.locator("#turn h2")).to_contain_text(f"#{calling['number']} ")
    assert selected(page) == f"#{calling['number']}"
    page.go_forward()
    expect(page.locator("#turn h2")).to_contain_text(f"#{answering['number']} ")
    assert_quiet(watched)


@ON_THE_CODEX_RUN
def test_expanding_a_turn_shows_its_input_and_what_is_new(codex_page):
    watched, turns, _run = codex_page
    page = watched.page
    later = next(turn for turn in turns if turn["carried"])
    page.locator(f".row[data-turn='{later['number']}']").click()
    carried = later["carried"]["items"]
    fresh = len(later["input"]) - carried
    items = page.locator("#turn [data-section=input] .item")
    assert items.count() == fresh and page.locator("#turn [data-section=input] .item.new").count() == fresh
    assert f"+ {fresh} new item" in watched.text("#turn")
    page.get_by_text(f"{carried} earlier items, as sent in #{later['carried']['source']}").click()
    expect(items).to_have_count(carried + fresh)  # a <details> is filled when its toggle event comes, a moment later
    assert page.locator("#turn [data-section=input] .item:not(.new)").count() == carried
    first_text = next(part["text"] for item in later["input"] for part in item["parts"] if part.get("text"))
    assert first_text.strip().splitlines()[0] in watched.text("#turn")
    # Instructions and tools are shown once, then named.
    assert f"Same as #{later['carried']['source']}" in watched.text("#turn")
    assert re.search(r"Same \d+ tools as #\d+", watched.text("#turn"))
    assert_quiet(watched)


@ON_THE_CODEX_RUN
def test_search_counts_hits_across_the_run_and_steps_through_them(codex_page):
    watched, turns, _run = codex_page
    page = watched.page
    page.fill("#search", "hello")
    expect(page.locator("#search-count")).to_have_text(re.compile(r"\d+ of \d+ hits?"))
    count = page.locator("#search-count").inner_text()
    first, total = map(int, re.fullmatch(r"(\d+) of (\d+) hits?", count).groups())
    assert total >= 2
    current = page.locator("mark.current")
    assert current.inner_text().lower() == "hello" and current.is_visible()
    page.locator("#search").press("Enter")
    assert page.locator("#search-count").inner_text() == f"{first % total + 1} of {total} hits"
    page.locator("#search").press("Shift+Enter")
    assert page.locator("#search-count").inner_text() == f"{first} of {total} hits"
    # Esc clears the search: no count, no marks, an empty box.
    page.locator("#search").press("Escape")
    expect(page.locator("#search-count")).to_have_text("")
    assert page.locator("#search").input_value() == "" and page.locator("mark").count() == 0
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("g")
    # Enter right after typing searches what was typed, without waiting for the pause that starts a search.
    calling = next(turn for turn in turns if any(item["type"] == "function_call" for item in turn["output"]))
    [call_id] = [part["call_id"] for item in calling["output"] for part in item["parts"] if part["kind"] == "tool_call"]
    page.fill("#search", call_id)
    page.locator("#search").press("Enter")
    assert page.locator("#search-count").inner_text() == "1 of 2 hits"  # the call, then its result
    assert page.locator("mark.current").inner_text() == call_id and selected(page) == f"#{calling['number']}"
    page.fill("#search", "qqxj-not-in-the-run")
    expect(page.locator("#search-count")).to_have_text("no hits")
    assert page.locator("mark").count() == 0
    page.fill("#search", "")
    expect(page.locator("#turn-count")).to_have_text(f"{len(turns)} of {len(turns)} turns")  # the list, whole again
    assert_quiet(watched)


@ON_THE_CODEX_RUN
def test_keyboard_moves_between_turns_and_links_are_deep(codex_page, browser):
    watched, turns, run = codex_page
    page = watched.page
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("g")
    assert selected(page) == "#1"
    page.keyboard.press("j")
    assert selected(page) == "#2" and page.locator("#turn h2").inner_text().startswith("#2 ")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert selected(page) == "#2"
    page.keyboard.press("ArrowDown")  # the arrows scroll the turn; they do not change it
    assert selected(page) == "#2"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    linked = open_page(browser, run / "report.html", fragment=f"#turn-{turns[-1]['number']}")
    assert selected(linked.page) == f"#{turns[-1]['number']}"
    assert_quiet(linked)
    linked.page.context.close()


@ON_THE_CODEX_RUN
def test_every_expandable_part_of_every_turn_opens_cleanly(codex_page):
    watched, turns, _run = codex_page
    page = watched.page
    opened = 0
    for turn in turns:
        page.locator(f".row[data-turn='{turn['number']}']").click()
        opened += open_every_section(page)
        assert "Request JSON" in watched.text("#turn") or "Request: no body" in watched.text("#turn")
    assert opened >= 4 * len(turns)
    raw = page.locator("pre.raw").last.inner_text()
    json.loads(raw)  # the raw response, pretty-printed, is JSON
    # The first POST's headers are shown whole, as a table.
    posting = next(turn for turn in turns if turn["method"] == "POST")
    page.locator(f".row[data-turn='{posting['number']}']").click()
    open_every_section(page)
    content_type = page.locator("table.headers tr", has_text="content-type").first.locator("td").nth(1).inner_text()
    assert content_type.startswith("application/json")
    assert_quiet(watched)


def test_websocket_turns_are_shown_as_turns(browser, tmp_path):
    sample = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"
    page_path = analysed(sample / "traffic.jsonl", "codex", tmp_path / "run")
    turns = list(whole_turns(tmp_path / "run" / "turns.jsonl"))
    watched = open_page(browser, page_path)
    websocket = [turn for turn in turns if turn["kind"] == "websocket" and turn["output"]]
    assert websocket
    page = watched.page
    titles = page.locator(".row").evaluate_all("rows => rows.map((row) => row.title)")
    websockets = sum(turn["kind"] == "websocket" for turn in turns)
    assert sum(title.startswith("WebSocket GET /") for title in titles) == websockets
    page.locator(f".row[data-turn='{websocket[-1]['number']}']").click()
    shown = watched.text("#turn")
    assert "WebSocket" in shown and "Output" in shown and "Input" in shown
    answer = next(part["text"] for item in websocket[-1]["output"] for part in item["parts"] if part.get("text"))
    assert answer.splitlines()[0] in shown
    open_every_section(page)
    assert "frames" in watched.text("#turn")
    assert_quiet(watched)
    watched.page.context.close()


# ---- hostile captures -------------------------------------------------------------------------------------


def hostile_capture(folder: Path) -> tuple[Path, dict]:
    """A Responses exchange whose every string tries to run, load or inject something."""
    bad = SCRIPT_PAYLOADS
    request = {
        "model": bad[2],
        "instructions": bad[0],
        "tools": [{"type": "function", "name": bad[1], "description": bad[3], "parameters": {bad[4]: bad[5]}}],
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": bad[0] + bad[6]}]},
            {"type": "function_call_output", "call_id": bad[7], "output": bad[8]},
        ],
        bad[14]: {bad[15]: bad[9]},
    }
    events = [
        ("response.created", {"type": "response.created", "response": {"id": bad[10], "model": bad[11]}}),
        ("response.output_item.done", {"type": "response.output_item.done", "item": {
            "type": "function_call", "name": bad[12], "call_id": bad[7], "arguments": json.dumps({bad[13]: bad[0]})}}),
        ("response.output_item.done", {"type": "response.output_item.done", "item": {
            "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": bad[0] + bad[16]}]}}),
        (bad[17], {"type": bad[0]}),
        ("response.completed", {"type": "response.completed", "response": {
            "id": bad[10], "usage": {"input_tokens": 7, "output_tokens": 3}}}),
    ]  # fmt: skip
    stream = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    entry = {
        "schema": 1,
        "kind": "http",
        "proxy": bad[18],
        "complete": True,
        "error": None,
        "timing": {"start": 1.0, "first_byte": 1.1, "end": 2.0},
        "request": {
            "method": "POST",
            "url": "http://127.0.0.1:1/v1/responses?q=" + bad[0],
            "path": "/v1/responses?q=" + bad[0],
            "headers": [["content-type", "application/json"], [bad[1], bad[2]]],
            "body": request,
            "body_format": "json",
        },
        "response": {
            "status": 200,
            "reason": bad[0],
            "headers": [["content-type", "text/event-stream"], ["x-note", bad[3]]],
            "body": stream,
            "body_format": "text",
        },
    }
    traffic = folder / "traffic.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    traffic.write_text(json.dumps(entry) + "\n" + json.dumps({**entry, "proxy": bad[0]}) + "\n")
    hostile_manifest = {"target": bad[0], "status": bad[2], "agent": {"version": bad[3]}, "prompt": bad[0],
                        "note": bad[4], "agent_exit_code": bad[5]}  # fmt: skip
    return traffic, hostile_manifest


def test_a_hostile_capture_runs_nothing_and_shows_its_text(browser, tmp_path):
    traffic, hostile_manifest = hostile_capture(tmp_path / "run")
    page_path = analysed(traffic, "codex", tmp_path / "run", hostile_manifest)
    watched = open_page(browser, page_path)
    page = watched.page
    header = watched.text("#run")
    assert SCRIPT_PAYLOADS[0] in header and SCRIPT_PAYLOADS[3] in header  # the prompt and the version, as text
    for turn in ("1", "2"):
        page.locator(f".row[data-turn='{turn}']").click()
        open_every_section(page)
        shown = watched.text("#turn")
        for payload in (SCRIPT_PAYLOADS[0], SCRIPT_PAYLOADS[2], SCRIPT_PAYLOADS[8], SCRIPT_PAYLOADS[12]):
            assert payload in shown
    # The unrecognised event is listed in the header and links to its turn.
    unrecognised = page.locator("ul.unrecognised li").first
    assert "</script" in unrecognised.inner_text()
    follow(unrecognised.locator("a.turn-link").first, page, 1)
    page.fill("#search", "</script>")
    expect(page.locator("#search-count")).to_have_text(re.compile(r"1 of \d+ hits?"))
    assert page.locator("script").count() == 2  # the data and the viewer's own script
    assert page.locator("svg.tl-svg").count() == 1  # the timeline's own drawing
    assert page.locator("img, iframe, link, base, svg:not(.tokens, .tl-svg), style").count() == 1  # only our <style>
    assert_quiet(watched)
    watched.page.context.close()


HOSTILE = st.lists(st.sampled_from(SCRIPT_PAYLOADS + PAYLOADS) | st.text(max_size=8), min_size=1, max_size=3).map(
    "".join
)


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_hostile_captures_run_nothing(browser, tmp_path_factory, data):
    pool = data.draw(st.lists(HOSTILE, min_size=4, max_size=16))
    deal = data.draw(st.randoms(use_true_random=False))

    def h(strategy=None):
        return deal.choice(pool) if strategy is None else data.draw(strategy)

    folder = tmp_path_factory.mktemp("hostile")
    traffic = folder / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(entry) + "\n" for entry in capture(h)))
    page_path = analysed(traffic, None, folder, manifest(h))
    watched = open_page(browser, page_path)
    for row in range(watched.page.locator(".row").count()):
        watched.page.locator(".row").nth(row).click()
        open_every_section(watched.page)
    assert_quiet(watched)
    watched.page.context.close()


def test_odd_text_and_numbers_are_searched_and_drawn_cleanly(browser, tmp_path):
    """Hits are marked where they are counted even where lowercasing changes a text's length (İ), and counts a
    capture should never hold (negative tokens) draw nothing instead of failing."""
    text = "İİİİ needle İstanbul NEEDLE"
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    body = {"model": "m", "input": [message]}
    events = [
        ("response.completed", {"type": "response.completed", "response": {"id": "r", "output": [],
         "usage": {"input_tokens": -100, "output_tokens": -5}}}),
    ]  # fmt: skip
    stream = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events)
    entry = captured_exchange(
        "/v1/responses", body, stream, host="http://127.0.0.1:1", request_headers=[], timing={"start": 1.0, "end": 2.0}
    )
    (tmp_path / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    watched = open_page(browser, analysed(tmp_path / "traffic.jsonl", "codex", tmp_path / "run"))
    page = watched.page
    page.fill("#search", "needle")  # searched after the pause that follows typing
    expect(page.locator("#search-count")).to_have_text("1 of 2 hits")
    assert [mark.lower() for mark in page.locator("mark").all_inner_texts()] == ["needle", "needle"]
    page.fill("#search", "i̇stanbul")  # what "İstanbul" lowercases to
    page.locator("#search").press("Enter")
    assert page.locator("#search-count").inner_text() in ("1 of 1 hit", "no hits")
    assert_quiet(watched)
    watched.page.context.close()


def test_a_count_the_api_did_not_send_shows_as_absent_and_the_answer_fields_as_facts(browser, tmp_path):
    """The original tool's shape read with no target: Responses usage without cached or reasoning counts shows
    "—" for them in the usage table and the header (never 0), and the answer's own fields are facts."""
    events = [
        {"type": "response.output_text.delta", "delta": "Bare "},
        {"type": "response.output_text.delta", "delta": "deltas."},
        {
            "type": "response.completed",
            "response": {
                "id": "resp_v",
                "model": "o4-mini-2026-01-01",
                "usage": {"input_tokens": 7, "output_tokens": 3},
            },
        },
    ]
    legacy = {
        "timestamp": 1707000000.0,
        "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "headers": {},
                    "body": {"model": "o4-mini", "input": "hi"}},
        "response": {"status_code": 200, "headers": {"content-type": "text/event-stream"},
                     "body": "".join(f"data: {json.dumps(event)}\n\n" for event in events)},
    }  # fmt: skip
    traffic = tmp_path / "capture.jsonl"
    traffic.write_text(json.dumps(legacy) + "\n")
    watched = open_page(browser, analysed(traffic, None, tmp_path / "out"))
    page = watched.page
    try:
        assert "Bare deltas." in watched.text("#turn")
        usage = page.locator("#turn table.usage").inner_text().split("\n")
        # The words of the header and every other view; the API's own names beside them.
        assert usage[0].split("\t") == ["input", "cache read", "cache write", "output", "reasoning"]
        assert usage[1].split("\t") == ["7", "—", "—", "3", "—"]
        assert 'As the API named them: {"input_tokens":7,"output_tokens":3}' in watched.text("#turn-1-usage")
        assert "response model\no4-mini-2026-01" in watched.text("#turn dl.facts")  # the snapshot that answered
        assert "1 turn with usage: input 7, output 3; not reported: cache read, cache write, reasoning" in (
            watched.text("#run")
        )
        assert_quiet(watched)
    finally:
        page.context.close()


# ---- hostile shapes, degraded -----------------------------------------------------------------------------


def test_a_history_read_at_its_ends_and_a_page_past_its_limit_show_what_they_left_out(browser, tmp_path, monkeypatch):
    # A request of 30,000 tiny items (read at its ends), then 600 small exchanges on a page held to a smaller limit
    # than 25 MB: the page keeps its first and last turns, and says so.
    monkeypatch.setattr(page_budget, "PAGE_LIMIT", 1_000_000)
    answer = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r","output":[]}}\n\n'
    items = [{"role": "user", "content": f"tiny {index}"} for index in range(30_000)]
    lines = [captured_exchange("/v1/responses", {"model": "m", "input": items}, answer)]
    lines += [captured_exchange("/v1/responses", {"model": "m", "input": f"task {n}"}, answer) for n in range(600)]
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    watched = open_page(browser, analysed(traffic, "codex", tmp_path / "run"))
    header = watched.text("#run")
    assert "exchange #1: 30,000 input items; the first 5,000 and last 5,000 are shown" in header
    assert re.search(r"this page shows [\d,]+ of the run's 601 turns \(#1 to #[\d,]+ and #[\d,]+ to #601\)", header)
    page = watched.page
    page.locator(".row[data-turn='1']").click()
    open_every_section(page)
    page.locator("#turn button.show-all").first.click()  # the items past the first hundred
    shown = watched.text("#turn")
    assert "30,000 items" in shown and "tiny 0" in shown and "tiny 29999" in shown
    assert "29,600 items left out here: 20,000 not read (the history was too long to read whole)" in shown
    page.evaluate("location.hash = '#turn-601'")  # the list draws only the rows in view
    page.wait_for_function("document.querySelector('#turn').innerText.includes('#601')")
    open_every_section(page)
    assert "task 599" in watched.text("#turn")
    open_every_section(page)
    assert_quiet(watched)
    watched.page.context.close()
