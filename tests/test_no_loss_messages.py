"""Nothing a Messages API capture holds is lost: every text of the bundled Claude Code sample, and of every case
of the Messages corpus, reaches turns.jsonl and report.md, each on its own, but in the few places that are
dropped by design."""

import re
import shutil
from pathlib import Path

import pytest
from losses import losses
from test_corpus import CORPUS, target_for

from probe.analyze import analyze_run, write_report

PROJECT_ROOT = Path(__file__).resolve().parent.parent
[SAMPLE] = sorted((PROJECT_ROOT / "data" / "claude-code").glob("*-sample-mock"))
CASES = sorted(path for path in (CORPUS / "anthropic.messages").glob("*.jsonl") if ".turns." not in path.name)
ZERO_WIDTH_SPACE = "\u200b"  # what the report puts after `<` in code, so that no HTML parser reads markup there

DROPPED_BY_DESIGN = re.compile(
    r"event\[\d+\]\.delta\.("
    # A delta's type: deltas are joined into their block, and the stream's events are counted by event type.
    r"type"
    # A piece of a tool call's input JSON: the pieces are joined and the call's arguments parsed from them.
    r"|partial_json"
    r")$"
)


def outputs(turns: Path, report: Path) -> dict[str, str]:
    return {"turns.jsonl": turns.read_text(), "report.md": report.read_text().replace(ZERO_WIDTH_SPACE, "")}


def assert_nothing_lost(traffic: Path, written: dict[str, str]) -> None:
    for name, text in written.items():
        lost = losses(traffic, [text], DROPPED_BY_DESIGN)
        assert not lost, f"{name} lacks {len(lost)} captured text(s), first: {lost[:5]}"


def test_the_claude_code_sample_loses_nothing(tmp_path):
    run = tmp_path / SAMPLE.name
    run.mkdir()
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(SAMPLE / name, run / name)
    report, warnings = analyze_run(run)
    assert not warnings
    # The design list is not a blanket: the sample has both kinds, and nothing else is left out.
    dropped = [where for where, _ in losses(run / "traffic.jsonl", [], None) if DROPPED_BY_DESIGN.search(where)]
    assert any(where.endswith(".type") for where in dropped) and any("partial_json" in where for where in dropped)
    assert_nothing_lost(run / "traffic.jsonl", outputs(run / "turns.jsonl", report))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.stem)
def test_no_corpus_case_loses_anything(case, tmp_path):
    capture = tmp_path / "capture.jsonl"
    shutil.copy(case, capture)
    report, _ = write_report(capture, tmp_path / "report.md", target_for("anthropic.messages", tmp_path), tmp_path)
    assert_nothing_lost(capture, outputs(tmp_path / "turns.jsonl", report))
