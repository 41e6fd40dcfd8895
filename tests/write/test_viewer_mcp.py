"""The viewer's MCP servers in the real headless Chromium: each server under the main agent in the agent tree with what
its tools cost, its calls on a lane of its own in the timeline, and each call beside the model's tool call it was
joined to in the turn; from the record and join handed to the analysis (mcp_models), captured names shown as text."""

import pytest
from mcp_models import facts, join_as, mcp_run
from playwright.sync_api import expect
from test_viewer import assert_quiet

from probe.analysis.report import analyze_run
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, private_data_dir, monkeypatch, tmp_path):
    run = mcp_run(private_data_dir)
    join_as(monkeypatch, lambda folder: facts())
    analyze_run(run)
    watched = open_page(browser, run / "report.html")
    yield watched
    assert_quiet(watched)


def test_servers_calls_and_the_call_beside_the_models_tool_call(page, tmp_path):
    view = page.page
    servers = view.locator("#overview .ov-agents li.ov-mcp")
    expect(servers).to_have_count(3)
    fs = view.locator('#overview li.ov-mcp[data-mcp-server="fs"]')
    expect(fs).to_have_text(
        "MCP server fs secure-filesystem-server 0.2.0stdio · 3 tools, 6,210 tokens in every request (23.0%) · "
        "4 calls, 2 failed · exit code 0"
    )
    expect(view.locator('#overview li.ov-mcp[data-mcp-server="docs"]')).to_have_text(
        "MCP server docsnot recorded · 14 tools, deferred (only their names sent): 120 tokens in 1 request (0.4%) · "
        "0 calls"
    )
    # Under the main agent: the tree's first item.
    assert view.locator("#overview .ov-tree > li").first.locator("li.ov-mcp").count() == 3
    # The timeline: a lane per server that was called, after the agent's, each call an interval on it.
    labels = view.locator("#time-view .tl-label title").all_text_contents()
    assert labels == ["main", "MCP server fs", "MCP server ev|il <img src=x onerror=alert(1)> `x`"]
    lanes = view.evaluate("timeline.model.lanes.map((lane) => [lane.name, lane.order.map((span) => span.name)])")
    assert lanes[1:] == [["MCP server fs", ["tools/call read_file", "resources/read", "sampling/createMessage",
                                            "tools/call write_file"]],
                         ["MCP server ev|il <img src=x onerror=alert(1)> `x`", ["tools/call ev|il <img src=x "
                                                                             "onerror=alert(1)> `x`"]]]  # fmt: skip
    read = view.locator('#time-view .tl-span.tl-mcp[aria-label*="tools/call read_file"]')
    label = read.get_attribute("aria-label")
    assert label.startswith("MCP call tools/call read_file · start +")
    assert label.endswith(" · duration 12 ms · server fs · the agent's wait 448 ms · the model's mcp__fs__read_file "
                          "toolu_37c0d2c0674849fea33fa197 · result sent: changed · exchanges #1, #2")  # fmt: skip
    view.locator("#time-view").screenshot(path=str(tmp_path / "timeline.png"))
    # A click opens the turn that asked for it, where the call sits beside the model's tool call.
    read.focus()
    view.keyboard.press("Enter")
    beside = view.locator("#turn .tool-call .mcp-call")
    expect(beside).to_have_text("MCP server fs · tools/call read_file · server 12 ms of the agent's 448 ms wait · "
                                "result sent: changed")  # fmt: skip
    view.locator("#turn .tool-call").first.screenshot(path=str(tmp_path / "turn.png"))
