"""The viewer's Other hosts table in the real headless Chromium: each host with its kind, requests, bytes, errors
and events, a hostile host name and event name shown as text, running and loading nothing."""

import json

import pytest
from side_traffic import HOSTILE_EVENT, HOSTILE_HOST, side, side_lines, side_run
from test_viewer import SCRIPT_PAYLOADS, assert_quiet

from probe.analysis.report import analyze_run
from probe.write.viewer.headless import open_page

pytestmark = pytest.mark.browser


def test_the_run_panel_lists_other_hosts_as_inert_text(browser, tmp_path):
    hostile = [side("POST", "https://us.i.posthog.com/batch/", {"batch": [{"event": payload}]})
               for payload in SCRIPT_PAYLOADS[:4]]  # fmt: skip
    run = side_run(tmp_path / "codex" / "20261126-100000-side", side_lines() + hostile)
    analyze_run(run)
    watched = open_page(browser, run / "report.html")
    page = watched.page
    summary = page.locator("#run details > summary", has_text="Other hosts")
    assert summary.inner_text() == "Other hosts (12)"
    rows = page.locator("#run details:has(> summary:text('Other hosts')) tbody tr").evaluate_all(
        "(rows) => rows.map((row) => [...row.cells].map((cell) => cell.innerText))"
    )
    by_host = {row[0]: row for row in rows}
    assert by_host["statsig.anthropic.com"] == ["statsig.anthropic.com", "telemetry", "1", "POST ×1", "180", "16",
                                                "", "tengu_init ×2, tengu_exit ×1"]  # fmt: skip
    assert by_host["pinned.example.com"][6] == "tls: the client refused the run's certificate for pinned.example.com ×1"
    assert by_host[HOSTILE_HOST][:3] == [HOSTILE_HOST, "unknown", "1"]  # the host's name, as text
    posthog = by_host["us.i.posthog.com"]
    assert posthog[2] == "5" and HOSTILE_EVENT + " ×1" in posthog[7]
    assert all(f"{payload} ×1" in posthog[7] for payload in SCRIPT_PAYLOADS[:4])
    assert page.locator("img, iframe, svg:not(.tokens, .tl-svg), style").count() == 1  # only the page's own <style>
    assert page.locator("script").count() == 2
    assert_quiet(watched)
    watched.page.context.close()
    data = (run / "report.html").read_text()
    assert "<script>alert(" not in data and json.dumps(HOSTILE_HOST) not in data  # escaped in the page's data
