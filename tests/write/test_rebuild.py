"""`analyze --run all` and single-run analysis rebuild a report only when it is older than what it is made from (the
capture, the manifest, the renderer's and the analyzer's code, the target file) or was made another way."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, post_json

from probe.analysis import analyze
from probe.common.paths import display
from probe.read.whole_turns import whole_turns
from probe.runs import code_files
from probe.runs import folders as runs
from probe.runs.code_files import source_files
from probe.runs.ledger import REPORT, out_of_date, record_made
from probe.write.insight_lines import turn_line_fields

SAMPLES = {
    "codex": PROJECT_ROOT / "data/codex/20261125-123532-sample-http",
    "claude-code": PROJECT_ROOT / "data/claude-code/20261125-122623-sample-mock",
}
SUMMARY = "{} up to date, {} rebuilt, {} failed"
PRICES = f"genai-prices {version('genai-prices')}"  # the price data a report names, with no price file
# What a report of a run recorded against the mock names (the samples' copies below were): the mock's price file.
MOCK_DIGEST = hashlib.sha256((PROJECT_ROOT / "probe/analyse/mock_prices.yaml").read_bytes()).hexdigest()[:12]
MOCK_PRICES = f"mock_prices.yaml (sha256 {MOCK_DIGEST}) then {PRICES}"


def make_runs(data: Path, count: int = 2) -> list[Path]:
    """`count` runs of each sample's capture under data/<target>/, without reports."""
    made = []
    for target, sample in SAMPLES.items():
        for index in range(count):
            run = data / target / f"20260101-00000{index}-copy"
            run.mkdir(parents=True)
            for name in ("traffic.jsonl", "manifest.json"):
                shutil.copy(sample / name, run / name)
            made.append(run)
    return made


def still_capturing(run: Path) -> int:
    """Mark the run `running` and hold its folder as a live capture does; close the returned lock to end it."""
    manifest = (run / "manifest.json").read_text()
    (run / "manifest.json").write_text(manifest.replace('"status": "complete"', '"status": "running"'))
    return runs.hold_while_recording(run)


def analyze_all(capsys, *options: str) -> tuple[int, list[str]]:
    code = analyze.main(["--run", "all", *options])
    return code, capsys.readouterr().out.splitlines()


def set_mtime(when: float, *paths: Path) -> None:
    """File times set by hand, so that which file is newer never depends on the clock's resolution."""
    for path in paths:
        os.utime(path, (when, when))


def outputs(run: Path) -> list[Path]:
    return [run / name for name in REPORT.outputs]


def made_at(when: float, *runs: Path) -> None:
    """The runs' reports as if this machine had made them at `when` (setting a time changes what it recorded)."""
    for run in runs:
        set_mtime(when, *outputs(run))
        record_made(run, REPORT)


def test_a_second_run_all_rebuilds_nothing(private_data_dir, capsys):
    made = make_runs(private_data_dir)
    code, lines = analyze_all(capsys)
    assert code == 0
    assert lines[-1] == SUMMARY.format(0, 4, 0)
    assert sorted(lines[:-1]) == sorted(f"rebuilt {run}: report.md is missing" for run in made)
    reports = {run: (run / "report.md").read_text() for run in made}
    assert "**Tool call** `Bash`" in reports[made[2]]  # the Claude Code runs got their own renderer
    assert "- Made with: renderer `probe.apis.anthropic_messages.report`, captured text masked" in reports[made[2]]
    assert "- Made with: renderer `probe.apis.openai_responses.report`, captured text masked" in reports[made[0]]
    # The same lines as the sample's, but for the window and share the analysis gives them: this run, a mock run,
    # was priced by the mock's table, the sample by its own (probe.samples).
    analysis = set(turn_line_fields({}))

    def reader_fields(run: Path) -> list[dict]:
        return [{key: value for key, value in line.items() if key not in analysis} for line in whole_turns(run)]

    rebuilt, sample = reader_fields(made[0] / "turns.jsonl"), reader_fields(SAMPLES["codex"] / "turns.jsonl")
    assert rebuilt == sample and len(rebuilt) >= 2

    mtimes = {run: (run / "report.md").stat().st_mtime_ns for run in made}
    assert analyze_all(capsys) == (0, [SUMMARY.format(4, 0, 0)])
    assert {run: (run / "report.md").stat().st_mtime_ns for run in made} == mtimes  # not even rewritten


