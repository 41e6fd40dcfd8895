"""One turn in the viewer, in the real headless Chromium: its sections and jump links, long texts folded with their
sizes, a continued WebSocket turn, copying, the search's reach, and the dark and narrow layouts."""

import json
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange
from playwright.sync_api import expect
from test_viewer import analysed, assert_quiet

from probe.read.whole_turns import whole_turns
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser
# The tests of the Claude Code sample, kept on one test process: it is analysed once, not once on each.
ON_THE_CLAUDE_SAMPLE = pytest.mark.xdist_group("viewer-claude-sample")

CLAUDE = PROJECT_ROOT / "data/claude-code/20261125-122623-sample-mock"
CODEX_WEBSOCKET = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"


@contextmanager
def opened(browser, path: Path, fragment: str):
    """The page at `fragment`, closed afterwards, having run nothing and asked for nothing."""
    watched = open_page(browser, path, fragment=fragment)
    try:
        yield watched.page
        assert_quiet(watched)
    finally:
        watched.page.context.close()


def sample_page(sample: Path, folder: Path) -> tuple[Path, list[dict], list[dict]]:
    """report.html of a bundled sample, with the turns and insight records written beside it."""
    shutil.copy(sample / "traffic.jsonl", folder / "traffic.jsonl")
    manifest = json.loads((sample / "manifest.json").read_text())
    page = analysed(folder / "traffic.jsonl", manifest["target"], folder / "out", manifest)
    turns = list(whole_turns(page.parent / "turns.jsonl"))
    insight = [json.loads(line) for line in (page.parent / "insight.jsonl").read_text().splitlines()]
    return page, turns, insight


@pytest.fixture(scope="module")
def claude(tmp_path_factory):
    return sample_page(CLAUDE, tmp_path_factory.mktemp("claude"))


@ON_THE_CLAUDE_SAMPLE
def test_a_long_tool_description_starts_folded_with_its_size_and_keeps_its_line_breaks(browser, claude):
    path, turns, insight = claude
    tool = next(tool for tool in turns[0]["tools"] if tool["name"] == "Agent")
    [tokens] = [part["tokens"] for part in insight[0]["context"]["categories"] if part["name"] == "Agent"]
    with opened(browser, path, "#turn-1") as page:
        card = page.locator("#turn-1-tools .tool").filter(
            has=page.locator("code.tool-name", has_text=re.compile("^Agent$"))
        )
        lines = tool["description"].count("\n") + 1
        toggle = card.locator("button.fold-toggle")
        expect(toggle).to_have_text(
            f"Show all ({lines} lines, {len(tool['description']):,} characters, about {tokens:,} tokens)"
        )
        description = card.locator("pre.description")
        folded = description.bounding_box()["height"]
        # Its line breaks are kept: the text holds them, and its "## When to use" sections start lines.
        assert description.inner_text() == tool["description"]
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        assert description.bounding_box()["height"] > 3 * folded
        # The schema spans the card's width, not a narrow table column.
        card.locator("summary", has_text="schema").click()
        schema = card.locator("pre.schema")
        assert json.loads(schema.inner_text()) == tool["schema"]
        assert schema.bounding_box()["width"] > 0.9 * card.bounding_box()["width"]


@ON_THE_CLAUDE_SAMPLE
def test_the_jump_links_reach_every_section_and_the_output_in_one_click(browser, claude):
    path, turns, _insight = claude
    with opened(browser, path, "#turn-1") as page:
        jump = page.locator("#turn nav.jump button")
        assert jump.all_inner_texts() == [
            "Instructions",
            "Tools",
            "Input",
            "Output",
            "Usage",
            "Config",
            "Headers",
            "Raw",
        ]
        jump.filter(has_text="Output").click()
        output = page.locator("#turn-1-output")
        box, pane = output.bounding_box(), page.locator("main").bounding_box()
        assert pane["y"] <= box["y"] < pane["y"] + 100  # at the top of the pane
        answer = next(part["text"] for item in turns[0]["output"] for part in item["parts"] if part["kind"] == "text")
        assert answer[:40] in output.inner_text()
        # Each section folds away by its heading.
        page.locator("#turn-1-instructions summary").first.click()
        assert not page.locator("#turn-1-instructions > details").evaluate("node => node.open")


def test_a_continued_websocket_turn_names_what_it_continues_and_carries(browser, tmp_path):
    path, turns, _insight = sample_page(CODEX_WEBSOCKET, tmp_path)
    second, third = turns[1], turns[2]
    assert third["carried"] == {"items": 9, "source": 2, "by": "previous_response_id"} and not third["system"]
    with opened(browser, path, "#turn-3") as page:
        instructions = page.locator("#turn-3-instructions").inner_text()
        assert "None sent: this request continues #2 by previous_response_id" in instructions
        assert f"{len(second['system'])} blocks of #2" in instructions
        tools = page.locator("#turn-3-tools").inner_text()
        assert f"{len(second['tools'])} tools of #2" in tools
        carried = page.locator("#turn-3-input").inner_text()
        assert (
            f"the server holds its context, 9 items: #2's {len(second['input'])} input items" in carried
            and f"and {len(second['output'])} output items" in carried
        )
        page.locator("#turn-3-input summary", has_text="Show the").click()  # the items are built as it opens
        shown = len(second["input"]) + len(second["output"]) + len(third["input"])
        expect(page.locator("#turn-3-input .item")).to_have_count(shown)
        # The warm-up it follows is said to be empty, not "0 items".
        page.goto(page.url.split("#")[0] + "#turn-2")
        expect(page.locator("#turn-2-input")).to_contain_text("which is empty (#1 sent no items: a warm-up request)")


