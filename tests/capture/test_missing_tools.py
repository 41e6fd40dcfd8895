"""Missing or unsuitable tools each get one line saying what is missing and how to get it."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def pipeline(target: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", target, "--prompt", "hi", *extra],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def write_target(tmp_path: Path, command: str, install: str = "") -> str:
    path = tmp_path / "tool.yaml"
    path.write_text(f"""
name: tool
description: a target whose agent is missing
renderer: probe.apis.generic.report
proxies: [{{name: api, listen: 0, upstream: "https://api.example.com/"}}]
agent:
  command: [{command}, "{{prompt}}"]
{install}
""")
    return str(path)


def assert_one_line(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert expected in result.stderr


def test_missing_agent_without_a_package(tmp_path):
    result = pipeline(write_target(tmp_path, "no-such-agent-xyz"), dict(os.environ))
    assert_one_line(result, "error: no-such-agent-xyz not found on PATH, and tool names no npm or PyPI package")


def test_missing_npm(tmp_path):
    target = write_target(
        tmp_path, "no-such-agent-xyz", '  install: {npm: "@example/none", version: "1.0.0", binary: no-such-agent-xyz}'
    )
    env = dict(os.environ, PATH=str(Path(sys.executable).parent), PROBE_AGENTS_DIR=str(tmp_path / "agents"))
    result = pipeline(target, env)
    assert_one_line(result, "npm was not found: install Node.js >= 20")


@pytest.mark.parametrize(
    "mitmdump, message",
    [
        ("/nonexistent/mitmdump", "PROBE_MITMDUMP=/nonexistent/mitmdump not found"),
        ("OLD", "is mitmproxy 10.4, but agent-probe needs 11 or newer"),
    ],
)
def test_missing_or_old_mitmdump(tmp_path, mitmdump, message):
    """Named before anything starts: the agent, which is not installed in this agents folder, is not installed."""
    if mitmdump == "OLD":
        fake = tmp_path / "mitmdump"
        fake.write_text("#!/bin/sh\necho 'Mitmproxy: 10.4.2'\necho 'Python: 3.11'\n")
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
        mitmdump = str(fake)
    agents = tmp_path / "agents"
    result = pipeline(
        "codex",
        dict(os.environ, PROBE_MITMDUMP=mitmdump, PROBE_AGENTS_DIR=str(agents)),
        "--upstream",
        "mock",
    )
    assert_one_line(result, message)
    assert not agents.exists() or list(agents.iterdir()) == []
