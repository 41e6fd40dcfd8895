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


def run_pytest(tmp_path, forbid: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {key: value for key, value in os.environ.items() if key != "PROBE_FORBID_SKIPS"}
    env |= {"PYTHONPATH": str(PROJECT_ROOT / "tests")} | ({"PROBE_FORBID_SKIPS": "1"} if forbid else {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_skips", "-p", "no:cacheprovider", "-q", "-rf", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_a_skip_fails_when_skips_are_forbidden(tmp_path):
    result = run_pytest(tmp_path, forbid=True)
    assert result.returncode == 1
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout
    assert "skipped, which the test sessions do not allow (PROBE_FORBID_SKIPS): Skipped: chromium is not installed" in (
        result.stdout
    )


def test_a_skip_is_a_skip_otherwise(tmp_path):
    result = run_pytest(tmp_path, forbid=False)
    assert result.returncode == 0 and "1 passed, 1 skipped, 1 xfailed" in result.stdout