@ON_THE_CLAUDE_SAMPLE
def test_copy_as_curl_rebuilds_the_whole_request_with_secrets_masked(browser, claude):
    path, _turns, _insight = claude
    [_, second] = [json.loads(line) for line in (CLAUDE / "traffic.jsonl").read_text().splitlines()]
    with opened(browser, path, "#turn-2") as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.locator("#turn button", has_text="Copy as cURL").click()
        command = page.evaluate("navigator.clipboard.readText()")
        body = re.search(r"--data-raw '(.*)'$", command, re.S).group(1).replace("'\\''", "'")
        # The history the page names rather than repeats is put back: the body is the request as captured.
        assert json.loads(body) == second["request"]["body"]
        assert command.startswith(f"curl -X 'POST' '{second['request']['url']}'")
        headers = dict(re.findall(r"-H '([^:]+): ([^']*)'", command))
        captured = {name: value for name, value in second["request"]["headers"]}
        assert headers["x-api-key"] == captured["x-api-key"] and headers["x-api-key"].startswith("[REDACTED sha256:")
        assert "content-length" not in {name.lower() for name in headers}


@ON_THE_CLAUDE_SAMPLE
def test_the_search_reaches_collapsed_headers_and_starts_from_the_turn_in_view(browser, claude):
    path, _turns, _insight = claude
    with opened(browser, path, "#turn-2") as page:
        page.fill("#search", "anthropic-version")
        expect(page.locator("#search-count")).to_have_text(re.compile(r"1 of \d+ hits?"))
        mark = page.locator("mark.current")
        assert mark.inner_text() == "anthropic-version" and mark.is_visible()  # its collapsed table was opened
        assert page.locator("#turn h2").inner_text().startswith("#1 ")  # the first sent it; #2 sent the same
        # From #2, a word in both turns finds #2's hit first, not #1's.
        page.locator("#search").press("Escape")
        page.goto(page.url.split("#")[0] + "#turn-2")
        page.fill("#search", "claude-opus")
        expect(page.locator("#search-count")).to_have_text(re.compile(r"\d+ of \d+ hits"))
        assert page.locator("#turn h2").inner_text().startswith("#2 ")


@pytest.mark.parametrize("scheme, background", [("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")])
@ON_THE_CLAUDE_SAMPLE
def test_the_colour_scheme_follows_the_system(browser, claude, scheme, background):
    path, _turns, _insight = claude
    with opened(browser, path, "#turn-1") as page:
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
        text = page.evaluate("getComputedStyle(document.body).color")
        assert text == ("rgb(31, 35, 40)" if scheme == "light" else "rgb(230, 237, 243)")


def test_a_huge_turn_is_cut_with_show_all_and_the_search_still_reaches_everything(browser, tmp_path):
    long_result = "".join(f"line {index} of a long tool result\n" for index in range(2000))  # ~60,000 characters
    items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"item {index} ask"}]}
             for index in range(1, 351)]  # fmt: skip
    items.insert(0, {"type": "function_call_output", "call_id": "call_long", "output": long_result})
    body = {"model": "gpt-5", "input": items, "stream": True}
    completed = {
        "type": "response.completed",
        "response": {"id": "resp_1", "usage": {"input_tokens": 9, "output_tokens": 1}},
    }
    stream = f"event: response.completed\ndata: {json.dumps(completed)}\n\n"
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(captured_exchange(request_body=body, response_body=stream)) + "\n")
    path = analysed(traffic, "codex", tmp_path / "out")
    with opened(browser, path, "#turn-1") as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        section = page.locator("#turn-1-input")
        assert section.locator(".item").count() == 100  # of 351: the rest is one click away
        expect(section.locator(".list > button.show-all")).to_have_text("Show all 351 (251 more)")
        result = section.locator(".tool-result pre.text")
        assert len(result.inner_text()) == 20_000
        assert (
            section.locator(".tool-result button.show-all").inner_text() == f"Show all {len(long_result):,} characters"
        )
        # Copying the cut text copies all of it.
        section.locator(".tool-result button.copy-pre").click()
        assert page.evaluate("navigator.clipboard.readText()") == long_result
        # The search counts in everything, and builds what it marks.
        page.fill("#search", "item 342 ask")
        expect(page.locator("#search-count")).to_have_text("1 of 1 hit")
        assert page.locator("mark.current").is_visible() and section.locator(".item").count() == 351
        page.fill("#search", "line 1999 of a long")
        expect(page.locator("#search-count")).to_have_text("1 of 1 hit")
        assert page.locator("mark.current").is_visible()
        assert (
            len(result.inner_text()) == len(long_result.rstrip("\n"))
            or len(result.inner_text()) >= len(long_result) - 1
        )


def test_config_keys_stay_whole_words(browser, tmp_path):
    """A key such as `parallel_tool_calls` is not broken mid-word into a narrow column."""
    path, turns, _insight = sample_page(PROJECT_ROOT / "data/codex/20261125-123532-sample-http", tmp_path)
    number = next(turn["number"] for turn in turns if len(turn["config"]) >= 3)
    with opened(browser, path, f"#turn-{number}") as page:
        keys = page.locator(f"#turn-{number}-config table.config td:first-child code")
        assert keys.all_inner_texts() == list(turns[number - 1]["config"])
        for key in keys.all():
            box = key.bounding_box()
            assert box["height"] < 20, key.inner_text()  # one line
