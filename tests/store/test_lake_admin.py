"""The lake's upkeep on a real PostgreSQL: `tidy` while another process publishes (no row lost or doubled, fewer
snapshots, every view answering the same), `remove` and `relabel` of a run by its id or its name, and none of them
running what a hostile catalog holds."""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from conftest import PROJECT_ROOT

from probe.analysis import lake, publish, sql
from probe.analysis.report import refresh_all
from probe.common.errors import run_main
from probe.store.lake.settings import LakeSettings
from probe.store.views import VIEWS

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))


def copies(folder, suffix: str = "", started: str | None = None, runs=SAMPLES):
    """The samples copied into `folder` as other runs: their names ending in `suffix`, or their start moved to
    `started` (either gives each another run_id)."""
    for sample in runs:
        copy = folder / sample.parent.name / (sample.name + suffix)
        shutil.copytree(sample, copy)
        if started:
            manifest = json.loads((copy / "manifest.json").read_text())
            (copy / "manifest.json").write_text(json.dumps(manifest | {"started_at": started}))
    return folder


def run(main, argv: list[str], data=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if data:
            patch.setenv("PROBE_DATA_DIR", str(data))
        code = run_main(main, argv)
    return code, out.getvalue(), err.getvalue()


def every_view(columns: dict[str, list[str]]) -> str:
    """One query for the rows of every view, each as its own columns' JSON, sorted."""
    packed = {view: ", ".join(f'"{name}" := "{name}"' for name in names) for view, names in columns.items()}
    parts = [
        f"SELECT '{view}' AS view, CAST(to_json(struct_pack({fields})) AS VARCHAR) AS row FROM {view}"
        for view, fields in packed.items()
    ]
    return "SELECT * FROM (" + " UNION ALL ".join(parts) + ") ORDER BY view, row"


def local_rows(data) -> tuple[dict[str, list[str]], list[tuple]]:
    """The views' own columns, and every row of every view over the runs of `data`, brought up to date as publish
    brings them."""
    runs = sorted(path.parent for path in data.glob("*/*/manifest.json"))
    refresh_all(runs, out=io.StringIO())
    columns = {view: sql.query([], f"SELECT * FROM {view}")[0] for view in VIEWS}
    return columns, sql.query(runs, every_view(columns))[1]


def lake_rows(dsn: str, query: str) -> list[tuple]:
    return sql.lake_query(LakeSettings(f"postgres:{dsn}", None, "-", "-"), query)[1]


def snapshots(postgres_server, dsn: str) -> int:
    return int(postgres_server.psql(dsn.split()[0].removeprefix("dbname="), "SELECT count(*) FROM ducklake_snapshot"))


def test_tidy_while_another_process_publishes_loses_and_doubles_nothing(tmp_path, postgres_server):
    dsn = postgres_server.create_database("tidy_while_publishing")
    lake_options = ["--lake", f"postgres:{dsn}"]
    first, second, both = copies(tmp_path / "first"), copies(tmp_path / "second", "-b"), tmp_path / "both"
    copies(both), copies(both, "-b")
    code, _, err = run(publish.main, ["--run", "all", *lake_options, "--lake-data", str(tmp_path / "files")], first)
    assert code == 0, err
    columns, local_first = local_rows(first)
    assert lake_rows(dsn, every_view(columns)) == local_first
    at_start = snapshots(postgres_server, dsn)  # (one for each run, and the lake's making)
    assert at_start > len(SAMPLES)
    publishing = subprocess.Popen(
        [sys.executable, "-m", "probe.analysis.publish", "--run", "all", *lake_options],
        env=os.environ | {"PROBE_DATA_DIR": str(second)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    tidied = []
    while publishing.poll() is None or len(tidied) < 2:
        tidied.append(run(lake.main, ["tidy", "--keep", "0", *lake_options]))
        time.sleep(0.2)
    out, err = publishing.communicate(timeout=300)
    assert publishing.returncode == 0 and out.count("rows added, 0 removed") == len(SAMPLES), err
    assert all(code == 0 for code, _, _ in tidied), [err for _, _, err in tidied]
    assert all(err.startswith("warning: --keep 0s: ") for _, _, err in tidied)

    # Every row of both folders once, and tidying again changes no answer and leaves fewer snapshots.
    local_both = local_rows(both)[1]
    assert len(local_both) == 2 * len(local_first)
    assert lake_rows(dsn, every_view(columns)) == local_both
    code, out, err = run(lake.main, ["tidy", "--keep", "0", *lake_options])
    assert code == 0, err
    assert re.match(r"lake: snapshots [\d,]+ -> 1 \([\d,]+ expired; kept: the newest", out), out
    assert snapshots(postgres_server, dsn) == 1
    assert lake_rows(dsn, every_view(columns)) == local_both
    files = re.search(r"lake: files ([\d,]+) -> ([\d,]+)", out)
    assert files and int(files.group(2).replace(",", "")) <= int(files.group(1).replace(",", "")), out


def test_tidy_by_default_keeps_what_a_running_reader_may_still_read(tmp_path, postgres_server):
    dsn = postgres_server.create_database("tidy_keeps")
    lake_options = ["--lake", f"postgres:{dsn}"]
    data = copies(tmp_path / "data", runs=SAMPLES[:3])
    assert run(publish.main, ["--run", "all", *lake_options, "--lake-data", str(tmp_path / "files")], data)[0] == 0
    before = snapshots(postgres_server, dsn)
    code, out, err = run(lake.main, ["tidy", *lake_options])
    assert code == 0 and err == "", err
    # (the merge adds a snapshot; none was superseded an hour ago; the merged files wait for a later tidy)
    assert out.startswith(f"lake: snapshots {before:,} -> {before + 1:,} (0 expired; kept: the newest and those "
                          "superseded less than 1h ago)")  # fmt: skip
    assert re.search(r"0 deleted from the data path, [1-9]\d* left for a later tidy\)$", out.splitlines()[1]), out
