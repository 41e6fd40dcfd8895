"""The team lake with its data on an object store: publish and sql --lake against moto's S3 server on loopback
(tests/s3_server.py), the same figures as a lake in a folder, the Parquet files really in the bucket, no credential
anywhere it could be kept or shown, a connection that reaches the data path's prefix and nothing else, and a reader
with only duckdb and the extension wheels, following the docs."""

import io
import os
import re
import shutil
import subprocess

import duckdb
import plain_reader_install
import pyarrow.parquet
import pytest
from conftest import PROJECT_ROOT
from secret_oracles import detect_secrets_findings
from test_lake import SAMPLES, every_view, lake_rows, local_columns, publish_runs, sample_data

from probe.analysis import sql
from probe.common.errors import UsageError, run_main
from probe.store.lake.basics import LakeSettings
from probe.store.lake.connection import extension_file
from probe.store.lake.object_store import from_environment
from probe.store.lake.views import connect_lake

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
BUCKET = "team-lake"
COUNT = 3  # sample runs: enough for several targets, few for time
# Reads the context table's file (a count alone is answered from the catalog, without it).
READ_CONTEXT = "SELECT count(DISTINCT row_key) FROM lake.context"
DOCS = PROJECT_ROOT / "docs" / "team-lake.md"


@pytest.fixture(scope="module")
def on_s3(tmp_path_factory, postgres_server, s3_server):
    """The first samples published to a lake whose data is in a bucket, and to one whose data is in a folder: (the
    bucket lake's DSN, the folder lake's DSN, the data folder, what publishing printed)."""
    folder = tmp_path_factory.mktemp("lake-s3")
    data_dir = sample_data(folder / "data", COUNT)
    s3_server.bucket(BUCKET)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_server.environment().items():
            patch.setenv(name, value)
        lake = postgres_server.create_database("on_s3")
        done = publish_runs(data_dir, lake, f"s3://{BUCKET}/lake", "--machine", "m1", "--user", "ana")
        assert done.returncode == 0, done.stderr
    in_folder = postgres_server.create_database("in_folder")
    assert publish_runs(data_dir, in_folder, folder / "files", "--machine", "m1", "--user", "ana").returncode == 0
    return lake, in_folder, data_dir, done


def test_every_run_lands_once_with_the_figures_of_a_lake_in_a_folder(on_s3, s3_environment):
    lake, in_folder, _, done = on_s3
    assert done.stdout.count("rows added, 0 removed") == COUNT
    assert lake_rows(lake, every_view(local_columns)) == lake_rows(in_folder, every_view(local_columns))
    [(runs, ids)] = lake_rows(lake, "SELECT count(*), count(DISTINCT run_id) FROM runs")
    assert runs == ids == COUNT
    totals = "SELECT target, count(*), sum(input_tokens) FROM turns GROUP BY ALL ORDER BY ALL"
    assert lake_rows(lake, totals) == lake_rows(in_folder, totals) and len(lake_rows(lake, totals)) >= 2


def test_the_parquet_files_are_in_the_bucket_under_the_prefix(on_s3, s3_server, s3_environment):
    lake = on_s3[0]
    keys = s3_server.keys(BUCKET)
    assert keys and all(key.startswith("lake/main/") and key.endswith(".parquet") for key in keys), keys
    context = [key for key in keys if key.startswith("lake/main/context/")]
    # (one file for the group's context rows, published in one transaction; the smaller tables' rows are inlined)
    assert len(context) == 1
    rows = pyarrow.parquet.read_table(io.BytesIO(s3_server.read(BUCKET, context[0]))).to_pylist()
    ids = {run_id for (run_id,) in lake_rows(lake, "SELECT run_id FROM runs")}
    assert rows and {row["run_id"] for row in rows} == ids and {"row_key", "machine", "run"} <= set(rows[0])
    [(count,)] = lake_rows(lake, "SELECT count(*) FROM context")
    assert count == len(rows)


