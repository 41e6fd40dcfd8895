"""A target's agent can come from PyPI (`agent.install: {pypi: …}`): installed into a virtualenv of its own under
.agents/, found there, run at the version asked for, and replayed at the version it was recorded with. The agent
here is a real one from PyPI, Simon Willison's `llm`, a small command that sends one prompt to a Chat Completions
API."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.capture import agents, pypi
from probe.common.errors import TargetError
from probe.common.paths import agents_dir
from probe.runs.targets import describe, parse_target

# 0.36 is a version npm would not take (not x.y.z): PyPI's own rule applies to a PyPI agent.
TARGET = """
name: llm-cli
description: Simon Willison's llm, one prompt to a Chat Completions API
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.openai.com/"}
agent:
  command: [llm-not-on-path, -m, gpt-4o-mini, "{prompt}"]
  env: {OPENAI_BASE_URL: "{proxy.api}/v1"}
  private_env: {LLM_USER_PATH: "{agent_home}/llm"}
  mock_env: {OPENAI_API_KEY: sk-mock-not-a-real-key}
  install: {pypi: llm, version: "0.36", binary: llm}
"""


@pytest.fixture(scope="module")
def target_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("targets") / "llm-cli.yaml"
    path.write_text(TARGET)
    return path


# The tests of the installed llm share one worker: it is installed (or found) once, by one of them.
ON_THE_LLM_WORKER = pytest.mark.xdist_group("llm-agent")


@pytest.fixture(scope="module")
def llm_program(target_file):
    """llm 0.36 in .agents/, installed from PyPI if it is missing (as the npm agents are)."""
    return agents.ensure_installed(parse_target(TARGET, str(target_file), target_file))


def test_a_pypi_install_parses_and_is_listed():
    target = parse_target(TARGET, "targets/llm-cli.yaml")
    install = target.install
    assert (install.pypi, install.npm, install.package, install.registry) == ("llm", None, "llm", "pypi")
    assert (install.version, install.binary) == ("0.36", "llm")
    assert "  agent: llm-not-on-path (pypi llm@0.36)" in describe(target)


@pytest.mark.parametrize(
    ("install", "message"),
    [
        ("{pypi: llm, npm: llm, version: '0.36', binary: llm}", "agent.install: expected either npm: PACKAGE or pypi"),
        ("{version: '0.36', binary: llm}", "agent.install: expected either npm: PACKAGE or pypi: DISTRIBUTION"),
        ("{pypi: ../llm, version: '0.36', binary: llm}", "agent.install.pypi: expected a PyPI distribution's name"),
        ("{pypi: 'llm==1', version: '0.36', binary: llm}", "agent.install.pypi: expected a PyPI distribution's name"),
        ("{pypi: llm, version: '>=0.36', binary: llm}", "agent.install.version: expected a plain version"),
        ("{npm: llm, version: '0.36', binary: llm}", "agent.install.version: expected a plain version"),
        ("{pypi: llm, version: '0.36', binary: ../llm}", "agent.install.binary: expected a program's file name"),
        ("{pypi: llm, version: '0.36', binary: llm, python: '3'}", "agent.install.python: expected a PyPI agent's"),
        ("{pypi: llm, version: '0.36', binary: llm, python: 3.12}", "agent.install.python: expected a string"),
        ("{npm: llm, version: '0.36.0', binary: llm, python: '3.12'}", "agent.install.python: expected a PyPI"),
        ("{pypi: llm, version: '0.36', binary: llm, extras: ['a]b']}", "agent.install.extras: expected a PyPI"),
        ("{npm: llm, version: '0.36.0', binary: llm, extras: [openai]}", "agent.install.extras: expected a PyPI"),
        ("{pypi: llm, version: '0.36', binary: llm, extras: openai}", "agent.install.extras: expected a list"),
    ],
)
def test_a_bad_install_is_refused_with_its_place(install, message):
    text = TARGET.replace('{pypi: llm, version: "0.36", binary: llm}', install)
    with pytest.raises(TargetError) as error:
        parse_target(text, "targets/llm-cli.yaml")
    assert str(error.value).startswith(f"targets/llm-cli.yaml: {message}")


@ON_THE_LLM_WORKER
def test_the_agent_is_installed_into_a_virtualenv_of_its_own(llm_program, target_file):
    folder = agents_dir() / "llm@0.36"
    assert llm_program == folder / "bin" / "llm"
    assert (folder / "pyvenv.cfg").is_file() and (folder / pypi.MARKER).read_text() == "llm==0.36\n"
    chosen = agents.choose(parse_target(TARGET, str(target_file), target_file))
    assert (chosen.program, chosen.package, chosen.registry) == (str(llm_program), "llm", "pypi")
    assert chosen.version == "llm, version 0.36" and agents.versions_said(chosen.version) == ["0.36"]


def silent_program(folder, name="llm"):
    """A program that, like mini-swe-agent's `mini`, has no --version (it exits 2, "No such option")."""
    folder.mkdir(parents=True)
    program = folder / name
    program.write_text("#!/bin/sh\necho 'No such option: --version' >&2\nexit 2\n")
    program.chmod(0o755)
    return program