def test_touching_one_capture_rebuilds_exactly_that_run(private_data_dir, capsys):
    made = make_runs(private_data_dir)
    analyze_all(capsys)
    now = time.time()
    for run in made:
        made_at(now, run)
    set_mtime(now + 1, made[1] / "traffic.jsonl")  # a touch, a second later
    assert analyze_all(capsys) == (
        0,
        [f"rebuilt {made[1]}: traffic.jsonl is newer than report.md", SUMMARY.format(3, 1, 0)],
    )
    set_mtime(now - 1, made[1] / "traffic.jsonl")  # back in the past, before the new report
    set_mtime(now + 100, made[3] / "manifest.json")
    assert analyze_all(capsys)[1] == [
        f"rebuilt {made[3]}: manifest.json is newer than report.md",
        SUMMARY.format(3, 1, 0),
    ]
    set_mtime(now - 1, made[3] / "manifest.json")
    (made[0] / "turns.jsonl").unlink()
    assert analyze_all(capsys)[1] == [f"rebuilt {made[0]}: turns.jsonl is missing", SUMMARY.format(3, 1, 0)]


def test_the_analyzer_code_counts_as_a_source(private_data_dir, capsys):
    made = make_runs(private_data_dir, count=1)
    analyze_all(capsys)
    newest_code = max(source_files("probe.analysis.report"), key=lambda path: path.stat().st_mtime)
    older = newest_code.stat().st_mtime - 10
    set_mtime(older - 10, made[0] / "traffic.jsonl", made[0] / "manifest.json")
    made_at(older, made[0])  # older than the analyzer's newest file, newer than the capture
    # The first of the analyzer's files found newer is named (after a checkout, all of them are as new).
    [line, summary] = analyze_all(capsys)[1]
    assert summary == SUMMARY.format(1, 1, 0)
    named = re.fullmatch(rf"rebuilt {re.escape(str(made[0]))}: (\S+) is newer than report.md", line).group(1)
    assert named in {display(path) for path in source_files("probe.analysis.report")}
    assert Path(named).stat().st_mtime > older


def test_the_renderer_module_and_the_target_file_count_as_sources(private_data_dir, tmp_path, capsys, monkeypatch):
    """A target of one's own: touching its renderer module, or its file, rebuilds its runs and no others."""
    # Another test of this worker may have found an `own_renderer` of its own, in its own folder: found anew here.
    code_files.source_files.cache_clear()
    monkeypatch.delitem(sys.modules, "own_renderer", raising=False)
    package = tmp_path / "own"
    package.mkdir()
    renderer = package / "own_renderer.py"
    renderer.write_text("from probe.apis.generic.report import *  # noqa: F403\n")
    monkeypatch.syspath_prepend(str(package))
    target_file = tmp_path / "own.yaml"
    target_file.write_text(
        (PROJECT_ROOT / "targets/codex.yaml")
        .read_text()
        .replace("name: codex", "name: own", 1)
        .replace("renderer: probe.apis.openai_responses.report", "renderer: own_renderer", 1)
    )
    own = private_data_dir / "own" / "20260101-000000-mine"
    own.mkdir(parents=True)
    shutil.copy(SAMPLES["codex"] / "traffic.jsonl", own / "traffic.jsonl")
    [codex_run, _] = make_runs(private_data_dir, count=1)
    assert analyze_all(capsys, "--target", str(target_file)) == (0, [f"rebuilt {own}: report.md is missing",
                                                                      SUMMARY.format(0, 1, 0)])  # fmt: skip
    assert "- Made with: renderer `own_renderer`, captured text masked" in (own / "report.md").read_text()
    analyze_all(capsys, "--target", "codex")

    for source in (renderer, target_file):
        now = time.time()
        made_at(now, own, codex_run)
        set_mtime(now + 100, source)
        assert analyze_all(capsys, "--target", str(target_file)) == (
            0,
            [f"rebuilt {own}: {display(source)} is newer than report.md", SUMMARY.format(0, 1, 0)],
        )
        assert analyze_all(capsys, "--target", "codex") == (0, [SUMMARY.format(1, 0, 0)])  # never stale
        set_mtime(now - 1, source)


def test_force_rebuilds_everything_and_a_failed_run_does_not_stop_the_others(private_data_dir, capsys):
    made = make_runs(private_data_dir, count=1)
    broken = private_data_dir / "codex" / "20260102-000000-broken"
    (broken / "traffic.jsonl").mkdir(parents=True)  # not a file
    code, lines = analyze_all(capsys, "--force")
    assert code == 1
    assert lines == [  # in the order of the runs' names: claude-code's, codex's, then the broken one
        f"rebuilt {made[1]}: --force",
        f"rebuilt {made[0]}: --force",
        f"failed {broken}: {broken}/traffic.jsonl: no such file (is {broken} a run folder?)",
        SUMMARY.format(0, 2, 1),
    ]
    assert analyze_all(capsys, "--force")[1][-1] == SUMMARY.format(0, 2, 1)


