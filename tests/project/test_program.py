"""`agent-probe` run from the checkout's own install (editable) keeps the checkout's folders and its invoke.yaml, from
any folder. (tests/e2e/test_installed_command.py installs it as a user would.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import PROJECT_ROOT

from probe.common import paths
from probe.program import ProbeProgram, ns

AGENT_PROBE = Path(sys.executable).with_name("agent-probe")


def test_in_the_checkout_the_folders_are_the_checkouts(monkeypatch):
    for name in ("PROBE_DATA_DIR", "PROBE_TARGETS_DIR", "PROBE_AGENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert paths.checkout() == PROJECT_ROOT
    assert (paths.data_dir(), paths.targets_dir(), paths.agents_dir()) == (
        PROJECT_ROOT / "data",
        PROJECT_ROOT / "targets",
        PROJECT_ROOT / ".agents",
    )


def test_the_program_reads_the_checkouts_invoke_yaml():
    program = ProbeProgram(namespace=ns, name="agent-probe", binary="agent-probe", version="0")
    program.create_config()
    written = yaml.safe_load((PROJECT_ROOT / "invoke.yaml").read_text())["probe"]
    assert (program.config.probe.data_dir, program.config.probe.target) == (written["data_dir"], written["target"])
    assert written["data_dir"] == "data"  # the key the collection alone would leave at None


def test_run_from_another_folder_it_records_where_the_configuration_says(tmp_path):
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PROBE_DATA_DIR"}
    env |= {"INVOKE_PROBE_TARGET": "codex", "INVOKE_PROBE_DATA_DIR": str(tmp_path / "configured")}
    argv = [AGENT_PROBE, "capture", "--command", "true", "--upstream", "mock", "--label", "elsewhere"]
    result = subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    [run] = (tmp_path / "configured" / "codex").iterdir()
    assert run.name.endswith("-elsewhere") and json.loads((run / "manifest.json").read_text())["status"] == "complete"
    assert list(elsewhere.iterdir()) == []


def test_without_a_target_it_says_which_there_are():
    result = subprocess.run([AGENT_PROBE, "capture", "--command", "true"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --target is required (known targets: ") and "claude-code" in result.stderr


def run_program(argv: list[str], capsys) -> tuple[int, str, str]:
    """`agent-probe ARGV` in this process: its exit code, stdout and stderr."""
    program = ProbeProgram(namespace=ns, name="agent-probe", binary="agent-probe", version="0")
    try:
        program.run(["agent-probe", *argv])
        code = 0
    except SystemExit as stop:
        code = stop.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_its_help_shows_only_the_core_options_that_apply_and_refuses_the_others(capsys):
    code, out, _ = run_program(["--help"], capsys)
    assert code == 0
    core = out.split("Core options:")[1].split("Subcommands:")[0]
    options = sorted(word.split("=")[0].split("[")[0] for word in core.split() if word.startswith("--"))
    assert options == ["--complete", "--config", "--help", "--list", "--list-format", "--print-completion-script",
                       "--version"]  # fmt: skip
    assert "pty" not in core and "sudo" not in core and "echo" not in core
    assert "  pipeline   Capture a run and write its report in one step" in out
    refused = {"--pty": "pty", "-e": "echo", "--prompt-for-sudo-password": "prompt-for-sudo-password",
               "-w": "warn-only", "--dry": "dry", "--write-pyc": "write-pyc", "-d": "debug"}  # fmt: skip
    for given, name in refused.items():
        message = f"error: --{name} is an option of invoke's that agent-probe does not use (see agent-probe --help)\n"
        assert run_program([given, "targets"], capsys) == (2, "", message)
    assert run_program(["-T", "5", "targets"], capsys)[0] == 2
    code, out, _ = run_program(["--list-format", "json", "--list"], capsys)
    assert code == 0 and "pipeline" in [task["name"] for task in json.loads(out)["tasks"]]
