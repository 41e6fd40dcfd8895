"""The analysis's shortcuts for what a session re-sends make the same outputs as the slow paths they stand for:
report.md, report.html, turns.jsonl and insight.jsonl byte for byte (but the generated-at stamp), on every capture
of the readers' corpus, every bundled sample and generated sessions of each shape.

The shortcuts: masking a body's long fields once across requests (probe.read.history_masks), taking a re-sent
history's digests from the request before (probe.read.history_reads), keys of items by identity
(probe.apis.turns), the viewer's lookups of raw history items by those digests (probe.write.viewer.data),
recognising an exchange's API from the head of its stream, not the whole parse (probe.apis.recognise), a body told to
be within the thinning budgets from its JSON text rather than walked (probe.read.thinning), short captured texts
written as prose once (probe.common.markdown), a re-sent history's JSON text handed on by its masking rather than
written out again (probe.read.history_reads.known_text), and URLs and headers masked once a process
(probe.read.masked)."""

import shutil
import sys
from pathlib import Path

import pytest

from probe.analysis.report import same_page, same_report, write_report
from probe.apis import recognise
from probe.apis.turns import TurnBuilder
from probe.common import markdown
from probe.read import history_reads, masked, thinning
from probe.read.history_masks import HistoryMasks
from probe.read.history_reads import HistoryReads, as_sent
from probe.redact.masking import mask_headers, mask_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(
    path for path in (PROJECT_ROOT / "tests" / "corpus").glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl")
)
SAMPLES = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import generate  # noqa: E402

OUTPUTS = ("report.md", "report.html", "turns.jsonl", "insight.jsonl")


def whole_stream_first_events(exchange, count):
    events = exchange.stream_events()
    return events[:count] if events is not None else None


def slow_paths(monkeypatch) -> None:
    monkeypatch.setattr(recognise, "first_events", whole_stream_first_events)
    monkeypatch.setattr(HistoryMasks, "masked", lambda self, body, mask: None)
    monkeypatch.setattr(HistoryReads, "sent", lambda self, raws: as_sent(raws))
    monkeypatch.setattr(HistoryReads, "digests", lambda self, raws: None)
    monkeypatch.setattr(TurnBuilder, "keys_of", lambda self, items: [self.key(item) for item in items])
    monkeypatch.setattr(thinning, "within_budgets", lambda value: False)
    monkeypatch.setattr(markdown, "SHORT_TEXT", -1)
    monkeypatch.setattr(history_reads, "known_text", lambda value: None)
    monkeypatch.setattr(masked, "masked_url", lambda url: mask_url(url)[0])
    monkeypatch.setattr(masked, "masked_headers", lambda pairs, extra: mask_headers(pairs, extra)[0])


def written(traffic: Path, run: Path, tmp_path: Path, kept_in: str) -> Path:
    """Analyse `traffic` in one folder (the report names its source, so both analyses use the same one) and keep
    the outputs in `kept_in`."""
    folder, kept = tmp_path / "run", tmp_path / kept_in
    folder.mkdir(exist_ok=True)
    kept.mkdir()
    shutil.copy(traffic, folder / "traffic.jsonl")
    write_report(folder / "traffic.jsonl", folder / "report.md", None, run)
    for name in OUTPUTS:
        (folder / name).rename(kept / name)
    return kept


def assert_same(fast: Path, slow: Path) -> None:
    for name in OUTPUTS:
        same = {"report.md": same_report, "report.html": same_page}.get(name)
        if same is not None:
            assert same(fast / name, slow / name), name
        else:
            assert (fast / name).read_bytes() == (slow / name).read_bytes(), name


def compared(traffic: Path, run: Path, tmp_path: Path, monkeypatch) -> None:
    fast = written(traffic, run, tmp_path, "fast")
    with monkeypatch.context() as patched:
        slow_paths(patched)
        slow = written(traffic, run, tmp_path, "slow")
    assert_same(fast, slow)


@pytest.mark.parametrize("case", [*CASES, *SAMPLES], ids=lambda case: "/".join(case.parts[-3:-1] + (case.stem,)))
def test_each_capture_analysed_with_the_shortcuts_is_analysed_as_without(case, tmp_path, monkeypatch):
    compared(case, case.parent, tmp_path, monkeypatch)


@pytest.mark.parametrize("shape", ["codex", "growing", "deltas", "items"])
def test_generated_sessions_analysed_with_the_shortcuts_are_analysed_as_without(shape, tmp_path, monkeypatch):
    traffic = tmp_path / "generated.jsonl"
    generate(traffic, 2 if shape != "items" else 5, 8, shape)
    compared(traffic, tmp_path, tmp_path, monkeypatch)
