"""The report's `## Hooks` (probe.write.hooks_section): per event and each event, with what the agent named (a tool,
a folder) shown as code that no pipe, backtick or line break gets out of; no section for a run without hooks."""

import json

from probe.analyse.account.wire import WireCall, WireCalls
from probe.analyse.hooks import joined
from probe.read.hooks import read_hooks
from probe.write.hooks_section import hooks_facts, hooks_section

TOOL = "Bad|tool`name\n## Injected"


def test_the_section_lists_each_event_with_what_the_agent_named_kept_in_its_cell(tmp_path):
    lines = [
        {"t": 100.0, "event": "PreToolUse", "tool": TOOL, "tool_use_id": "t1", "cwd": "/w|x"},
        {"t": 100.75, "event": "PostToolUse", "tool": TOOL, "tool_use_id": "t1", "input": {"duration_ms": 250}},
    ]
    (tmp_path / "hooks.jsonl").write_text("".join(f"{json.dumps(line)}\n" for line in lines[:2]) + "not json\n")
    call = WireCall(1, 99.0, 99.5, None, None, None, None, None, None, None, None, None, 500.0, ("t1",))
    join = joined(read_hooks(tmp_path), WireCalls([call]))
    text = "\n".join(hooks_section(join))
    assert text.startswith("\n## Hooks\n\n2 hook events recorded by the run's own hook (hooks.jsonl); 2 of 2 tool")
    assert "\n## Injected" not in text and "Note: line 3: not JSON" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 6  # two headers, two events by name, two events one by one
    assert rows[1].startswith("| `PreToolUse` | 1 | 0.500 s | 0.500 s | ")  # until the tool began, at 100.5
    pre = rows[4]
    assert pre.startswith("| 1 | +0.000 s | `PreToolUse` | ") and "| `t1` | 1 | 0.500 s | `the tool` | — |" in pre
    assert pre.count(" | ") == 9  # ten cells: the pipes inside the tool's name and the folder are escaped
    assert "\\|" in pre and "\n" not in pre
    # The viewer's Run panel, in one line.
    assert hooks_facts(join, str) == [
        ("Hooks", "2 events, 2 of 2 tool events joined; held the agent: PreToolUse ×1 0.500 s")
    ]


def test_no_section_without_hooks(tmp_path):
    assert hooks_section(None) == [] and hooks_facts(None, str) == []
