"""Nothing a capture holds is lost: every captured text of every bundled sample and every corpus case reaches
turns.jsonl or report.md, but for the few places dropped by design listed here, each with why, and the bodies of
requests that are no model call (counted by host, path and size in the report's Other hosts)."""

import shutil
from pathlib import Path

import pytest
from losses import DROPPED, ZERO_WIDTH_SPACE, losses, other_requests

from probe.analysis.report import write_report

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(path.parent for path in (ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
CORPUS = sorted(
    path for path in (ROOT / "tests" / "corpus").glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl")
)


def outputs_of(traffic: Path, run: Path) -> list[str]:
    """turns.jsonl and report.md as `invoke analyze` writes them for the capture, in a scratch run folder."""
    report, warnings = write_report(traffic, run / "report.md", None, run)
    assert not [warning for warning in warnings if "failed" in warning], warnings
    return [(run / "turns.jsonl").read_text(), report.read_text().replace(ZERO_WIDTH_SPACE, "")]


def test_every_agent_has_a_sample_checked():
    assert {sample.parent.name for sample in SAMPLES} == {"codex", "claude-code", "gemini", "opencode", "qwen-code"}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"{sample.parent.name}/{sample.name}")
def test_no_text_of_a_bundled_sample_is_lost(sample, tmp_path):
    run = tmp_path / sample.name
    shutil.copytree(sample, run, ignore=shutil.ignore_patterns("report.*", "turns.jsonl", "diff-*"))
    outputs = outputs_of(run / "traffic.jsonl", run)
    assert losses(run / "traffic.jsonl", outputs, DROPPED, other_requests(run)) == []


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: f"{case.parent.name}/{case.stem}")
def test_no_text_of_a_corpus_case_is_lost(case, tmp_path):
    traffic = tmp_path / "traffic.jsonl"
    shutil.copyfile(case, traffic)
    outputs = outputs_of(traffic, tmp_path)
    assert losses(traffic, outputs, DROPPED, other_requests(tmp_path)) == []


def test_a_dropped_place_is_only_what_the_list_names():
    # The tool-call pieces of a real qwen-code stream are the only texts it drops, and only by that rule.
    [sample] = [sample for sample in SAMPLES if sample.parent.name == "qwen-code"]
    lost = losses(sample / "traffic.jsonl", [""], None)
    pieces = [where for where, _ in lost if DROPPED.search(where)]
    assert pieces and all(".delta.tool_calls[0].function.arguments" in where for where in pieces)


def test_text_deltas_are_not_among_the_dropped_places():
    """A text delta is looked for like any text: the pieces of a bare-delta answer that no output shows are lost."""
    case = ROOT / "tests" / "corpus" / "openai.responses" / "original-tool-format.jsonl"
    lost = losses(case, ["nothing of it"], DROPPED)
    assert any(where.endswith("{response.output_text.delta}.delta") for where, _ in lost)
    assert any(where.endswith("{response.reasoning_summary_text.delta}.delta") for where, _ in lost)