def test_no_credential_reaches_the_catalog_the_output_or_an_error(on_s3, postgres_server, s3_server, tmp_path,
                                                                  s3_environment, capsys):  # fmt: skip
    lake, _, data_dir, done = on_s3
    credentials = [s3_server.key_id, s3_server.secret]
    failed = publish_runs(data_dir, postgres_server.create_database("no_bucket"), "s3://no-such-bucket/lake")
    lines = failed.stderr.splitlines()
    assert failed.returncode == 2 and lines[-1] == f"error: {COUNT} runs not published (see the warnings above)"
    assert len(lines) == COUNT + 1 and all("Not Found (HTTP code 404)" in line for line in lines[:-1]), lines
    with pytest.raises(UsageError) as refused:
        sql.lake_query(LakeSettings(f"postgres:{lake}", None, "-", "-"), "SELECT * FROM duckdb_secrets()", "1GB", True)
    assert "shows the session's secrets" in str(refused.value)
    texts = {
        "catalog": postgres_server.catalog_text("on_s3"),
        "published": done.stdout + done.stderr,
        "failed": failed.stdout + failed.stderr,
        "refused": str(refused.value),
    }
    assert "ducklake_data_file" in texts["catalog"] and f"s3://{BUCKET}/lake/" in texts["catalog"]
    assert "no-such-bucket" in texts["failed"]
    for name, text in texts.items():
        assert not [secret for secret in credentials if secret in text], name
        (tmp_path / f"{name}.txt").write_text(text)
    findings = detect_secrets_findings(sorted(tmp_path.glob("*.txt")))
    assert not [found for found in findings if found[2] in credentials or s3_server.key_id in found[2]]


def tampered_lake(postgres_server, s3_server, tmp_path, name: str) -> tuple[str, str]:
    """A lake of one run on its own bucket: (its DSN, its database's name)."""
    s3_server.bucket(name.replace("_", "-"))
    dsn = postgres_server.create_database(name)
    done = publish_runs(sample_data(tmp_path / "data", 1), dsn, f"s3://{name.replace('_', '-')}/lake")
    assert done.returncode == 0, done.stderr
    return dsn, name


def test_a_catalog_naming_a_file_in_another_bucket_is_not_read(postgres_server, s3_server, tmp_path, s3_environment):
    dsn, database = tampered_lake(postgres_server, s3_server, tmp_path, "elsewhere_lake")
    # The other bucket holds a copy of the lake's own file: readable, were the connection not confined.
    [key] = [key for key in s3_server.keys("elsewhere-lake") if "/context/" in key]
    s3_server.bucket("other-bucket")
    s3_server.client().put_object(Bucket="other-bucket", Key="copy.parquet", Body=s3_server.read("elsewhere-lake", key))
    assert sql.lake_query(LakeSettings(f"postgres:{dsn}", None, "-", "-"), READ_CONTEXT)[1][0][0]
    postgres_server.psql(database, "UPDATE ducklake_data_file SET path = 's3://other-bucket/copy.parquet', "
                                   "path_is_relative = false")  # fmt: skip
    before = len(re.findall(r'"(?:GET|HEAD) /other-bucket/', s3_server.log.read_text()))
    with pytest.raises(UsageError) as refused:
        sql.lake_query(LakeSettings(f"postgres:{dsn}", None, "-", "-"), READ_CONTEXT)
    assert "reads a file, reaches the network" in str(refused.value) or "disabled by configuration" in str(
        refused.value
    )
    assert len(re.findall(r'"(?:GET|HEAD) /other-bucket/', s3_server.log.read_text())) == before  # (never asked)


