"""An analysis of a run whose capture grew starts from the reading the last one saved (probe.analysis.resume), reads
only the lines added since, and writes, byte for byte apart from the generated-at stamps, what a full analysis
writes; a saved reading that does not hold (tampered with, signed with another key, for a capture rewritten)
is not used."""

import os
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

import probe.read.traffic_from as traffic_from
import probe.write.insight_lines as insight_lines
from probe.analysis.report import write
from probe.analysis.report_job import plan
from probe.analysis.resume import FOLDER
from probe.runs.targets import load_target

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import generate  # bench/ is not a package: its folder is put on the path

OUTPUTS = ("report.md", "report.html", "turns.jsonl", "insight.jsonl")
STAMPS = re.compile(rb'- Generated at: [^\n]*|<meta name="generated" content="[^"]*"')
SAMPLES = sorted(path.parent for path in PROJECT_ROOT.glob("data/*/*-sample-*/traffic.jsonl"))
TARGETS = {"codex": "codex", "deltas": "codex", "growing": "claude-code", "items": "codex"}


@pytest.fixture
def lines_read(monkeypatch) -> list[int]:
    """The numbers of the capture's lines each analysis parses, as they are parsed."""
    parsed: list[int] = []
    original = traffic_from.exchange_of_line

    def counted(raw, line_number, *rest):
        parsed.append(line_number)
        return original(raw, line_number, *rest)

    monkeypatch.setattr(traffic_from, "exchange_of_line", counted)
    return parsed


def analyse(run: Path, target: str | None = None) -> list[str]:
    """Analyse the run folder as `analyze --run` does; its warnings."""
    chosen = load_target(target) if target else None
    return write(plan(run / "traffic.jsonl", run / "report.md", chosen, run))[1]


def outputs(run: Path) -> dict[str, bytes]:
    return {name: STAMPS.sub(b"", (run / name).read_bytes()) for name in OUTPUTS}


def full_analysis(run: Path, target: str | None) -> tuple[dict[str, bytes], list[str]]:
    """The outputs and warnings of a full analysis of the run's capture, made at the same path (the report names
    it), the run folder as it was put back afterwards."""
    aside = run.with_name(run.name + "-aside")
    run.rename(aside)
    run.mkdir()
    for name in ("traffic.jsonl", "manifest.json"):
        if (aside / name).exists():
            shutil.copy(aside / name, run / name)
    warnings = analyse(run, target)
    made = outputs(run)
    shutil.rmtree(run)
    aside.rename(run)
    return made, warnings


def split_at(capture: bytes, cuts: list[int], run: Path, target: str | None = None, manifest: Path | None = None):
    """Grow the run's capture to each cut in turn, analysing it each time: each analysis must write what a full
    analysis of the capture as it stands writes."""
    run.mkdir(parents=True)
    if manifest is not None:
        shutil.copy(manifest, run / "manifest.json")
    for cut in [*cuts, len(capture)]:
        (run / "traffic.jsonl").write_bytes(capture[:cut])
        warnings = analyse(run, target)
        expected, expected_warnings = full_analysis(run, target)
        assert warnings == expected_warnings, cut
        made = outputs(run)
        for name in OUTPUTS:
            assert made[name] == expected[name], f"{name} differs when the capture is cut at byte {cut}"


