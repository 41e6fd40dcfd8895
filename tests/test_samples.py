"""Re-analysing each bundled sample reproduces its committed report (apart from the generated-at line) and
turns.jsonl."""

import io
from pathlib import Path

import pytest

from probe.analyze import GENERATED_AT, build_report, choose_renderer
from probe.runs import read_manifest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))


def without_generated_at(report: str) -> list[str]:
    return [line for line in report.splitlines() if not line.startswith(GENERATED_AT)]


def test_samples_exist_for_both_codex_transports_and_claude_code():
    names = [f"{sample.parent.name}/{sample.name}" for sample in SAMPLES]
    assert any(name.startswith("codex/") and name.endswith("sample-http") for name in names)
    assert any(name.startswith("codex/") and name.endswith("sample-websocket") for name in names)
    assert any(name.startswith("claude-code/") and name.endswith("sample-mock") for name in names)


def test_claude_code_sample_report_shows_the_tool_loop():
    [sample] = [sample for sample in SAMPLES if sample.parent.name == "claude-code"]
    report = (sample / "report.md").read_text()
    assert "**Tool call** `Bash`" in report and "output of Bash: agent-probe tool call" in report
    assert "**Messages**: + 1 new message; 3 carried over from #1" in report


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_sample_report_is_reproduced(sample):
    manifest = read_manifest(sample)
    choice_warnings = []
    renderer, extra_secrets = choose_renderer(None, manifest, choice_warnings)  # the manifest names a target
    turns = io.BytesIO()
    report, warnings = build_report(sample / "traffic.jsonl", renderer, manifest, extra_secrets, turns=turns)
    assert warnings == choice_warnings == []
    assert without_generated_at(report) == without_generated_at((sample / "report.md").read_text())
    assert turns.getvalue() == (sample / "turns.jsonl").read_bytes()


DIFFS = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*/diff-*.md"))


@pytest.mark.parametrize("golden", DIFFS, ids=[golden.name for golden in DIFFS])
def test_sample_diff_is_reproduced(golden, monkeypatch):
    """A bundled version pair: B's folder holds the diff against A, named after A's folder."""
    from probe.diff import diff_runs

    monkeypatch.chdir(PROJECT_ROOT)  # the diff names its runs relative to where it runs
    older = golden.parent.parent / golden.stem.removeprefix("diff-")
    text, warnings = diff_runs(older.relative_to(PROJECT_ROOT), golden.parent.relative_to(PROJECT_ROOT))
    assert warnings == []
    assert text + "\n" == golden.read_text()


def test_the_codex_version_pair_diff_names_what_changed():
    [golden] = [golden for golden in DIFFS if "0.166.0" in golden.name]
    text = golden.read_text()
    assert "- Only in A: `GET /backend-api/plugins/featured` ×1" in text  # only 0.166.0 calls it
    assert "### Changed: `functions.exec`" in text  # the exec tool's description changed
    assert "developer block host_skills.instructions changed" in text  # a skill's description line changed
    assert "\n-- openai-docs: " in text and "\n+- openai-docs: " in text
