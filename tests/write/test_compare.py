"""`invoke compare`: an origin run beside the runs made from it, each figure checked against the runs' own
turns.jsonl and insight.jsonl read here, the first differing request measured with volatile values ignored, captured
text inert, and bad input refused in one line; `invoke diff` still compares a fork with its origin."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fork_runs import CHEAPER, CLAUDE, CODEX_166, CODEX_169, CODEX_WEBSOCKET, copied, fork_with_model, with_manifest

from probe.analysis import compare
from probe.analysis.report import refresh
from probe.common.errors import run_main
from probe.write import diff as diff_script

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGh"
VERIFY = {"command": "test -f hello.py", "exit_code": 1, "seconds": 0.25,
          "tail": f"collected 3 items\n\x1b[31mFAILED\x1b[0m test_hello.py \u202eevil\u202c {KEY}"}  # fmt: skip


def compared(capsys, *argv: str) -> str:
    code = run_main(compare.main, list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def recomputed(run: Path) -> dict:
    """A run's figures from its analysis, read here line by line: tokens summed over turns.jsonl's usage, the cost
    summed over insight.jsonl's turns, tools counted from its tool calls, wall time from its run's time record."""
    tokens = dict.fromkeys(("input", "output", "cache_read", "cache_write"))
    models: dict[str, int] = {}
    turns = 0
    for line in (run / "turns.jsonl").read_text().splitlines():
        turn = json.loads(line)
        turns += 1
        models[turn["model"]] = models.get(turn["model"], 0) + 1
        for kind in tokens:
            count = (turn.get("usage") or {}).get(kind)
            if count is not None:
                tokens[kind] = (tokens[kind] or 0) + count
    cost, tools, wall = 0.0, {}, None
    for line in (run / "insight.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["record"] == "turn" and record["cost"]:
            cost += record["cost"]["usd"]
        elif record["record"] == "tool_call":
            tools[record["tool"]] = tools.get(record["tool"], 0) + 1
        elif record["record"] == "time" and record["agent"] is None:
            wall = record["wall_s"]
    return {"turns": turns, "tokens": tokens, "models": models, "cost": cost, "tools": tools, "wall_s": wall}


def test_a_fork_is_compared_with_its_origin_figure_by_figure(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=VERIFY)
    shown = json.loads(compared(capsys, "--run", str(fork), "--format", "json"))["runs"]  # the origin from its manifest
    assert [run["run"] for run in shown] == ["claude-code/20261127-100000-mock", "claude-code/20261127-100100-fork"]
    assert [run["role"] for run in shown] == ["origin", "fork of claude-code/20261127-100000-mock"]
    for run, folder in zip(shown, (origin, fork)):
        expected = recomputed(folder)
        assert run["turns"] == expected["turns"] == 2
        assert run["tokens"] == expected["tokens"]
        assert run["models"] == expected["models"]
        assert run["cost_usd"] == pytest.approx(expected["cost"], abs=1e-9)
        assert run["tools"] == expected["tools"] == {"Bash": 1}
        assert run["wall_s"] == expected["wall_s"] and run["wall_s"] > 0
    assert shown[0]["models"] == {"claude-opus-5-5": 2} and shown[1]["models"] == {"claude-opus-5-5": 1, CHEAPER: 1}
    assert shown[1]["cost_usd"] < shown[0]["cost_usd"]  # the second turn priced as the cheaper model
    # Declared where the fork was made, and measured where its requests first differ: the one after it.
    assert (shown[0]["fork_point"], shown[0]["first_difference"]) == (None, None)
    assert shown[1]["fork_point"] == 1 and shown[1]["first_difference"] == {"number": 2, "note": ""}
    assert shown[1]["verify"]["exit_code"] == 1 and KEY not in json.dumps(shown)
    text = compared(capsys, "--run", str(origin), "--run", "20261127-100100-fork")
    rows = {cells[0]: cells[1:] for cells in (re.split(r" {2,}", line) for line in text.splitlines())}
    assert rows["fork point"] == ["—", f"request 1, then model {CHEAPER}"]
    assert rows["first difference"] == ["—", "request 2"]
    assert rows["run"] == ["claude-code/20261127-100000-mock", "claude-code/20261127-100100-fork"]
    assert rows["priced with"] == ["mock_prices.yaml ×2", "mock_prices.yaml ×2"]
    assert f"${shown[0]['cost_usd']:,.4f}" in text and f"${shown[1]['cost_usd']:,.4f}" in text
    assert "25,014" in text and "Bash ×1" in text


def test_several_forks_each_get_a_column_and_the_first_is_the_origin(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    later = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    same = with_manifest(copied(CLAUDE, private_data_dir, "claude-code", "20261127-100200-fork"),
                         origin={"run": "claude-code/20261127-100000-mock", "kind": "fork", "at": 2})  # fmt: skip
    text = compared(capsys, "--run", str(origin), "--run", str(later), "--run", str(same), "--format", "markdown")
    lines = text.splitlines()
    assert lines[0] == "|  | `claude-code/20261127-100000-mock` | `claude-code/20261127-100100-fork` | " \
        "`claude-code/20261127-100200-fork` |"  # fmt: skip
    assert "| first difference | — | request 2 | none: the same 2 requests |" in lines
    assert "| fork point | — | request 1, then model claude-haiku-5-5 | request 2 |" in lines


def test_the_first_difference_ignores_what_diff_ignores_and_finds_what_changed(private_data_dir, capsys):
    """Two recordings of one codex version and prompt differ only in ids, times, paths and durations: the same
    requests. Another version words its requests otherwise from its second (its first only opens the socket)."""
    origin = copied(CODEX_169, private_data_dir, "codex", "20261127-100000-a")
    again = copied(CODEX_WEBSOCKET, private_data_dir, "codex", "20261127-100100-b")
    older = copied(CODEX_166, private_data_dir, "codex", "20261127-100200-c")
    shown = json.loads(compared(capsys, "--run", str(origin), "--run", str(again), "--run", str(older), "--format",
                                "json"))["runs"]  # fmt: skip
    assert shown[1]["first_difference"] == {"number": None, "note": "none: the same 3 requests"}
    assert shown[2]["first_difference"]["number"] == 3  # its own numbering: its first exchange is no model turn
    assert [run["role"] for run in shown] == ["origin", "another run", "another run"]


def test_a_fork_that_differs_before_its_fork_point_says_so(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    with_manifest(fork, origin={"run": "claude-code/20261127-100000-mock", "kind": "fork", "at": 2})
    assert "request 2 (at or before the fork point)" in compared(capsys, "--run", str(fork))


def test_captured_text_is_inert_and_masked_in_every_format(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=VERIFY)
    for form in ("text", "markdown", "json"):
        out = compared(capsys, "--run", str(fork), "--format", form)
        assert "\x1b" not in out and "\u202e" not in out and KEY not in out, form
        assert "FAILED" in out, form
    text = compared(capsys, "--run", str(fork))
    assert "exit 1 in 0.25 s: \\x1b[31mFAILED\\x1b[0m test_hello.py \\u202eevil\\u202c [REDACTED" in text


@pytest.mark.parametrize(
    ("origin", "said"),
    [
        (None, "its manifest names no origin run; give the origin first (--run ORIGIN --run RUN)"),
        ({"run": "../../../etc", "kind": "fork", "at": 1}, "its manifest's origin.run is '../../../etc', not "
         "<target>/<run folder>"),
        ({"run": "claude-code/20261127-090000-gone", "kind": "fork", "at": 1, "path": "/tmp"},
         "origin claude-code/20261127-090000-gone of "),
    ],
)  # fmt: skip
def test_a_fork_whose_origin_cannot_be_found_is_one_line(private_data_dir, capsys, origin, said):
    run = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100100-fork")
    if origin is not None:
        with_manifest(run, origin=origin)
    assert run_main(compare.main, ["--run", str(run)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and said in err and len(err.strip().splitlines()) == 1
    assert not (run / "report.md").exists()  # refused before anything was analysed


def test_bad_arguments_are_one_line(private_data_dir, capsys):
    assert run_main(compare.main, ["--run", "latest"]) == 2
    assert "no runs yet" in capsys.readouterr().err
    assert run_main(compare.main, ["--format", "csv"]) == 2
    assert "invalid choice: 'csv'" in capsys.readouterr().err


def test_diff_compares_a_fork_with_its_origin_as_before(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=VERIFY)
    assert run_main(diff_script.main, ["--run", str(origin), "--run", str(fork)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# agent-probe diff\n")
    assert "- Structural changes: summary" in text
    assert "claude-haiku-5-5" in text and "## Cost" in text


def test_the_invoke_task_prints_the_table(private_data_dir):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    result = subprocess.run([sys.executable, "-m", "invoke", "compare", "-r", str(fork), "--format", "markdown"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| first difference | — | request 2 |" in result.stdout


def test_a_resend_names_the_request_it_sent_again(private_data_dir, capsys):
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    resend = fork_with_model(origin, private_data_dir, "20261127-100100-resend", 1, CHEAPER)
    with_manifest(resend, origin={"run": "claude-code/20261127-100000-mock", "kind": "resend", "at": 2})
    rows = {cells[0]: cells[1:] for cells in (re.split(r" {2,}", line) for line in compared(capsys).splitlines())}
    assert rows["role"] == ["origin", "resend of claude-code/20261127-100000-mock"]
    assert rows["fork point"] == ["—", "request 2, re-sent"]
    assert rows["first difference"] == ["—", "request 2"]  # a resend's request is measured, never "before" anything


def test_values_no_json_library_takes_whole_are_compared_without_a_traceback(private_data_dir, capsys):
    """A request with a number past 64 bits, a lone surrogate and a value nested 300 deep (past what orjson writes),
    in the fork's second request: the analysis writes them, compare reads them back without a traceback, and the
    second request is the first difference."""
    copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100100-fork")
    deep: list = []
    for _ in range(300):
        deep = [deep]
    lines = (fork / "traffic.jsonl").read_text().splitlines()
    second = json.loads(lines[1])
    second["request"]["body"]["metadata"] = {"big": 2**70, "odd": "\ud800", "deep": deep}
    lines[1] = json.dumps(second)
    (fork / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    with_manifest(fork, origin={"run": "claude-code/20261127-100000-mock", "kind": "fork", "at": 1})
    shown = json.loads(compared(capsys, "--run", str(fork), "--format", "json"))["runs"]
    assert shown[1]["first_difference"] == {"number": 2, "note": ""}
    assert shown[1]["tokens"] == shown[0]["tokens"]


def strictly(text: str):
    """JSON as a strict parser reads it: NaN and Infinity, which Python's reader takes, are refused."""

    def refused(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refused)