def line_ends(capture: bytes) -> list[int]:
    return [index + 1 for index, byte in enumerate(capture) if byte == 0x0A]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_every_sample_grown_line_by_line_and_cut_mid_line_reads_as_a_whole(sample, tmp_path):
    capture = (sample / "traffic.jsonl").read_bytes()
    ends = line_ends(capture)
    middles = [(start + end) // 2 for start, end in zip([0, *ends], ends, strict=False)]
    cuts = sorted(set(ends[:-1] + middles))
    target = sample.parent.name
    split_at(capture, cuts, tmp_path / target / "run", target, sample / "manifest.json")


# The largest shape takes over five seconds: CI runs it, `nox -s quick` does not.
@pytest.mark.parametrize(
    "shape", [pytest.param(s, marks=pytest.mark.slow) if s == "items" else s for s in sorted(TARGETS)]
)
def test_generated_captures_grown_in_steps_read_as_a_whole(shape, tmp_path):
    generated = tmp_path / "capture.jsonl"
    generate(generated, 9 if shape == "items" else 1.5, 6, shape)
    capture = generated.read_bytes()
    ends = line_ends(capture)
    cuts = sorted({*ends[: -1 : max(1, len(ends) // 6)], *(end - 100 for end in ends[1 :: max(1, len(ends) // 4)])})
    split_at(capture, cuts, tmp_path / "run", TARGETS[shape])


def grown_run(tmp_path: Path, lines: int = 6) -> tuple[Path, list[bytes]]:
    """A run of the HTTP sample's first `lines` lines, analysed, and the lines of the sample left to add."""
    sample = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
    capture = (sample / "traffic.jsonl").read_bytes().splitlines(keepends=True)
    while len(capture) < lines + 4:  # a longer capture: the sample's lines again, read as more exchanges
        capture += capture
    run = tmp_path / "codex" / "run"
    run.mkdir(parents=True)
    shutil.copy(sample / "manifest.json", run)
    (run / "traffic.jsonl").write_bytes(b"".join(capture[:lines]))
    analyse(run)
    return run, capture[lines:]


def append(run: Path, *lines: bytes) -> None:
    with (run / "traffic.jsonl").open("ab") as out:
        out.write(b"".join(lines))


def read_whole(run: Path, lines_read: list[int], lines: int = 7) -> None:
    """Analyse the run, which must read its capture's `lines` lines from the first, as a full analysis does."""
    lines_read.clear()
    analyse(run)
    assert lines_read == list(range(1, lines + 1))
    assert outputs(run) == full_analysis(run, None)[0]


def test_an_analysis_after_more_exchanges_reads_only_the_new_lines(tmp_path, lines_read):
    run, more = grown_run(tmp_path)
    lines_read.clear()
    append(run, *more[:2])
    analyse(run)
    assert lines_read == [7, 8]
    assert outputs(run) == full_analysis(run, None)[0]


def test_the_span_records_an_analysis_ended_with_are_not_masked_again_by_the_next(tmp_path, monkeypatch):
    """Masking the run's intervals again was most of an incremental analysis's time: the last one's are reused."""
    generate(tmp_path / "capture.jsonl", 0.1, 6, "growing")  # one session: each exchange later than the last
    capture = (tmp_path / "capture.jsonl").read_bytes().splitlines(keepends=True)
    run = tmp_path / "run"
    run.mkdir()
    (run / "traffic.jsonl").write_bytes(b"".join(capture[:-2]))
    analyse(run, "claude-code")
    masked: list[str] = []

    def counted(record, **options):
        masked.append(record["record"])
        return original(record, **options)

    original = insight_lines.mask_json
    monkeypatch.setattr(insight_lines, "mask_json", counted)
    append(run, *capture[-2:])
    analyse(run, "claude-code")
    spans = [line for line in (run / "insight.jsonl").read_bytes().splitlines() if b'"record":"span"' in line]
    assert 0 < masked.count("span") <= 4 < len(spans)  # a model call and a tool call each, and the last ones
    assert outputs(run) == full_analysis(run, "claude-code")[0]


def test_a_half_written_last_line_is_read_again_once_it_is_whole(tmp_path, lines_read):
    run, more = grown_run(tmp_path)
    append(run, more[0], more[1][:100])
    warnings = analyse(run)
    assert any("line 8: not valid JSON" in warning for warning in warnings)
    lines_read.clear()
    append(run, more[1][100:])
    warnings = analyse(run)
    assert lines_read == [8]
    assert (outputs(run), warnings) == full_analysis(run, None)


def flip_a_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_saved_reading_tampered_with_is_not_used(tmp_path, lines_read, where):
    run, more = grown_run(tmp_path)
    state = run / FOLDER / "state"
    flip_a_byte(state, {"start": 40, "middle": state.stat().st_size // 2, "end": state.stat().st_size - 1}[where])
    append(run, more[0])
    read_whole(run, lines_read)


def test_a_saved_reading_signed_with_another_key_is_not_used(tmp_path, lines_read, monkeypatch):
    run, more = grown_run(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another machine"))
    append(run, more[0])
    read_whole(run, lines_read)
    key = tmp_path / "another machine" / "agent-probe" / "state.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_capture_rewritten_rather_than_grown_is_read_whole(tmp_path, lines_read):
    run, more = grown_run(tmp_path)
    lines = (run / "traffic.jsonl").read_bytes().splitlines(keepends=True)
    (run / "traffic.jsonl").write_bytes(b"".join([lines[1], *lines[1:], more[0]]))
    read_whole(run, lines_read)


def test_a_capture_cut_shorter_is_read_whole(tmp_path, lines_read):
    run, _ = grown_run(tmp_path)
    lines = (run / "traffic.jsonl").read_bytes().splitlines(keepends=True)
    (run / "traffic.jsonl").write_bytes(b"".join(lines[:3]))
    read_whole(run, lines_read, 3)


@pytest.mark.parametrize("output", ["report.md", "turns.jsonl", "insight.jsonl"])
def test_outputs_changed_since_are_made_again_from_the_capture(tmp_path, lines_read, output):
    run, more = grown_run(tmp_path)
    path = run / output
    path.write_bytes(b"edited\n" + path.read_bytes()[7:])
    append(run, more[0])
    read_whole(run, lines_read)


def test_another_renderer_or_masking_reads_the_capture_whole(tmp_path, lines_read):
    run, more = grown_run(tmp_path)
    append(run, more[0])
    lines_read.clear()
    write(plan(run / "traffic.jsonl", run / "report.md", None, run, redact=False))
    assert lines_read == list(range(1, 8))


def test_force_reads_the_capture_whole_and_saves_a_reading_the_next_analysis_goes_on_from(tmp_path, lines_read):
    run, more = grown_run(tmp_path)
    append(run, more[0])
    lines_read.clear()
    write(plan(run / "traffic.jsonl", run / "report.md", None, run), afresh=True)
    assert lines_read == list(range(1, 8))
    assert outputs(run) == full_analysis(run, None)[0]
    lines_read.clear()
    append(run, more[1])
    analyse(run)
    assert lines_read == [8]


def test_the_saved_reading_is_private_and_only_kept_in_a_run_folder(tmp_path):
    run, _ = grown_run(tmp_path)
    saved = sorted((run / FOLDER).iterdir())
    assert [path.name for path in saved][-1] == "state"
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in saved)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(plan(run / "traffic.jsonl", elsewhere / "report.md", None, run))
    assert not (elsewhere / FOLDER).exists()
    assert set(OUTPUTS) <= set(os.listdir(elsewhere))


def test_a_saved_reading_folder_that_is_a_link_is_never_written_through(tmp_path):
    run, more = grown_run(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (run / FOLDER).rename(elsewhere)
    (run / FOLDER).symlink_to(elsewhere)
    before = {path.name: path.read_bytes() for path in elsewhere.iterdir()}
    append(run, more[0])
    analyse(run)
    assert not (run / FOLDER).is_symlink() and (run / FOLDER / "state").is_file()
    assert {path.name: path.read_bytes() for path in elsewhere.iterdir()} == before
