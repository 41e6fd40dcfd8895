"""What each target lets a run do with its agent is said by `invoke targets` and by the README's table of agents,
from the target file: the table has a row for every target, naming what holds, and the listing says why where the
file gives a reason."""

import re

from conftest import PROJECT_ROOT

from probe.runs.target_holds import holds_lines, holds_summary, what_holds
from probe.runs.targets import describe, known_targets, load_target, parse_target

ROW = re.compile(r"^\| (?P<agent>[^|]+) \| `(?P<target>[a-z0-9._-]+)` \| (?P<api>[^|]+) \| (?P<holds>[^|]+) \|$")


def readme_rows() -> dict[str, dict[str, str]]:
    text = (PROJECT_ROOT / "README.md").read_text()
    return {match["target"]: match.groupdict() for match in map(ROW.match, text.splitlines()) if match}


def test_the_readme_names_every_target_with_what_holds_for_it():
    rows = readme_rows()
    assert sorted(rows) == known_targets()
    for name, row in rows.items():
        assert row["holds"] == holds_summary(load_target(name)), name
        assert row["api"].strip(), name


def test_the_listing_says_what_holds_and_why_not():
    claude = describe(load_target("claude-code"))
    assert claude[-1] == (
        "  holds: logins api-key, oauth; your own home's login (--home own); its own telemetry (--agent-telemetry); "
        "hooks (--hooks); MCP servers (--mcp-server); other hosts (--all-hosts); replay; its own UI (a run without "
        "--prompt)"
    )
    pi = holds_lines(load_target("pi"))
    assert pi[1] == (
        "  not offered: its own telemetry (--agent-telemetry): pi 0.73.1 exports no telemetry of its own (its only "
        "OpenTelemetry code is a bundled SDK's, unused); hooks (--hooks); MCP servers (--mcp-server)"
    )
    assert holds_summary(load_target("openai-compatible")) == "all hosts; replay"


def test_a_target_file_says_only_what_it_declares():
    bare = parse_target(
        """
name: bare
description: an agent with nothing declared
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [demo, "{prompt}"]
""",
        "targets/bare.yaml",
    )
    assert holds_summary(bare) == "all hosts; replay"
    assert [answer.name for answer in what_holds(bare) if not answer.holds][1:] == [
        "your own home's login (--home own)",
        "its own telemetry (--agent-telemetry)",
        "hooks (--hooks)",
        "MCP servers (--mcp-server)",
        "its own UI (a run without --prompt)",
    ]
    assert holds_lines(bare)[1].startswith("  not offered: your own home's login (--home own); its own telemetry")