def test_json_is_strict_whatever_numbers_the_manifest_holds(private_data_dir, capsys):
    """A manifest is read with Python's reader, which takes NaN and the infinities: its `origin` and `verify`
    blocks, copied whole into the JSON, hold each as null, and big whole numbers exactly."""
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    verify = VERIFY | {"seconds": float("nan"), "exit_code": float("inf")}
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=verify)
    manifest = json.loads((fork / "manifest.json").read_text())
    manifest["origin"] |= {"at": float("-inf"), "odd": [float("nan"), 2**70, {"deep": float("inf")}]}
    (fork / "manifest.json").write_text(json.dumps(manifest))  # (Python writes them bare, as a hostile one would)
    assert "NaN" in (fork / "manifest.json").read_text()
    shown = strictly(compared(capsys, "--run", str(fork), "--format", "json"))["runs"][1]
    assert shown["verify"]["seconds"] is None and shown["verify"]["exit_code"] is None
    assert shown["origin"]["at"] is None and shown["origin"]["odd"] == [None, 2**70, {"deep": None}]
    assert shown["fork_point"] is None and shown["verify"]["command"] == "test -f hello.py"


@pytest.mark.parametrize("seconds", [10**400, float("nan"), float("inf"), True, "0.25"], ids=repr)
def test_a_verify_time_that_is_no_float_is_left_out_without_a_traceback(private_data_dir, capsys, seconds):
    """A verify check's `seconds` past any float (a whole number of 401 digits, which Python's reader takes), not a
    finite number, or not a number: its time is left out of the table, in the text and in the report's Compare
    view, whose page is written (the analysis once stopped with an OverflowError)."""
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER, verify=VERIFY)
    manifest = json.loads((fork / "manifest.json").read_text())
    manifest["origin"]["verify"]["seconds"] = seconds
    (fork / "manifest.json").write_text(json.dumps(manifest))
    printed = compared(capsys, "--run", str(fork)).splitlines()
    rows = {cells[0]: cells[1:] for cells in (re.split(r" {2,}", line) for line in printed)}
    assert rows["verify"][1].startswith("exit 1: \\x1b[31mFAILED")  # no " in … s"
    assert page_rows(fork)["verify"] == rows["verify"]