def test_a_catalog_path_that_steps_out_of_the_prefix_is_refused(postgres_server, s3_server, tmp_path,
                                                                s3_environment, monkeypatch):  # fmt: skip
    """DuckDB 1.5.5 checks an s3:// URL against the allowed prefix as written and its HTTP client resolves the dots
    (`s3://lake/prefix/../../other/x` read the other bucket): such a path is refused before anything is read."""
    dsn, database = tampered_lake(postgres_server, s3_server, tmp_path, "dots_lake")
    [key] = [key for key in s3_server.keys("dots-lake") if "/context/" in key]
    s3_server.bucket("dots-other")  # (a copy of the lake's own file: readable, were the dots let through)
    s3_server.client().put_object(Bucket="dots-other", Key="copy.parquet", Body=s3_server.read("dots-lake", key))
    table = postgres_server.psql(database, "SELECT table_id FROM ducklake_table WHERE table_name = 'context'").strip()
    for path in ("../../../../dots-other/copy.parquet", "./../lake2/x.parquet", "main/context/..", "a\\..\\b"):
        postgres_server.psql(database, f"UPDATE ducklake_data_file SET path = '{path}' WHERE table_id = {table}")
        with pytest.raises(UsageError) as refused:
            sql.lake_query(LakeSettings(f"postgres:{dsn}", None, "-", "-"), READ_CONTEXT)
        assert "would lead out of the lake's data path" in str(refused.value) and repr(path) in str(refused.value)
        published = publish_runs(tmp_path / "data", dsn, "s3://dots-lake/lake")
        assert published.returncode == 2 and "would lead out of the lake's data path" in published.stderr, path
    postgres_server.psql(database, f"UPDATE ducklake_data_file SET path = 'main/context/x..y.parquet' "
                                   f"WHERE table_id = {table}")  # fmt: skip
    assert sql.lake_query(LakeSettings(f"postgres:{dsn}", None, "-", "-"), "SELECT count(*) FROM runs")[1] == [(1,)]
    assert not re.search(r'"(GET|HEAD) /dots-other/', s3_server.log.read_text())  # (never asked for)


def test_a_query_naming_another_bucket_or_prefix_is_refused(on_s3, s3_environment):
    lake = LakeSettings(f"postgres:{on_s3[0]}", None, "-", "-")
    for query in ("SELECT * FROM 's3://other-bucket/x.parquet'", "SELECT * FROM read_parquet('s3://team-lake/x')"):
        with pytest.raises(UsageError, match=r"reads a file or a URL|reads files, reaches the network"):
            sql.lake_query(lake, query)
    # Past the check of the query's text, the connection itself reaches the data path's prefix only.
    connection = connect_lake(lake)
    try:
        assert connection.execute("SELECT count(*) FROM context").fetchone()[0] > 0
        for url in ("s3://other-bucket/x.parquet", f"s3://{BUCKET}/lake2/x.parquet", f"s3://{BUCKET}/x.parquet"):
            with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
                connection.execute(f"SELECT * FROM read_parquet('{url}')")
    finally:
        connection.close()


@pytest.mark.parametrize(
    "endpoint, said",
    [
        ("http://storage.example.com:9000", "is not this machine: an object store elsewhere is reached over https"),
        ("ftp://127.0.0.1", "not an http(s) URL of a host"),
    ],
)
def test_an_endpoint_in_clear_beyond_this_machine_is_one_line(endpoint, said, tmp_path, s3_environment,
                                                              monkeypatch, capsys):  # fmt: skip
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("PROBE_DATA_DIR", str(sample_data(tmp_path / "data", 1)))
    code = run_main(sql.main, ["--lake", "postgres:dbname=x host=127.0.0.1 port=9", "--lake-data", "s3://b/p",
                               "SELECT 1"])  # fmt: skip
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and said in error
    assert s3_environment["AWS_SECRET_ACCESS_KEY"] not in error


