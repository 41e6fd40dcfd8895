"""Which test runs where (tests/placement.py): a test that reaches an agent fixture is marked e2e, which the older
Python's session leaves out, and there an unmarked test that asks for an agent fails saying which mark it lacks."""

import os
import subprocess
import sys

from conftest import PROJECT_ROOT

MODULE = """
import pytest

from probe.capture import agents
from probe.runs.targets import load_target


@pytest.fixture(scope="session")
def codex_program():
    return "codex"


@pytest.fixture
def through_another(codex_program):
    return codex_program


def test_asks_for_the_agent_fixture(codex_program):
    pass


def test_reaches_it_through_another_fixture(through_another):
    pass


@pytest.mark.e2e
def test_marked_and_asking_the_installer():
    agents.ensure_installed  # looked up, not called: the marked test is left alone


def test_unmarked_and_asking_the_installer():
    agents.ensure_installed(load_target("codex"))


def test_plain():
    pass
"""


def run_pytest(tmp_path, *options: str, no_agents: bool = False) -> subprocess.CompletedProcess:
    (tmp_path / "test_placed.py").write_text(MODULE)
    env = {key: value for key, value in os.environ.items() if key not in ("PROBE_NO_AGENTS", "PROBE_FORBID_SKIPS")}
    env |= {"PYTHONPATH": str(PROJECT_ROOT / "tests")} | ({"PROBE_NO_AGENTS": "1"} if no_agents else {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "placement", "-p", "no:cacheprovider", "-q", "-rfE", *options,
         "test_placed.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_a_test_reaching_an_agent_fixture_is_marked_e2e_and_left_out_with_them(tmp_path):
    result = run_pytest(tmp_path, "--collect-only", "-m", "not e2e")
    assert "test_plain" in result.stdout and "test_unmarked_and_asking_the_installer" in result.stdout
    assert "test_asks_for_the_agent_fixture" not in result.stdout
    assert "test_reaches_it_through_another_fixture" not in result.stdout  # the fixture closure counts
    assert "test_marked_and_asking_the_installer" not in result.stdout
    assert "2/5 tests collected (3 deselected)" in result.stdout


def test_without_agents_an_unmarked_test_asking_for_one_fails_naming_the_mark(tmp_path):
    result = run_pytest(tmp_path, "-m", "not e2e", no_agents=True)
    assert result.returncode == 1
    assert "1 failed, 1 passed, 3 deselected" in result.stdout
    unmarked = "test_placed.py::test_unmarked_and_asking_the_installer"
    assert f"{unmarked} starts a real agent (codex) but is not marked e2e" in result.stdout
