"""Where the agent works: a gemini-cli prompt run started from a fresh clone of agent-probe never works in it (the
clone stays clean, the agent gets a fresh folder), and `--workdir PATH` makes it work in PATH. The prompt asks the
mock to have the agent create a file, so that where the agent really worked shows."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from probe.capture.agent_home import is_fresh_workdir

# One worker runs the module: its tests share the module's clone.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("workdir-gemini")]
MADE = "made-by-the-agent.txt"
PROMPT = f"run `touch {MADE}` please"  # the mock's shell call runs the command a prompt asks for in backticks


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh clone of this checkout's committed state: its own `python -m probe…` runs the clone's code."""
    folder = tmp_path_factory.mktemp("clone") / "agent-probe"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(folder)], check=True, timeout=120)
    return folder


def prompt_run(clone: Path, data: Path, program: str, *options: str) -> Path:
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "gemini", "--upstream", "mock", "--port", "api=0",
         "--prompt", PROMPT, "--timeout", "120", *options],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (data / "gemini").iterdir()
    return run


def ran_the_command(run: Path) -> bool:
    traffic = (run / "traffic.jsonl").read_text()
    return f"touch {MADE}" in traffic and "functionResponse" in traffic


def git_status(clone: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_a_run_started_in_a_clone_leaves_it_clean(clone, tmp_path, gemini_program):
    run = prompt_run(clone, tmp_path / "data", gemini_program)
    assert ran_the_command(run)
    manifest = json.loads((run / "manifest.json").read_text())
    cwd = Path(manifest["agent"]["cwd"])
    assert is_fresh_workdir(str(cwd)) and clone.resolve() not in [cwd, *cwd.parents]
    assert not (clone / MADE).exists() and git_status(clone) == ""


def test_workdir_names_the_folder_the_agent_works_in(clone, tmp_path, gemini_program):
    project = tmp_path / "my-project"
    project.mkdir()
    run = prompt_run(clone, tmp_path / "data", gemini_program, "--workdir", str(project))
    assert ran_the_command(run)
    assert json.loads((run / "manifest.json").read_text())["agent"]["cwd"] == str(project.resolve())
    assert (project / MADE).is_file()
    assert not (clone / MADE).exists() and git_status(clone) == ""