def test_the_environment_gives_the_secret_s_options():
    given = {"AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
             "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "https://r2.example.com",
             "AWS_ENDPOINT_URL_S3": "http://[::1]:9000"}  # fmt: skip
    assert from_environment(given) == {
        "KEY_ID": "AKIAX", "SECRET": "s", "SESSION_TOKEN": "t", "REGION": "eu-west-1", "ENDPOINT": "[::1]:9000",
        "USE_SSL": "false", "URL_STYLE": "path",
    }  # fmt: skip
    assert from_environment({"AWS_REGION": "a", "AWS_DEFAULT_REGION": "b"}) == {"REGION": "a"}


def reader_recipe() -> str:
    """The Python the docs give a reader without agent-probe (the block under Readers without agent-probe)."""
    section = DOCS.read_text().split("## Readers without agent-probe", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_a_reader_with_only_duckdb_and_the_wheels_gets_the_same_figures(on_s3, s3_server, tmp_path):
    """The docs' recipe, run by a Python whose virtualenv has only duckdb and the three extension wheels (no
    agent-probe: run from a folder of its own, with none of this project's paths)."""
    python = plain_reader_install.ensure_installed()
    lake = on_s3[0]
    (tmp_path / "reader.py").write_text(reader_recipe())
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LAKE": f"postgres:{lake}"}
    environment |= s3_server.environment()
    absent = subprocess.run([python, "-c", "import probe"], cwd=tmp_path, env=environment, capture_output=True)
    assert absent.returncode == 1 and b"No module named 'probe'" in absent.stderr
    shown = subprocess.run([python, "reader.py"], cwd=tmp_path, env=environment, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    expected = lake_rows(lake, "SELECT machine, target, count(DISTINCT run_id), count(*), sum(input_tokens) "
                               "FROM turns GROUP BY ALL ORDER BY ALL")  # fmt: skip
    printed = [tuple(line.split("\t")) for line in shown.stdout.strip().splitlines()]
    assert printed == [tuple(str(value) for value in row) for row in expected] and len(expected) >= 2
    assert not (tmp_path / ".duckdb").exists()  # (nothing installed or kept in the reader's home)
    assert s3_server.secret not in shown.stdout + shown.stderr
    assert len(SAMPLES) >= COUNT and shutil.which("python3")


def test_a_persistent_secret_the_user_made_is_found_without_the_variables(s3_server, postgres_server, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    """No AWS_* variable: DuckDB finds the secret the user made in ~/.duckdb/stored_secrets itself."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    mine = duckdb.connect()
    mine.execute(f"LOAD '{extension_file('httpfs')}'")
    mine.execute(
        f"CREATE PERSISTENT SECRET mine (TYPE s3, KEY_ID '{s3_server.key_id}', SECRET '{s3_server.secret}', "
        f"ENDPOINT '127.0.0.1:{s3_server.port}', USE_SSL false, URL_STYLE 'path')"
    )
    mine.close()
    assert list((tmp_path / "home" / ".duckdb" / "stored_secrets").iterdir())
    s3_server.bucket("persistent-secret")
    lake = postgres_server.create_database("persistent_secret")
    done = publish_runs(sample_data(tmp_path / "data", 1), lake, "s3://persistent-secret/lake")
    assert done.returncode == 0 and "rows added, 0 removed" in done.stdout, done.stderr
    assert [key for key in s3_server.keys("persistent-secret") if key.startswith("lake/main/context/")]
    assert lake_rows(lake, "SELECT count(*) FROM runs") == [(1,)]
    assert lake_rows(lake, READ_CONTEXT)[0][0] > 0


@pytest.mark.parametrize("data", ["https://example.com/lake", "az://container/lake", "hf://datasets/x"])
def test_a_data_path_httpfs_cannot_write_is_one_line_before_anything_connects(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROBE_DATA_DIR", str(sample_data(tmp_path / "data", 1)))
    code = run_main(sql.main, ["--lake", "postgres:dbname=x host=127.0.0.1 port=9", "--lake-data", data, "SELECT 1"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "is not a store the lake can keep its files in" in error
    assert "cannot connect" not in error  # (said before the catalog is tried)
