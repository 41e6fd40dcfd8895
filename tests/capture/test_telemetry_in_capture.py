"""The receiver of --agent-telemetry inside a real capture (python -m probe.record, the real mitmdump, the mock),
its agent a stand-in that sends what a hostile agent or another local process would (telemetry_agent.py): an export
of two million empty records in 3.9 KB of gzip leaves the capture process under 300 MB and telemetry.jsonl within
its bound; exports without the run's token are refused and nothing of them reaches the run; chunk sizes that are
not plain hex are refused; surrogates, a 310-digit timestamp and NaN leave strict JSON lines; a client that goes
away and a connection held past the agent's exit print nothing, and the held one does not hang the run's end; a
secret split over two records is masked; the token is in no file of the run; telemetry.jsonl is 0600."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # about ten seconds: the run, and the held connection's bound at its end

AGENT = Path(__file__).with_name("telemetry_agent.py")
STEPS = "endpoint rss amplify forged minus-chunk handler-errors gone secret-across held"
KEY = "Zq8" + "Wm3Kp7Xv2Rt9Lb4Nc6Hd"  # telemetry_agent.KEY
TARGET = """
name: telemetry-agent
description: a stand-in agent that sends its own telemetry
renderer: probe.apis.generic.report
proxies:
  - {{name: api, listen: 0, upstream: "https://api.example.com/"}}
agent:
  command: [{python}, {agent}, "{{prompt}}"]
  env: {{AGENT_REPORT: {report}, HELD_FOR: "120"}}
  telemetry:
    env: {{TELEMETRY: "{{telemetry}}"}}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("telemetry-in-capture")
    report = folder / "agent-report.jsonl"
    target = folder / "telemetry-agent.yaml"
    target.write_text(TARGET.format(python=json.dumps(sys.executable), agent=json.dumps(str(AGENT)), report=report))
    command = [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--upstream", "mock",
               "--agent-telemetry", "--prompt", STEPS]  # fmt: skip
    environ = {**os.environ, "PROBE_DATA_DIR": str(folder / "data")}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=600)
    said = [json.loads(line) for line in report.read_text().splitlines()]
    held = [entry["pid"] for entry in said if entry["step"] == "held"]
    released = [entry for entry in said if entry["step"] == "released"]
    for pid in held:  # the process that holds the connection, started by the stand-in agent in a session of its own
        os.kill(pid, signal.SIGKILL)
    [run] = (folder / "data" / "telemetry-agent").iterdir()
    return result, said, released, run


def steps(said: list[dict], name: str) -> list[dict]:
    return [entry for entry in said if entry["step"] == name]


def lines_of(run: Path) -> list[dict]:
    strict = lambda name: pytest.fail(f"{name} in telemetry.jsonl: not JSON")  # noqa: E731
    return [json.loads(line, parse_constant=strict) for line in (run / "telemetry.jsonl").read_text().splitlines()]


def test_the_run_ends_and_prints_no_traceback(run):
    result, _, released, _ = run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert released == []  # the run ended while the connection was still held


def test_an_amplifying_export_leaves_the_capture_under_300_mb_and_telemetry_jsonl_within_its_bound(run):
    _, said, _, folder = run
    [before] = steps(said, "amplify-before")
    [amplify] = steps(said, "amplify")
    assert amplify["status"] == 200 and amplify["sent"] < 4_000
    assert amplify["VmHWM"] < 300, (before, amplify)  # MB, the capture process's peak up to then
    records = [line for line in lines_of(folder) if line["export"] == 0]
    assert len(records) == 10_001 and records[-1]["dropped"] == 1_990_000
    assert (folder / "telemetry.jsonl").stat().st_size < 16 * 1024 * 1024
    account = json.loads((folder / "manifest.json").read_text())["account"]["telemetry"]
    assert account["dropped"] == 1_990_000


def test_exports_without_the_runs_token_are_refused_and_nothing_of_them_reaches_the_run(run):
    _, said, _, folder = run
    assert [(entry["how"], entry["status"]) for entry in steps(said, "forged")] == [
        ("bare", 401),
        ("wrong", 401),
        ("bearer", 401),
    ]
    text = (folder / "telemetry.jsonl").read_text()
    assert "forged" not in text and "4242" not in text and "claude-code" not in text
    account = json.loads((folder / "manifest.json").read_text())["account"]["telemetry"]
    assert account["refused"] == 3


def test_the_token_is_in_no_file_of_the_run(run):
    _, said, _, folder = run
    [endpoint] = steps(said, "endpoint")
    token = endpoint["path"].strip("/")
    assert len(token) == 32
    for path in folder.rglob("*"):
        assert token not in path.read_text(errors="replace"), path
    manifest = json.loads((folder / "manifest.json").read_text())
    port = manifest["account"]["telemetry"]["endpoint"].rsplit(":", 1)[1]
    assert manifest["account"]["telemetry"]["endpoint"] == f"http://127.0.0.1:{port}"
    assert manifest["agent"]["env"]["TELEMETRY"].startswith(f"http://127.0.0.1:{port}/[REDACTED sha256:")


def test_chunk_sizes_that_are_not_plain_hex_are_refused(run):
    _, said, _, _ = run
    assert [(entry["size"][:2], entry["status"]) for entry in steps(said, "minus-chunk")] == [
        ("-1", 400),
        ("+1", 400),
        ("0x", 400),
        (" 1", 400),
        ("1_", 400),
    ]


def test_surrogates_huge_timestamps_and_nan_leave_strict_json_lines(run):
    _, said, _, folder = run
    assert [entry["status"] for entry in steps(said, "handler-errors")] == [200] * 5
    lines = lines_of(folder)
    [surrogate] = [line for line in lines if str(line.get("body", "")).startswith("cut ")]
    assert surrogate["body"] == "cut \ufffd"
    [huge] = [line for line in lines if line.get("body") == "a huge timestamp"]
    assert huge["time"] is None
    costs = [line["attributes"] for line in lines if line.get("name") == "api_request"]
    assert costs == [{"event.name": "api_request", "cost_usd": None, "duration_ms": None},
                     {"event.name": "api_request", "cost_usd": None}]  # fmt: skip
    assert any("String field had bad UTF-8" in line.get("unreadable", "") for line in lines)


def test_a_client_gone_and_a_connection_held_past_the_agents_exit_are_one_line_each(run):
    _, _, _, folder = run
    cut = [line["unreadable"] for line in lines_of(folder) if line.get("unreadable", "").startswith("cut off")]
    assert cut == [
        "cut off after 2,153 bytes: the client went away or the run ended",
        "cut off after 0 bytes: the client went away or the run ended",
    ]


def test_a_secret_named_in_one_record_and_given_in_the_next_is_masked(run):
    _, _, _, folder = run
    text = (folder / "telemetry.jsonl").read_text()
    assert KEY not in text
    [named, given] = [line for line in lines_of(folder) if line.get("export") == 12]
    assert named["body"] == "export ANTHROPIC_API_KEY=" and given["body"].startswith("[REDACTED sha256:")


def test_telemetry_jsonl_is_its_owners_only(run):
    _, _, _, folder = run
    assert (folder / "telemetry.jsonl").stat().st_mode & 0o777 == 0o600