def page_rows(run: Path) -> dict:
    """The Compare view's rows as the fork's report.html holds them, by figure."""
    page = (run / "report.html").read_text()
    start = page.index('id="probe-data">') + len('id="probe-data">')
    header = json.loads(page[start : page.index("</script>", start)])["header"]
    return {row[0]: row[1:] for row in header["compare"]["rows"]}


def test_a_forks_page_analysed_in_two_goes_compares_every_turn(private_data_dir, capsys):
    """The analysis of a run that grew goes on from the reading it saved (probe.analysis.resume): the figures the
    page gathers are saved with it, and its second go adds the turns that came since."""
    origin = copied(CLAUDE, private_data_dir, "claude-code", "20261127-100000-mock")
    refresh(origin)  # priced as compare prices it: with the mock's prices, as a run against the mock
    fork = fork_with_model(origin, private_data_dir, "20261127-100100-fork", 1, CHEAPER)
    whole = (fork / "traffic.jsonl").read_text()
    (fork / "traffic.jsonl").write_text(whole.splitlines()[0] + "\n")
    refresh(fork)
    assert page_rows(fork)["turns"] == ["2 (2 with usage)", "1 (1 with usage)"]
    (fork / "traffic.jsonl").write_text(whole)
    assert refresh(fork).why == "traffic.jsonl is newer than turns.jsonl"
    assert (fork / ".analysis").is_dir()  # (the reading it went on from)
    rows = page_rows(fork)
    assert rows["turns"] == ["2 (2 with usage)", "2 (2 with usage)"]
    assert rows["first difference"] == ["—", "request 2"] and rows["models"][1] == f"{CHEAPER} ×1, claude-opus-5-5 ×1"
    printed = compared(capsys, "--run", str(fork)).splitlines()
    assert rows == {cells[0]: cells[1:] for cells in (re.split(r" {2,}", line) for line in printed)}
