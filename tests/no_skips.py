"""A pytest plugin: with PROBE_FORBID_SKIPS set (the nox test sessions set it), a skipped test fails instead, so
that a missing part (an agent, a browser, a tracing backend) can never pass CI unnoticed."""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get("PROBE_FORBID_SKIPS"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, which the test sessions do not allow (PROBE_FORBID_SKIPS): {reason}"
