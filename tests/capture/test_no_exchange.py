"""A run whose agent ends without a single request through the proxies says why it may have none, in its manifest
and its report, and points to the page that lists the reasons."""

import json
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.capture.environment import target_environment
from probe.capture.session import NO_EXCHANGE, UNTRUSTED
from probe.runs.targets import load_target

ASK = (
    'python3 -c "import os, urllib.request; urllib.request.urlopen(urllib.request.Request('
    'os.environ[\'PROBE_PROXY_URL\'] + \'/v1/chat/completions\', b\'{\\"model\\": \\"m\\", \\"messages\\": '
    '[{\\"role\\": \\"user\\", \\"content\\": \\"hi\\"}]}\', {\'content-type\': \'application/json\'})).read()"'
)


def pipeline(command, *options):
    return subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "openai-compatible", "--upstream", "mock", *options,
         "--command", command],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_run_with_no_exchange_says_why_it_may_have_none(private_data_dir):
    for command in ("true", "exit 3"):  # the agent ended well, or not: either way it asked nothing
        assert pipeline(command).returncode == (0 if command == "true" else 3)
    runs = sorted((private_data_dir / "openai-compatible").iterdir())
    assert len(runs) == 2
    for run in runs:
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["exchanges"] == 0 and manifest["note"] == NO_EXCHANGE
        report = (run / "report.md").read_text()
        note = (
            "- Note: the agent made no request through the model API's proxies; it may be using its own login or host"
        )
        assert note in report
    # The page the note names has the section it names.
    assert '"A run with no exchange"' in NO_EXCHANGE and "docs/capture.md" in NO_EXCHANGE
    assert "\n### A run with no exchange\n" in (PROJECT_ROOT / "docs" / "capture.md").read_text()


def test_a_run_with_an_exchange_has_no_such_note(private_data_dir):
    result = pipeline(ASK)
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "openai-compatible").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["exchanges"] == 1 and "note" not in manifest
    assert "made no request" not in (run / "report.md").read_text()


# A request to another host only, through the forward proxy --all-hosts hands the agent in HTTP_PROXY.
ELSEWHERE = (
    "python3 -c \"import urllib.request; urllib.request.urlopen('http://telemetry.invalid/batch', b'{}')\" || true"
)


def test_a_run_that_only_talked_to_other_hosts_still_has_the_note(private_data_dir):
    result = pipeline(ELSEWHERE, "--all-hosts")
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "openai-compatible").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["exchanges"] == 1 and manifest["other_host_exchanges"] == 1 and manifest["note"] == NO_EXCHANGE
    [line] = (run / "traffic.jsonl").read_text().splitlines()
    assert json.loads(line)["request"]["url"] == "http://telemetry.invalid/batch"
    report = (run / "report.md").read_text()
    assert "made no request through the model API's proxies" in report and "`telemetry.invalid`" in report


UNTRUSTING = """
name: untrusting
description: an agent that stops at its folder-trust check
renderer: probe.apis.generic.report
proxies: [{name: api, listen: 0, upstream: "http://127.0.0.1:9/"}]
agent:
  command: [sh, -c, 'exit "$1"', sh, "{prompt}"]
  trust_exit_code: 55
"""


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_an_agent_stopped_at_its_trust_check_is_told_so_and_gemini_is_trusted_with_either_home(
    tmp_path, private_data_dir
):
    target = tmp_path / "untrusting.yaml"
    target.write_text(UNTRUSTING)
    for code in ("55", "54"):  # its trust code, and any other failure before a request
        result = subprocess.run(
            [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--prompt", code],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == int(code), result.stderr
    notes = {
        json.loads((run / "manifest.json").read_text())["agent_exit_code"]: json.loads(
            (run / "manifest.json").read_text()
        )["note"]
        for run in (private_data_dir / "untrusting").iterdir()
    }
    assert notes == {55: UNTRUSTED.format(code=55), 54: NO_EXCHANGE}
    assert notes[55].startswith("the agent exited 55, its code for stopping at its folder-trust check")
    # gemini-cli's trust is given by a variable, with the user's own home as with a private one: no settings edited.
    gemini = load_target("gemini")
    assert gemini.trust_exit_code == 55
    for home in ("own", "private"):
        env = target_environment(gemini, {}, mock=False, full_traffic=False, home=home)
        assert env["GEMINI_CLI_TRUST_WORKSPACE"] == "true"
