"""The scenarios file: the bundled one as the releases run reads it, and a bad one refused in one line."""

import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.common.errors import UsageError
from probe.releases import scenarios


def test_the_bundled_scenarios():
    played = scenarios.load()
    assert [scenario.name for scenario in played] == ["answer", "tool", "subagent", "all-hosts", "telemetry"]
    answer, tool, subagent, all_hosts, telemetry = played
    assert answer.prompt == "answer in words only: say hello" and answer.about == "a plain answer in words, no tool"
    assert tool.compares and not answer.compares
    assert subagent.prompt.startswith("spawn a sub-agent")
    assert all_hosts.all_hosts and not tool.all_hosts and telemetry.agent_telemetry
    assert [scenario.name for scenario in scenarios.select(played, ["telemetry", "answer"])] == ["answer", "telemetry"]
    with pytest.raises(UsageError, match=r"^no scenario nope \(the scenarios: answer, tool, subagent"):
        scenarios.select(played, ["nope"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("scenarios: []", "scenarios: [] should be non-empty"),
        ("scenarios:\n  - name: a b\n    prompt: p\n", "scenarios/0/name: 'a b' does not match"),
        ("scenarios:\n  - name: a\n", "scenarios/0: 'prompt' is a required property"),
        ("scenarios:\n  - name: a\n    prompt: p\n    all_hosts: yes please\n", "scenarios/0/all_hosts: 'yes please'"),
        ("scenarios:\n  - name: a\n    prompt: p\n    model: x\n", "Additional properties are not allowed ('model'"),
        ("scenarios:\n  - {name: a, prompt: p}\n  - {name: a, prompt: q}\n", "scenario a is named twice"),
        ("scenarios: [", "not YAML: "),
        ("- a\n- b\n", "the file: ['a', 'b'] is not of type 'object'"),
    ],
)
def test_a_bad_scenarios_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        scenarios.load(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith(str(path))


def test_the_command_refuses_a_bad_scenarios_file_before_anything_runs(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("scenarios:\n  - name: a\n")
    result = subprocess.run(
        [sys.executable, "-m", "probe.releases", "--target", "codex", "--scenarios", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: {path}: scenarios/0: 'prompt' is a required property\n"
