"""Agents side by side on one scenario (probe.write.releases_table): each figure in the table is the one its run's
own report.md gives, read here from report.md itself; what only one agent has is listed; captured names stay inert;
the page passes axe-core in the real headless Chromium."""

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from markdown_it import MarkdownIt
from test_viewer_accessibility import serious_violations

from probe.common.errors import UsageError
from probe.runs.release_runs import COMPLETE, FAILED, NOT_OFFERED, ReleaseRun
from probe.write.releases_table import side_by_side
from probe.write.viewer.headless import open_page

SAMPLES = {
    ("codex", "0.169.0"): "codex/20261125-122607-sample-v0.169.0",
    ("claude-code", "2.1.330"): "claude-code/20261125-122623-sample-mock",
    ("gemini", "0.61.0"): "gemini/20261125-122632-sample-mock",
}
HOSTILE = "<script>alert(1)</script>[click](javascript:alert(2))\x1b[31mred"


@pytest.fixture
def runs(private_data_dir) -> list[ReleaseRun]:
    """The committed samples copied into a data folder of the test's own (with the price file they were priced
    with), as release runs of scenario `tool`, plus an agent that failed and one the scenario is not offered to."""
    shutil.copy(PROJECT_ROOT / "data/sample-prices.yaml", private_data_dir.parent / "sample-prices.yaml")
    rows = []
    for (target, version), sample in SAMPLES.items():
        copy = private_data_dir / sample
        # Only what is committed: a checkout where the samples were analysed also holds their report.html.
        shutil.copytree(PROJECT_ROOT / "data" / sample, copy, ignore=shutil.ignore_patterns("report.html"))
        rows.append(ReleaseRun(target, version, "tool", COMPLETE, copy))
    (private_data_dir.parent / "sample-prices.yaml").rename(private_data_dir / "sample-prices.yaml")
    rows.append(ReleaseRun("qwen-code", "9.9.9", "tool", FAILED, None, "the agent exited 1 before its first request"))
    rows.append(ReleaseRun("pi", "1.0.0", "tool", NOT_OFFERED, None, "no telemetry of its own"))
    return rows


def table_of(markdown: str) -> dict[str, dict[str, str]]:
    """The Markdown table as {column: {row label: cell}}, read from the text."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    header = [cell.strip().strip("`") for cell in lines[0].strip("|").split(" | ")]
    table: dict[str, dict[str, str]] = {name: {} for name in header[1:]}
    for line in lines[1:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        for name, cell in zip(header[1:], cells[1:]):
            table[name][cells[0]] = cell
    return table


def report_figures(report: str) -> dict[str, str]:
    """The figures the run's own report.md gives, read from its text: the By-turn row of the request that sent the
    most instruction and tool tokens (the first of equals), the header's tokens, the Summary's cost and tools' share."""
    by_turn = report.split("By turn:", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split(" | ") for line in by_turn.splitlines()[2:]]
    fullest = max(rows, key=lambda row: sum(int(cell.split(" (")[0].replace(",", "")) for cell in row[3:5]))
    tokens = re.search(r"^- Tokens: .*$", report, re.M).group()
    return {
        "turn": fullest[0].strip(),
        "instructions": fullest[3].strip(),  # `7,100 (6 blocks)`
        "tools": fullest[4].strip(),  # `9,887 (11 tools)`
        "input": re.search(r"input (\d[\d,]*\d|\d)", tokens).group(1),
        "output": re.search(r"output (\d[\d,]*\d|\d)", tokens).group(1),
        "cost": re.search(r"^- Cost: (\$[\d.,]+ for \d+ turns?)", report, re.M).group(1),
        "share": re.search(r"over the run \(estimated\): tools (\d+%)", report).group(1),
        "requests": re.search(r"One agent made all (\d+) requests", report).group(1),
        "wall": re.search(r"^Wall time ([\d.,]+ s)", report, re.M).group(1),
        "cache": re.search(r"^- Prompt cache: ([\d.]+% of [\d,]+ input tokens)", report, re.M).group(1),
    }


