"""Credit from the recording: the labels a run's manifest recorded (probe.runs.labels) are whom the lake credits it
to, whoever publishes it, two publishers at once included; the publisher is a column of its own; a lake that credits
a run to other labels keeps them and says so in one line; and one query, the docs' join among them, answers the same
over the run folders and in the lake."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from test_lake import LAKE, lake_rows, publish_runs, sample_data

from probe.analysis import sql
from probe.runs.labels import manifest_labels

pytestmark = pytest.mark.xdist_group("lake")


def record_labels(data_dir: Path, monkeypatch, **labels: str) -> None:
    """Give every run of `data_dir` the labels a recording with these PROBE_* variables writes into its manifest."""
    with monkeypatch.context() as patch:
        for name, value in labels.items():
            patch.setenv(f"PROBE_{name.upper()}", value)
        recorded = manifest_labels()
    for manifest in data_dir.glob("*/*/manifest.json"):
        manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"labels": recorded}))


def publisher(tmp_path: Path, lake: str, data_dir: Path, machine: str, user: str) -> subprocess.Popen:
    """A process publishing every run of `data_dir` as `machine` and `user` (given as PROBE_MACHINE and PROBE_USER)."""
    environment = {"PROBE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                   "XDG_CONFIG_HOME": str(tmp_path / "config"), "PROBE_MACHINE": machine,
                   "PROBE_USER": user}  # fmt: skip
    argv = [sys.executable, "-m", "probe.analysis.publish", "--run", "all", "--lake", f"postgres:{lake}",
            "--lake-data", str(tmp_path / "files")]  # fmt: skip
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


@LAKE
def test_runs_recorded_on_one_machine_and_published_by_two_at_once_are_credited_to_the_recorder(
    tmp_path, postgres_database, monkeypatch
):
    shared = sample_data(tmp_path / "shared", 4)
    record_labels(shared, monkeypatch, machine="laptop-a", user="ana", team="core", project="probe")
    processes = [publisher(tmp_path, postgres_database, shared, f"ci-{index}", f"bot-{index}") for index in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in outputs]
    credit = lake_rows(
        postgres_database,
        'SELECT DISTINCT machine, "user", team, project, repository, labels_from FROM runs '
        'UNION SELECT DISTINCT machine, "user", team, project, repository, labels_from FROM turns',
    )
    assert credit == [("laptop-a", "ana", "core", "probe", None, "recorder")]
    [(runs, ids, publishers)] = lake_rows(
        postgres_database,
        "SELECT count(*), count(DISTINCT run_id), list(DISTINCT published_by_machine || '/' || published_by_user) "
        "FROM runs",
    )
    assert runs == ids == 4 and set(publishers) <= {"ci-0/bot-0", "ci-1/bot-1"}
    [(published_by,)] = lake_rows(postgres_database, "SELECT list(DISTINCT published_by_user) FROM publications")
    assert set(published_by) <= {"bot-0", "bot-1"}
    assert lake_rows(postgres_database, "SELECT DISTINCT machine FROM publications") == [("laptop-a",)]


@LAKE
def test_a_run_the_lake_credits_to_other_labels_keeps_them_and_says_so_in_one_line(
    tmp_path, postgres_database, monkeypatch
):
    data_dir = sample_data(tmp_path / "data", 2)
    first = publish_runs(data_dir, postgres_database, tmp_path / "files", "--machine", "old-box", "--user", "bo")
    assert first.returncode == 0 and first.stdout.count("rows added, 0 removed") == 2, first
    record_labels(data_dir, monkeypatch, machine="laptop-a", user="ana")
    run = sorted(data_dir.glob("*/*"))[0]
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(manifest | {"label": "renamed"}))
    again = publish_runs(data_dir, postgres_database, tmp_path / "files", "--machine", "old-box", "--user", "bo")
    assert again.returncode == 0, again.stderr
    said = sorted(line for line in again.stdout.splitlines() if "the lake credits it to" in line)
    changed = f"{run.parent.name}/{run.name}: 1 rows added, 1 removed; "
    assert [line.startswith(changed) for line in said] == [True, False], again.stdout
    assert [line.split(": ", 1)[1].split("; ")[0] for line in said] == ["1 rows added, 1 removed", "already published"]
    for line in said:
        assert (
            "; the lake credits it to machine=old-box user=bo, its manifest to machine=laptop-a user=ana: the lake's "
            "kept (to change them: invoke lake relabel --run "
            in line
            and line.endswith(" --machine laptop-a --user ana)")
        )
    # the row that changed is added with the lake's labels, not the manifest's
    other = json.loads(next(path for path in data_dir.glob("*/*/manifest.json") if path.parent != run).read_text())
    assert lake_rows(
        postgres_database, 'SELECT machine, "user", labels_from, label FROM runs ORDER BY label'
    ) == sorted(
        [("old-box", "bo", "publisher", "renamed"), ("old-box", "bo", "publisher", other["label"])],
        key=lambda row: row[3],
    )


# The team's questions (docs/team-lake.md), and the docs' join of two views (docs/sql.md).
TEAM_QUERIES = [
    "SELECT user, CAST(started AS DATE) AS day, sum(cost_usd) AS usd FROM runs GROUP BY ALL ORDER BY ALL",
    "SELECT model, agent_version, sum(cache_read_tokens) AS cache_read FROM turns GROUP BY ALL "
    "ORDER BY any_value(agent_version_parts) DESC, model",
    "SELECT name, wait_ms, user, target FROM tool_calls WHERE wait_ms IS NOT NULL ORDER BY wait_ms DESC, name LIMIT 20",
    # (the samples' windows stay under 2 %: the docs' 0.8 would give no row to compare)
    "SELECT run_id, user, target, peak_window_share FROM runs WHERE peak_window_share > 0.01 "
    "ORDER BY peak_window_share DESC, run_id",
    "SELECT t.run_id, t.n, t.user, t.model, t.started, count(c.name) AS calls FROM turns t "
    "LEFT JOIN tool_calls c USING (run_id, n) GROUP BY ALL ORDER BY ALL",
]


@LAKE
@pytest.mark.parametrize("query", TEAM_QUERIES)
def test_a_team_query_answers_the_same_over_the_run_folders_and_in_the_lake(query, published_labelled, monkeypatch,
                                                                           s3_environment):  # fmt: skip
    lake, data_dir = published_labelled
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    local = sql.query(sql.list_runs(), query)[1]
    assert local and lake_rows(lake, query) == local
    if "user" in query:  # (recorded as ana, published by bot)
        assert all("ana" in row and "bot" not in row for row in local)


@pytest.fixture(scope="module")
def published_labelled(tmp_path_factory, postgres_server, s3_server):
    """The samples, recorded as laptop-a/ana, published by another machine into a lake whose data is on the S3
    server: (the DSN, the data folder)."""
    folder = tmp_path_factory.mktemp("labelled")
    data_dir = sample_data(folder / "data")
    lake = postgres_server.create_database("labelled")
    with pytest.MonkeyPatch.context() as patch:
        record_labels(data_dir, patch, machine="laptop-a", user="ana")
        for name, value in s3_server.environment().items():
            patch.setenv(name, value)
        done = publish_runs(data_dir, lake, s3_server.bucket("labelled") + "/lake", "--machine", "ci", "--user", "bot")
    assert done.returncode == 0, done.stderr
    return lake, data_dir


@LAKE
def test_sql_views_lists_the_lakes_views_with_the_local_columns_and_who_published(published_labelled, capsys,
                                                                                 s3_environment):  # fmt: skip
    import csv

    from probe.common.errors import run_main

    lake, _ = published_labelled
    assert run_main(sql.main, ["--views", "--format", "csv", "--lake", f"postgres:{lake}"]) == 0
    rows = [tuple(row) for row in csv.reader(capsys.readouterr().out.splitlines())][1:]
    local = sql.views_listing(None)
    narrowed = [(view, name, "BIGINT" if kind == "HUGEINT" else kind) for view, name, kind in local]
    in_lake = [row for row in rows if row[0] != "publications" and not row[1].startswith("published_by_")]
    assert in_lake == narrowed  # (the lake's tables have the local views' columns, in their order)
    assert {(view, "published_by_user", "VARCHAR") for view in sql.VIEWS} <= set(rows)
    assert {("publications", "published_by_machine", "VARCHAR"), ("publications", "machine", "VARCHAR")} <= set(rows)


@LAKE
def test_a_lake_made_before_the_labels_gains_their_columns_and_keeps_its_rows(tmp_path, postgres_database):
    """A lake whose tables lack the columns this release added (dropped here, as an older release made them): the
    next publish adds them, keeps every row (the row keys leave the identity out), and changes no label."""
    from probe.store.connection import open_database
    from probe.store.lake.basics import LakeSettings
    from probe.store.lake.connection import attach
    from probe.store.views import VIEWS

    data_dir = sample_data(tmp_path / "data", 2)
    lake = LakeSettings(f"postgres:{postgres_database}", str(tmp_path / "files"), "old-box", "bo")
    first = publish_runs(data_dir, postgres_database, tmp_path / "files", "--machine", "old-box", "--user", "bo")
    assert first.returncode == 0, first.stderr
    added = ("team", "project", "repository", "labels_from", "agent_version_parts", "published_by_machine",
             "published_by_user")  # fmt: skip
    connection = open_database()
    attach(connection, lake)
    for view in VIEWS:
        for column in added:
            connection.execute(f'ALTER TABLE lake.{view} DROP COLUMN "{column}"')
    connection.close()
    before = lake_rows(postgres_database, "SELECT count(*), sum(input_tokens) FROM turns")
    again = publish_runs(data_dir, postgres_database, tmp_path / "files", "--machine", "old-box", "--user", "bo")
    assert again.returncode == 0 and again.stdout.count(": already published") == 2, again
    assert lake_rows(postgres_database, "SELECT count(*), sum(input_tokens) FROM turns") == before
    columns = {row[1] for row in sql.views_listing(lake) if row[0] == "turns"}
    assert set(added) <= columns
    # the old rows: the new columns NULL, the labels as they were
    assert lake_rows(postgres_database, 'SELECT DISTINCT machine, "user", team, labels_from FROM turns') == [
        ("old-box", "bo", None, None)
    ]
