"""Re-analysing each bundled sample reproduces its committed report (apart from the generated-at line),
turns.jsonl and diff."""

import io
import shutil
from pathlib import Path

from probe import samples
from probe.common.errors import run_main
from probe.samples import main as samples_main
from probe.samples import replay

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))


def test_samples_exist_for_both_codex_transports_and_claude_code():
    names = [f"{sample.parent.name}/{sample.name}" for sample in SAMPLES]
    assert any(name.startswith("codex/") and name.endswith("sample-http") for name in names)
    assert any(name.startswith("codex/") and name.endswith("sample-websocket") for name in names)
    assert any(name.startswith("claude-code/") and name.endswith("sample-mock") for name in names)
    for target in ("gemini", "opencode", "qwen-code"):  # one of each new agent, against the mock
        assert any(name.startswith(f"{target}/") and name.endswith("sample-mock") for name in names), target


def test_claude_code_samples_report_the_tool_loop():
    found = [sample for sample in SAMPLES if sample.parent.name == "claude-code"]
    assert [sample.name.split("-sample-")[1] for sample in found] == ["mock", "v2.1.332"]  # the pin then, and now
    for sample in found:
        report = (sample / "report.md").read_text()
        assert "**Tool call** `Bash`" in report and "output of Bash: agent-probe tool call" in report
        assert "**Messages**: + 1 new message; 3 carried over from #1" in report


def test_the_replay_reproduces_every_sample_report_turns_and_diff():
    """What CI's `samples` session runs: each sample rebuilt in a scratch copy, by the make-style refresh."""
    out = io.StringIO()
    assert replay(PROJECT_ROOT / "data", out=out) == []
    checked = [line.removeprefix("checked ") for line in out.getvalue().splitlines()]
    assert sorted(checked) == sorted(f"data/{sample.parent.name}/{sample.name}" for sample in SAMPLES)


def test_the_replay_shows_what_differs(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    [report] = data.glob("claude-code/*-sample-mock/report.md")
    report.write_text(report.read_text().replace("- Incomplete exchanges: 0", "- Incomplete exchanges: 7"))
    [turns] = data.glob("codex/*-sample-http/turns.jsonl")
    turns.write_bytes(turns.read_bytes() + b"{}\n")
    [golden] = data.glob("codex/*-sample-v0.169.0/diff-*.md")
    golden.write_text(golden.read_text().replace("### Changed: `functions.exec`", "### Changed: `functions.other`"))
    mismatches = replay(data)
    # In the order of the runs, which is the order of their times: the codex pair, Claude Code, codex over HTTP.
    assert [mismatch.path for mismatch in mismatches] == [golden, report, turns]
    assert "-- Incomplete exchanges: 7" in mismatches[1].difference
    assert "+- Incomplete exchanges: 0" in mismatches[1].difference
    assert "-{}" in mismatches[2].difference
    assert "+### Changed: `functions.exec`" in mismatches[0].difference

    monkeypatch.setenv("PROBE_DATA_DIR", str(data))
    assert samples_main([]) == 1
    err = capsys.readouterr().err
    assert f"differs: {report}" in err and "3 committed files differ" in err
    assert samples_main(["--update"]) == 0 and samples_main([]) == 0
    assert "- Incomplete exchanges: 0" in report.read_text()


def test_the_codex_version_pair_diff_names_what_changed():
    [golden] = (PROJECT_ROOT / "data").glob("codex/*-sample-v0.169.0/diff-*-sample-v0.166.0.md")
    text = golden.read_text()
    assert "- Only in A: `GET /backend-api/plugins/featured` ×1" in text  # only 0.166.0 calls it
    assert "### Changed: `functions.exec`" in text  # the exec tool's description changed
    assert "developer block host_skills.instructions changed" in text  # a skill's description line changed
    assert "\n- openai-docs: [-Use for Codex models/pricing, " in text and "-]{+API first-timers, Codex/Work" in text
    # ... and nothing else: the other sections are the versions' own (their agent and headers), or measured.
    # (0.166.0's plugin request is no model call: its host is among the other requests, and so compared too.)
    structural = "- Structural changes: summary, endpoints, headers, instructions, tools, other hosts"
    # The mock drops the prompt cache now and then: in this pair, on one side.
    changed = "usage, context, context window, cost, prompt cache, time, sizes and timings differ too"
    assert f"{structural} ({changed})" in text
    # The changed skill line and the exec tool's description, in tokens: what the context is made of changed.
    assert "counted with o200k_base: instructions +18 tokens, tool definitions \u2212148 tokens." in text
    assert "| `developer block host_skills.instructions` | 453 | 471 | +18 (+4%) |" in text
    assert text.count("### Changed: ") == 1 and text.count("changed (") == 1


def test_the_claude_code_pin_pair_diff_names_what_changed():
    [golden] = (PROJECT_ROOT / "data").glob("claude-code/*-sample-v2.1.332/diff-*-sample-mock.md")
    text = golden.read_text()
    assert "| agent | `2.1.330 (Claude Code)` | `2.1.332 (Claude Code)` |  |" in text
    assert "| models | `claude-opus-5-5` ×2 | `claude-opus-5-5` ×2 |  |" in text
    # The one tool that changed: ToolSearch no longer requires max_results.
    assert text.count("### Changed: ") == 1 and "### Changed: `ToolSearch`" in text
    assert '| `required` | `["query", "max_results"]` | `["query"]` |' in text


def test_outside_a_checkout_it_says_it_needs_one_not_that_there_are_no_samples(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))  # an installed agent-probe's runs: no sample among them
    monkeypatch.setattr(samples, "checkout", lambda: None)  # as an installed agent-probe is
    assert run_main(samples_main, []) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: samples runs from agent-probe's checkout, which holds the sample runs (data/*/*-sample-*)\n"
    )
