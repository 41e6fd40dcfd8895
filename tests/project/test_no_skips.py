"""In the nox test sessions a skipped test fails: a part that is missing cannot pass unnoticed."""

import os
import subprocess
import sys

from conftest import PROJECT_ROOT

SKIPPING = """
import pytest

def test_needs_a_browser():
    pytest.skip("chromium is not installed")

@pytest.mark.xfail(reason="known")
def test_known_failure():
    assert False

def test_fine():
    assert True
"""


MODULE_SKIP = """
import pytest

pytest.importorskip("no_such_browser_driver")


def test_never_collected():
    pass
"""


def run_pytest(tmp_path, forbid: bool, *modules: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    env = {key: value for key, value in os.environ.items() if key != "PROBE_FORBID_SKIPS"}
    env |= {"PYTHONPATH": str(PROJECT_ROOT / "tests")} | ({"PROBE_FORBID_SKIPS": "1"} if forbid else {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_skips", "-p", "no:cacheprovider", "-q", "-rfE", *modules],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_a_skip_fails_when_skips_are_forbidden(tmp_path):
    result = run_pytest(tmp_path, True, "test_skipping.py")
    assert result.returncode == 1
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout
    assert "skipped, which the test sessions do not allow (PROBE_FORBID_SKIPS): Skipped: chromium is not installed" in (
        result.stdout
    )


def test_a_module_that_skips_while_collected_fails_too(tmp_path):
    result = run_pytest(tmp_path, True, "test_module_skip.py")
    assert result.returncode == 2 and "1 error during collection" in result.stdout
    assert "ERROR test_module_skip.py - skipped, which the test sessions do not allow" in result.stdout
    assert "could not import 'no_such_browser_driver'" in result.stdout


def test_a_skip_is_a_skip_otherwise(tmp_path):
    result = run_pytest(tmp_path, False, "test_skipping.py", "test_module_skip.py")
    assert result.returncode == 0 and "1 passed, 2 skipped, 1 xfailed" in result.stdout


def test_a_skip_fails_in_parallel_workers_too(tmp_path):
    """nox runs the suite across workers (pytest-xdist): each worker loads the plugin and fails its skips."""
    result = run_pytest(tmp_path, True, "-n", "2", "test_skipping.py")
    assert result.returncode == 1
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout
    assert "skipped, which the test sessions do not allow (PROBE_FORBID_SKIPS)" in result.stdout
