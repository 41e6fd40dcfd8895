"""publish adds a group of runs in one transaction on the lake: one DuckLake snapshot and one file a table for the
group, not for each run; where the group's transaction fails, each run is tried on its own, so that the others land
and the one that failed is named."""

import pytest
from test_lake import lake_rows, publish_runs, sample_data

from probe.analysis import sql
from probe.store.lake import publish as lake_publish

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]


def snapshots(server, dsn: str) -> int:
    database = dict(part.split("=", 1) for part in dsn.split())["dbname"]
    return int(server.psql(database, "SELECT count(*) FROM ducklake_snapshot"))


def test_a_group_of_runs_is_one_snapshot(tmp_path, postgres_server, postgres_database):
    data_dir = sample_data(tmp_path / "data")
    runs = len(list(data_dir.glob("*/*")))
    done = publish_runs(data_dir, postgres_database, tmp_path / "files")
    assert done.returncode == 0, done.stderr
    # The lake's first snapshot, its tables', then one for the group of runs (not one for each of them).
    assert runs >= 6 and snapshots(postgres_server, postgres_database) == 3
    assert lake_rows(postgres_database, "SELECT count(DISTINCT run_id) FROM runs") == [(runs,)]
    assert publish_runs(data_dir, postgres_database, tmp_path / "files").stdout.count("already published") == runs
    assert snapshots(postgres_server, postgres_database) == 3  # (nothing changed: no commit that adds a snapshot)


def test_a_run_the_group_fails_on_is_named_and_the_others_land(tmp_path, postgres_database, monkeypatch):
    data_dir = sample_data(tmp_path / "data", 4)
    refused = sorted(data_dir.glob("*/*"))[1]
    publish_group = lake_publish.publish_runs

    def refusing(connection, lake, identities, tables):
        if any(identity.run == refused.name for identity in identities):
            raise lake_publish.PublishFailed("the catalog refused it")
        return publish_group(connection, lake, identities, tables)

    monkeypatch.setattr(lake_publish, "publish_runs", refusing)
    done = publish_runs(data_dir, postgres_database, tmp_path / "files")
    assert done.returncode == 2
    assert f"{refused.parent.name}/{refused.name}: the catalog refused it" in done.stderr
    assert "1 run not published" in done.stderr and "Traceback" not in done.stderr
    landed = [row[0] for row in lake_rows(postgres_database, "SELECT run FROM runs ORDER BY run")]
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    expected = sorted(run for (run,) in sql.query(sql.list_runs(), "SELECT run FROM runs")[1] if run != refused.name)
    assert landed == expected and len(landed) == 3