# Through the project's installer, which finds the stand-in already installed: the older Python's session leaves out
# what goes through it.
@pytest.mark.e2e
def test_an_installed_agent_with_no_version_option_is_named_by_its_install(tmp_path, target_file, monkeypatch):
    folder = tmp_path / "agents" / "llm@0.36"
    program = silent_program(folder / "bin")
    (folder / pypi.MARKER).write_text("llm==0.36\n")
    monkeypatch.setenv("PROBE_AGENTS_DIR", str(tmp_path / "agents"))
    chosen = agents.choose(parse_target(TARGET, str(target_file), target_file))
    assert (chosen.program, chosen.version, chosen.package) == (str(program), "llm 0.36", "llm")
    assert agents.versions_said(chosen.version) == ["0.36"]
    # Found on PATH (as the tests put it there), through a link to .agents/: the same program, the same version.
    (tmp_path / "linked").symlink_to(tmp_path / "agents")
    on_path = parse_target(TARGET.replace("llm-not-on-path", "llm"), str(target_file), target_file)
    monkeypatch.setenv("PATH", f"{tmp_path / 'linked' / 'llm@0.36' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    chosen = agents.choose(on_path)
    assert (chosen.version, chosen.package) == ("llm 0.36", None)
    # Another program of that name on PATH says nothing of its version, and nothing is made up for it.
    elsewhere = silent_program(tmp_path / "elsewhere")
    monkeypatch.setenv("PATH", f"{elsewhere.parent}{os.pathsep}{os.environ['PATH']}")
    assert agents.choose(on_path).version is None


def test_a_version_pypi_does_not_have_is_one_line_and_leaves_nothing(tmp_path, target_file):
    env = dict(os.environ, PROBE_AGENTS_DIR=str(tmp_path / "agents"))
    result = subprocess.run(
        [sys.executable, "-m", "probe.capture.agents", f"{target_file}@0.0.0.1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: installing llm==0.0.0.1 failed: PyPI has no version 0.0.0.1 of llm (for this Python)"
    )
    assert not (tmp_path / "agents" / "llm@0.0.0.1").exists()


def run(*argv, cwd=PROJECT_ROOT):
    return subprocess.run([sys.executable, "-m", *argv], cwd=cwd, capture_output=True, text=True, timeout=600)


@ON_THE_LLM_WORKER
def test_a_run_of_the_pypi_agent_replays_at_its_recorded_version(llm_program, target_file, private_data_dir):
    result = run("probe.pipeline", "--target", str(target_file), "--upstream", "mock", "--prompt", "say hi")
    assert result.returncode == 0, result.stderr
    assert 'Here is my answer to "say hi"' in result.stdout
    [recorded] = (private_data_dir / "llm-cli").iterdir()
    agent = json.loads((recorded / "manifest.json").read_text())["agent"]
    assert (agent["binary"], agent["pypi_package"], agent["npm_package"]) == (str(llm_program), "llm", None)
    assert agent["version"] == "llm, version 0.36" and agent["requested_version"] is None
    # The invoke task, as a user replays: the recorded version is asked for, from PyPI's install in .agents/.
    result = run("invoke", "replay", "--run", str(recorded), "--target", str(target_file))
    assert result.returncode == 0, result.stderr
    assert "replay: every request matched (1 request)" in result.stdout + result.stderr
    assert "agent: llm, version 0.36 at .agents/llm@0.36/bin/llm" in result.stderr
    [replayed] = (private_data_dir / "llm-cli").glob("*-replay")
    manifest = json.loads((replayed / "manifest.json").read_text())
    assert manifest["agent"]["requested_version"] == "0.36" and manifest["agent"]["pypi_package"] == "llm"
    assert manifest["agent"]["argv"][:3] == [str(llm_program), "-m", "gpt-4o-mini"]
    assert manifest["replay"]["status"] == "every request matched"
    assert 'Here is my answer to "say hi"' in result.stdout  # the recorded answer, printed by the agent
