"""A pytest plugin: with PROBE_FORBID_SKIPS set (the nox test sessions set it), a skipped test fails instead, so
that a missing part (an agent, a browser, a tracing backend) can never pass CI unnoticed."""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that skips itself (pytest.skip, a skip mark)."""
    outcome = yield
    fail_if_skipped(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module that skips while it is collected (pytest.importorskip, a module-level pytest.skip)."""
    outcome = yield
    fail_if_skipped(outcome.get_result())


def fail_if_skipped(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get("PROBE_FORBID_SKIPS"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, which the test sessions do not allow (PROBE_FORBID_SKIPS): {reason}"
