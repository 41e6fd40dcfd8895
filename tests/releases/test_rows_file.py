"""The rows the releases job hands its writers' scripts: read back as they were, and checked as untrusted input."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.common.errors import UsageError
from probe.runs.release_runs import COMPLETE, INSTALL_FAILED, ReleaseRun, rows_from_json, rows_json

SAMPLE = PROJECT_ROOT / "data/codex/20261125-122607-sample-v0.169.0"


def test_rows_read_back_as_they_were_written(tmp_path):
    run = tmp_path / "codex" / SAMPLE.name
    shutil.copytree(SAMPLE, run, ignore=shutil.ignore_patterns("report.html"))
    rows = [
        ReleaseRun("codex", "0.169.0", "answer", COMPLETE, run, None, True),
        ReleaseRun("codex", "0.170.0", "answer", INSTALL_FAILED, None, "npm has no version 0.170.0", False),
    ]
    assert rows_from_json(rows_json(rows)) == rows


@pytest.mark.parametrize(
    ("row", "fault"),
    [
        ({"target": "../etc"}, "target"),
        ({"version": "latest"}, "version"),
        ({"scenario": "../x"}, "scenario"),
        ({"outcome": "fine"}, "outcome"),
        ({"made": "yes"}, "made"),
        ({"run": "/etc"}, "run"),  # not a run folder: nothing named by the rows is opened but a run
        ({"why": ["a", "list"]}, "why"),
    ],
)
def test_a_row_that_is_not_one_is_refused_in_one_line(row, fault):
    good = {"target": "codex", "version": "0.169.0", "scenario": "answer", "outcome": "not offered", "run": None,
            "why": "no telemetry", "made": False}  # fmt: skip
    with pytest.raises(UsageError) as raised:
        rows_from_json(json.dumps([{**good, **row}]))
    assert str(raised.value) == f"--rows: row 1: {fault} not as a release row has it"


def test_the_writers_script_refuses_bad_rows_in_one_line(tmp_path):
    ended = subprocess.run(
        [sys.executable, "-m", "probe.write.releases_page", "--rows", "-", "--output", str(tmp_path)],
        input="[{]", capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert ended.returncode == 2 and ended.stderr.count("\n") == 1 and "Traceback" not in ended.stderr
    assert ended.stderr.startswith("error: --rows: not JSON") and list(tmp_path.iterdir()) == []
