"""Each agent has one name in every part of the viewer, in the real headless Chromium: the overview's tree, the
tool-call table, the turn list, the agent filter, a turn's facts and the charts' readout all show the readable
name worked out here from the capture (test_agent_tree.expected_names), with the wire's ids and paths only beside
it; and the tool-call table shows each name whole, at 1440 and at 600 px wide."""

import pytest
from playwright.sync_api import expect
from test_agent_tree import expected_names, expected_tree
from test_viewer import assert_quiet
from test_viewer_overview import SUBAGENTS, analysed_copy

from probe.write.viewer.headless import open_page

# Every test here reads the same two analysed captures: one test process makes them, not each.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("viewer-names")]


@pytest.fixture(scope="module", params=["codex", "claude-code"])
def run(request, tmp_path_factory):
    return analysed_copy(SUBAGENTS / request.param, request.param, tmp_path_factory.mktemp("run") / request.param)


@pytest.mark.parametrize("width", [1440, 600])
def test_the_tool_call_table_shows_each_agents_whole_name(run, browser, width):
    _, _, spawned = expected_tree(run.folder)
    names = expected_names(run.folder, spawned)
    watched = open_page(browser, run.page, viewport=(width, 900))
    page = watched.page
    cells = page.locator(".ov-calls tbody tr").evaluate_all(
        """(rows) => rows.map((row) => { const cell = row.cells[2];
            return [row.dataset.call, cell.innerText, cell.scrollWidth <= cell.clientWidth,
                    cell.getBoundingClientRect().width]; })"""
    )
    calls = {record["call_id"]: record for record in run.insight("tool_call")}
    assert {call: text for call, text, _, _ in cells} == {call: names[r["agent"]] for call, r in calls.items()}
    assert all(whole for _, _, whole, _ in cells)  # nothing clipped: the text is all in the cell
    # And no name is squeezed to a letter: the column is as wide as the longest name in it.
    widest = max(len(name) for name in names.values())
    assert min(box for _, _, _, box in cells) >= widest * 5
    assert_quiet(watched)
    watched.page.context.close()


def test_the_turn_list_filter_facts_tree_and_readout_name_each_agent_alike(run, browser):
    agent_of, parent_of, spawned = expected_tree(run.folder)
    names = expected_names(run.folder, spawned)
    watched = open_page(browser, run.page, viewport=(1440, 900))
    page = watched.page
    # The turn list: each row names its agent, its id only in the tooltip.
    rows = page.locator(".row").evaluate_all(
        "(rows) => rows.map((row) => [Number(row.dataset.turn), row.querySelector('.agent').innerText,"
        " row.querySelector('.agent').title])"
    )
    assert {number: (name, agent) for number, name, agent in rows} == {
        number: (names[agent], agent) for number, agent in agent_of.items()
    }
    # The filter: one choice an agent, by name, with its turns.
    options = page.locator("select[data-filter='agent'] option").all_inner_texts()
    counts = {agent: sum(owner == agent for owner in agent_of.values()) for agent in names}
    assert sorted(options[1:]) == sorted(f"{names[agent]} ({count})" for agent, count in counts.items())
    # The overview's tree: the name first, the wire's id (and codex's path) beside it.
    for agent, name in names.items():
        item = page.locator(f".ov-tree li[data-agent='{agent}']")
        assert item.locator(":scope > .ov-agent-name").inner_text() == name
        details = item.locator(":scope > .ov-agent-id").all_inner_texts()
        record = next(r for r in run.insight("agent") if r["id"] == agent)
        assert details == [each for each in (agent if agent != name else None, record["path"]) if each]
        assert "/" not in name
    # A sub-agent's turn: its facts name the agent, with its id beside the name; the readout names it too.
    child = next(agent for agent, parent in parent_of.items() if parent == "main")
    number = next(n for n, agent in agent_of.items() if agent == child)
    page.locator(f".row[data-turn='{number}']").click()
    expect(page.locator(".row.selected .n")).to_have_text(f"#{number}")
    facts = page.locator("#turn dl.facts").first
    pairs = facts.evaluate("(list) => [...list.querySelectorAll(':scope > dt')].map((dt) => [dt.textContent,"
                           " dt.nextElementSibling.textContent])")  # fmt: skip
    assert dict(pairs)["agent"] == f"{names[child]} (id {child})"
    page.evaluate("document.querySelector('main').scrollTop = 0")
    page.locator(".ov-charts").focus()
    assert page.locator("#ov-readout").inner_text().startswith(f"#{number} ({names[child]})")
    assert_quiet(watched)
    watched.page.context.close()