def test_each_figure_is_the_one_its_runs_report_gives(runs, private_data_dir):
    written = side_by_side("tool", runs, private_data_dir / "releases")
    assert [path.name for path in written] == ["side-by-side-tool.md", "side-by-side-tool.html"]
    table = table_of(written[0].read_text())
    assert list(table) == ["codex@0.169.0", "claude-code@2.1.330", "gemini@0.61.0", "qwen-code@9.9.9", "pi@1.0.0"]
    for row in runs[:3]:
        column, report = table[f"{row.target}@{row.version}"], report_figures((row.run / "report.md").read_text())
        tokens, blocks = re.fullmatch(r"([\d,]+) \((\d+ blocks?)\)", report["instructions"]).groups()
        assert column["instructions, fullest request"] == f"{tokens} tokens ({blocks}) at {report['turn']}"
        tool_tokens, tools = re.fullmatch(r"([\d,]+) \((\d+ tools?)\)", report["tools"]).groups()
        assert column["tools, fullest request"] == f"{tools}, {tool_tokens} tokens at {report['turn']}"
        assert column["input tokens"] == report["input"]
        assert column["output tokens"] == report["output"]
        assert column["cost"] == report["cost"]
        assert column["tools' share of the context"] == report["share"]
        assert column["requests"] == report["requests"]
        assert column["wall time"] == report["wall"]
        assert column["prompt cache"] == report["cache"] + " read from the cache"
        assert column["outcome"] == "complete"
        assert f"[report.md](../{row.run.parent.name}/{row.run.name}/report.md)" in column["run"]
    # The figures of the three, spelled out once (the samples' reports say so too).
    assert table["codex@0.169.0"]["instructions, fullest request"] == "7,100 tokens (6 blocks) at #2"
    assert table["gemini@0.61.0"]["tools, fullest request"] == "15 tools, 3,756 tokens at #3"
    assert table["claude-code@2.1.330"]["cost"] == "$0.0738 for 2 turns"
    assert table["claude-code@2.1.330"]["cache markers"] == "2"
    assert table["codex@0.169.0"]["hosts called"] == "not recorded: run without --all-hosts"
    # The agents with no completed run say why, and show no figure.
    assert table["qwen-code@9.9.9"]["outcome"] == "failed: `the agent exited 1 before its first request`"
    assert table["pi@1.0.0"]["outcome"] == "not offered: `no telemetry of its own`"
    assert table["pi@1.0.0"]["input tokens"] == "—"


def test_instructions_and_tools_are_those_of_the_request_that_sent_them(runs, private_data_dir):
    """A request continuing a response by its id sends no instructions or tools (the server kept them), however many
    input tokens it reports: the figures are the request's that sent them, not the one with the most input."""
    traffic = runs[0].run / "traffic.jsonl"
    traffic.write_text(traffic.read_text().replace('"usage":{"input_tokens":528,', '"usage":{"input_tokens":40000,'))
    table = table_of(side_by_side("tool", runs, private_data_dir / "releases")[0].read_text())
    assert table["codex@0.169.0"]["input tokens"] == "57,175"  # the edit was read: #3 is now the largest input
    assert table["codex@0.169.0"]["instructions, fullest request"] == "7,100 tokens (6 blocks) at #2"
    assert table["codex@0.169.0"]["tools, fullest request"] == "11 tools, 9,887 tokens at #2"