def test_a_report_made_another_way_is_rebuilt(private_data_dir, capsys):
    """File times cannot tell a --no-redact report from a masked one: the report's stamp line can."""
    [run, other] = make_runs(private_data_dir, count=1)
    analyze.main(["--run", str(other)])
    analyze.main(["--run", str(run), "--no-redact"])
    assert "captured text as captured (--no-redact)" in (run / "report.md").read_text()
    analyze.main(["--run", str(run), "--no-redact"])
    assert "(up to date: nothing it is made from has changed; --force rebuilds it)" in capsys.readouterr().out
    assert analyze_all(capsys)[1] == [
        f"rebuilt {run}: report.md was made with renderer `probe.apis.openai_responses.report`, captured text as "
        f"captured (--no-redact), prices `{MOCK_PRICES}`; now: renderer `probe.apis.openai_responses.report`, "
        f"captured text masked, prices `{MOCK_PRICES}`",
        SUMMARY.format(1, 1, 0),
    ]
    report = run / "report.md"
    report.write_text("\n".join(line for line in report.read_text().splitlines() if "Made with" not in line))
    record_made(run, REPORT)  # as if made here by a version without the stamp line
    assert (
        analyze_all(capsys)[1][0]
        == f"rebuilt {run}: report.md does not say how it was made (an older agent-probe wrote it)"
    )


def test_a_run_still_being_captured_is_skipped_with_a_note(private_data_dir, capsys):
    [run, other] = make_runs(private_data_dir, count=1)
    lock = still_capturing(run)
    try:
        assert runs.being_recorded(run)
        code, lines = analyze_all(capsys)
        assert lines == [
            f"rebuilt {other}: report.md is missing",
            f"skipped {run}: still being captured (its manifest says running, and its proxies are up)",
            SUMMARY.format(0, 1, 0) + ", 1 skipped",
        ]
        assert code == 0 and not (run / "report.md").exists()
    finally:
        os.close(lock)
    # A `running` manifest with nobody holding the folder was left by a capture that died: it is analysed.
    assert not runs.being_recorded(run)
    assert analyze_all(capsys)[1] == [f"rebuilt {run}: report.md is missing", SUMMARY.format(1, 1, 0)]
    assert "this run is marked running" in (run / "report.md").read_text()


def test_the_proxies_hold_the_run_while_they_record(proxied):
    """The addon in the real mitmdump holds the folder's lock while it runs, without the capture process."""
    start, run = proxied
    (run / "manifest.json").write_text('{"status": "running"}')
    proxies = start()
    assert runs.being_recorded(run)
    status, _, _ = post_json(proxies.urls["model"], "/v1/responses", {"model": "m", "input": "hi", "stream": True})
    assert status == 200
    proxies.stop()
    assert not runs.being_recorded(run)