def test_what_only_one_agent_has_is_listed_under_its_name(runs, private_data_dir):
    text = side_by_side("tool", runs, private_data_dir / "releases")[0].read_text()
    only = {
        heading: body for heading, body in re.findall(r"^## Only in `([^`]+)`\n\n(.*?)(?=\n\n|\Z)", text, re.M | re.S)
    }
    assert set(only) == {"codex@0.169.0", "claude-code@2.1.330", "gemini@0.61.0"}
    assert "`x-codex-turn-metadata`" in only["codex@0.169.0"] and "`functions.exec`" in only["codex@0.169.0"]
    assert "`x-api-key`" in only["claude-code@2.1.330"] and "`x-api-key`" not in only["gemini@0.61.0"]
    assert "`x-goog-api-key`" in only["gemini@0.61.0"] and "`run_shell_command`" in only["gemini@0.61.0"]
    assert "`Bash`" in only["claude-code@2.1.330"]
    # Sent by all three: no agent's own.
    assert not any("`user-agent`" in body or "`content-type`" in body for body in only.values())
    # Beside an older codex, what both codex versions send is neither's own.
    older = private_data_dir / "codex/20261125-122602-sample-v0.166.0"
    shutil.copytree(PROJECT_ROOT / "data/codex" / older.name, older)
    runs.insert(1, ReleaseRun("codex", "0.166.0", "tool", COMPLETE, older))
    text = side_by_side("tool", runs, private_data_dir / "releases")[0].read_text()
    assert "`x-codex-turn-metadata`" not in text and "`functions.exec`" not in text
    assert "`x-api-key`" in text


def with_hostile_tool(run: Path) -> None:
    """The run's `list_directory` tool renamed to a name that is markup, a link and a terminal escape at once."""
    lines = []
    for line in (run / "traffic.jsonl").read_text().splitlines():
        record = json.loads(line)
        for tools in (record.get("request", {}).get("body") or {}).get("tools") or []:
            for declaration in tools.get("functionDeclarations") or []:
                if declaration.get("name") == "list_directory":
                    declaration["name"] = HOSTILE
        lines.append(json.dumps(record))
    (run / "traffic.jsonl").write_text("\n".join(lines) + "\n")


def test_a_hostile_tool_name_renders_inert(runs, private_data_dir):
    with_hostile_tool(runs[2].run)
    markdown, page = (path.read_text() for path in side_by_side("tool", runs, private_data_dir / "releases"))
    assert "\x1b" not in markdown and "\x1b" not in page
    # Read by a previewer that passes HTML through and makes links of what looks like one: no tag of the name's,
    # and every link one of ours, to a run's report.
    rendered = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(["table", "linkify"]).render(markdown)
    assert "<script" not in rendered
    assert re.findall(r'href="([^"]*)"', rendered) == [f"../{row.run.parent.name}/{row.run.name}/report.md"
                                                       for row in runs[:3]]  # fmt: skip
    assert "`<\u200bscript>alert(1)<\u200b/script>[click](javascript:alert(2))\\x1b[31mred`" in markdown
    assert "<script" not in page and re.findall(r'href="([^"]*)"', page) == re.findall(r'href="([^"]*)"', rendered)
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;[click](javascript:alert(2))\\x1b[31mred</code>" in page


@pytest.mark.browser
def test_the_page_passes_axe_and_loads_nothing(browser, runs, private_data_dir, tmp_path):
    with_hostile_tool(runs[2].run)
    page = side_by_side("tool", runs, private_data_dir / "releases")[1]
    for scheme, size in (("light", (1400, 900)), ("dark", (600, 800))):
        watched = open_page(browser, page, size)
        watched.page.emulate_media(color_scheme=scheme)
        assert serious_violations(watched.page) == []
        assert watched.requests == [] and watched.dialogs == [] and watched.errors == []
        assert watched.violations() == []
        headers = watched.page.locator("thead th[scope=col]").all_inner_texts()
        assert headers[:4] == ["figure", "codex@0.169.0", "claude-code@2.1.330", "gemini@0.61.0"]
        assert "7,100 tokens (6 blocks) at #2" in watched.text("tbody")
        watched.page.screenshot(path=str(tmp_path / f"side-by-side-{scheme}.png"), full_page=True)


def test_a_scenario_name_that_is_a_path_writes_nothing(tmp_path):
    with pytest.raises(UsageError, match=r"^scenario '\.\./x': a name of letters, digits and -"):
        side_by_side("../x", [], tmp_path / "releases")
    assert list(tmp_path.iterdir()) == []