def test_a_capture_in_progress_is_skipped_and_analysed_once_it_ends(private_data_dir):
    """`invoke proxies` records until it is stopped: meanwhile --run all leaves its run alone."""
    recorder = subprocess.Popen(
        [sys.executable, "-m", "probe.record", "proxies", "--target", "codex", "--upstream", "mock",
         "--mock-transport", "http"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the manifest names the proxies once they listen
            found = list(private_data_dir.glob("codex/*"))
            if found and "proxies" in (runs.read_manifest(found[0]) or {}):
                break
            time.sleep(0.1)
        [run] = found
        assert runs.read_manifest(run)["status"] == "running"
        walk = [sys.executable, "-m", "probe.analysis.analyze", "--run", "all"]
        during = subprocess.run(walk, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert during.stdout.splitlines()[-1] == SUMMARY.format(0, 0, 0) + ", 1 skipped"
        assert f"skipped {run}: still being captured" in during.stdout
    finally:
        recorder.send_signal(2)
        recorder.communicate(timeout=60)
    after = subprocess.run(walk, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert after.stdout.splitlines() == [f"rebuilt {run}: report.md is missing", SUMMARY.format(0, 1, 0)]
    assert runs.read_manifest(run)["status"] == "complete"


def test_hostile_run_names_and_manifests_are_shown_inert(private_data_dir, capsys):
    run = private_data_dir / "codex" / "20260101-000000-\x1b[31mred"
    (run / "traffic.jsonl").mkdir(parents=True)
    (run / "manifest.json").write_text('{"status": "running", "target": "\\u001b[2J"}')
    assert not runs.being_recorded(run)
    code, lines = analyze_all(capsys)
    assert code == 1 and "\x1b" not in "".join(lines)
    assert lines[0].startswith("failed ") and "\\x1b[31mred" in lines[0]


def test_out_of_date_names_the_first_reason(tmp_path):
    (tmp_path / "traffic.jsonl").write_text("")
    assert out_of_date(tmp_path, REPORT) == "report.md is missing"
    for name in REPORT.outputs:
        (tmp_path / name).write_text("- Made with: x\n")
    assert out_of_date(tmp_path, REPORT, stamp="- Made with: x") == (
        "report.md was not made here (it came with the run folder, or was copied)"
    )
    record_made(tmp_path, REPORT)
    assert out_of_date(tmp_path, REPORT, stamp="- Made with: x") is None
    os.mkfifo(tmp_path / "fifo")
    os.replace(tmp_path / "fifo", tmp_path / "report.md")  # a FIFO is never opened: it would block
    assert out_of_date(tmp_path, REPORT, stamp="- Made with: x").startswith("report.md was not made here")


@pytest.mark.parametrize("output", [None, "elsewhere.md"])
def test_analyze_input_says_which_report_it_writes(tmp_path, capsys, output):
    traffic = tmp_path / "traffic.jsonl"
    shutil.copy(SAMPLES["codex"] / "traffic.jsonl", traffic)
    (tmp_path / "report.md").write_text("old")
    argv = ["--input", str(traffic)] + (["--output", str(tmp_path / output)] if output else [])
    assert analyze.main(argv) == 0
    captured = capsys.readouterr()
    if output is None:
        beside = "(and turns.jsonl, insight.jsonl, report.html) beside the input"
        assert captured.err == f"no --output: rewriting {tmp_path}/report.md {beside}\n"
        assert (tmp_path / "report.md").read_text().startswith("# agent-probe report")
    else:
        assert captured.err == "" and (tmp_path / "report.md").read_text() == "old"
    report = tmp_path / (output or "report.md")
    turns = report.with_name("turns.jsonl" if report.name == "report.md" else f"{report.stem}.turns.jsonl")
    insight = report.with_name("insight.jsonl" if report.name == "report.md" else f"{report.stem}.insight.jsonl")
    assert captured.out == (
        f"report: {report}\nviewer: {report.with_suffix('.html')}\nturns: {turns}\ninsight: {insight}\n"
    )


def test_a_rebuild_that_changes_nothing_keeps_the_files_and_renews_their_time(private_data_dir, capsys, tmp_path):
    """So that re-analysing a committed sample leaves version control with nothing to commit."""
    [run, _] = make_runs(private_data_dir, count=1)
    analyze.main(["--run", str(run)])
    report = run / "report.md"
    lines = report.read_text().splitlines(keepends=True)
    old = "".join("- Generated at: 2020-01-01 00:00:00 +0000\n" if line.startswith("- Generated at: ") else line
                  for line in lines)  # fmt: skip
    report.write_text(old)
    made_at(time.time() - 100, run)
    assert analyze.main(["--run", str(run)]) == 0 and "(up to date" not in capsys.readouterr().out
    assert report.read_text() == old  # the generated-at line of the report kept
    assert min(path.stat().st_mtime for path in outputs(run)) > time.time() - 50  # but made now, as make sees it
    assert analyze.main(["--run", str(run)]) == 0 and "(up to date" in capsys.readouterr().out

    elsewhere = tmp_path / "not-the-run.md"
    elsewhere.write_text(old)
    set_mtime(1_000_000, elsewhere)
    report.unlink()
    report.symlink_to(elsewhere)  # a run folder from elsewhere: the link is replaced, what it points to untouched
    analyze.main(["--run", str(run), "--force"])
    assert not report.is_symlink() and elsewhere.stat().st_mtime == 1_000_000


def test_input_and_run_together_are_an_error(tmp_path, capsys):
    assert analyze.run_main(analyze.main, ["--input", str(tmp_path / "traffic.jsonl"), "--run", "all"]) == 2
    assert (
        capsys.readouterr().err == "error: --input and --run are alternatives: analyse a traffic.jsonl file, or a run\n"
    )


def test_other_prices_make_the_report_anew(private_data_dir, capsys, tmp_path, monkeypatch):
    """The price data is part of what a report is made from: another price file, or an edited one, rebuilds it."""
    monkeypatch.delenv("PROBE_PRICES", raising=False)
    [run, _] = make_runs(private_data_dir, count=1)
    analyze.main(["--run", str(run)])
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  gpt-9: {input: 1, output: 2}\n")
    capsys.readouterr()
    assert analyze.main(["--run", str(run), "--prices", str(prices)]) == 0
    assert "(up to date" not in capsys.readouterr().out
    stamp = next(line for line in (run / "report.md").read_text().splitlines() if line.startswith("- Made with: "))
    assert stamp.endswith(f", prices `prices.yaml (sha256 {hashlib.sha256(prices.read_bytes()).hexdigest()[:12]}) "
                          f"then {PRICES}`")  # fmt: skip
    assert analyze.main(["--run", str(run), "--prices", str(prices)]) == 0
    assert "(up to date" in capsys.readouterr().out
    prices.write_text("models:\n  gpt-9: {input: 1, output: 3}\n")
    assert analyze.main(["--run", str(run), "--prices", str(prices)]) == 0
    assert "(up to date" not in capsys.readouterr().out
    # The price file was for those calls only, but the report keeps the prices it was made with: the next analysis
    # in the same process, without --prices, finds it up to date and leaves it priced as it was.
    assert "PROBE_PRICES" not in os.environ
    analyze.main(["--run", str(run)])
    assert "(up to date" in capsys.readouterr().out
    assert (run / "report.md").read_text().count(", prices `prices.yaml (sha256 ") == 1


def test_a_report_that_came_with_a_run_folder_is_made_anew(private_data_dir, capsys):
    """Times can be set to anything: a report shipped inside someone's run folder, dated in the future and with
    our stamp line, is still replaced by one of ours, which renders the capture inert."""
    [run, _] = make_runs(private_data_dir, count=1)
    stamp = "- Made with: renderer `probe.apis.openai_responses.report`, captured text masked"
    (run / "report.md").write_text(f"# agent-probe report\n{stamp}\n<img src=x onerror=alert(1)>\n")
    (run / "turns.jsonl").write_text("")
    (run / "report.html").write_text("<script>alert(1)</script>")
    (run / "insight.jsonl").write_text("")
    (run / ".made-here.json").write_text('{"schema": 1, "files": {"report.md": [1, 2, 3, 4]}}')  # forged
    set_mtime(4_000_000_000, *outputs(run))  # the year 2096
    assert analyze.main(["--run", str(run)]) == 0
    assert "(up to date" not in capsys.readouterr().out
    report = (run / "report.md").read_text()
    assert "onerror" not in report and "## Conversation log" in report and "- Run: target `codex`" in report
    assert "alert(1)" not in (run / "report.html").read_text()


def test_an_unreadable_report_is_replaced_without_a_traceback(private_data_dir, capsys):
    [run, _] = make_runs(private_data_dir, count=1)
    (run / "report.md").symlink_to("report.md")  # a link to itself: stat fails with ELOOP
    assert analyze.main(["--run", str(run)]) == 0
    assert (run / "report.md").is_file() and not (run / "report.md").is_symlink()
    (run / "manifest.json").unlink()
    (run / "manifest.json").symlink_to("manifest.json")  # only the manifest: ignored with a warning, as before
    code, lines = analyze_all(capsys, "--force")
    assert code == 0 and lines[-1] == SUMMARY.format(0, 2, 0)


def test_a_missing_data_folder_is_an_error_not_nothing_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path / "mistyped"))
    assert analyze.run_main(analyze.main, ["--run", "all"]) == 2
    assert (
        capsys.readouterr().err
        == f"error: no data folder at {tmp_path}/mistyped (see PROBE_DATA_DIR and invoke.yaml)\n"
    )


def test_one_run_still_being_captured_is_analysed_with_a_warning(private_data_dir, capsys):
    [run, _] = make_runs(private_data_dir, count=1)
    lock = still_capturing(run)
    try:
        assert analyze.main(["--run", str(run)]) == 0
    finally:
        os.close(lock)
    captured = capsys.readouterr()
    assert captured.err == f"warning: {run} is still being captured: the report covers what was recorded so far\n"
    assert "this run is marked running" in (run / "report.md").read_text()


def test_a_run_name_with_control_characters_is_printed_inert(private_data_dir, capsys):
    run = private_data_dir / "codex" / "20260101-000000-\x1b]0;pwned\x07"
    run.mkdir(parents=True)
    shutil.copy(SAMPLES["codex"] / "traffic.jsonl", run / "traffic.jsonl")
    assert analyze.main(["--run", "latest"]) == 0
    out = capsys.readouterr().out
    folder = f"{private_data_dir}/codex/20260101-000000-\\x1b]0;pwned\\x07"
    assert out == f"report: {folder}/report.md\nviewer: {folder}/report.html\n"
    assert analyze.main(["--input", str(run / "traffic.jsonl")]) == 0
    assert "\x1b" not in "".join(capsys.readouterr())
