"""publish and sql --lake: runs added to a DuckLake lake whose catalog is a real PostgreSQL started for the tests, read
back through the same views as `invoke sql` over the run folders; each run lands once, again adds nothing, a changed
run adds what changed, several processes publish at once, and no secret reaches the data files or the catalog."""

import collections
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet
import pytest
from conftest import PROJECT_ROOT
from secret_runs import plant_in_outputs, plant_secrets

from probe.analysis import publish, sql
from probe.common.errors import run_main
from probe.runs.folders import hold_while_recording
from probe.store.lake.basics import LakeSettings
from probe.store.views import VIEWS

SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))
Published = collections.namedtuple("Published", "returncode stdout stderr")
# Each test here but the one that needs no lake runs once in CI, on the newest Python (the `lake` mark); all on one
# test process, which starts one PostgreSQL for them.
LAKE = pytest.mark.lake
pytestmark = pytest.mark.xdist_group("lake")
IDENTITY = ("run_id", "machine", "user", "labels_from", "published_by_machine", "published_by_user", "target",
            "agent_version", "login")  # fmt: skip


def sample_data(folder: Path, count: int | None = None) -> Path:
    """A data folder holding copies of the bundled samples (the first `count`)."""
    for run in SAMPLES[:count]:
        shutil.copytree(run, folder / run.parent.name / run.name)
    return folder


def publish_runs(data_dir: Path, lake: str, data_path: Path, *options: str) -> Published:
    """`publish --run all` over `data_dir`: its exit code, and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--run", "all", "--lake", f"postgres:{lake}", "--lake-data", str(data_path), *options]
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setenv("PROBE_DATA_DIR", str(data_dir))
        code = run_main(publish.main, argv)
    return Published(code, out.getvalue(), err.getvalue())


def lake_rows(lake: str, query: str) -> list[tuple]:
    return sql.lake_query(LakeSettings(f"postgres:{lake}", None, "-", "-"), query)[1]


def every_view(columns_of) -> str:
    """One query for the rows of every view, each as its own columns' JSON, sorted."""
    parts = [f"SELECT '{view}' AS view, CAST(to_json(struct_pack({columns_of(view)})) AS VARCHAR) AS row FROM {view}"
             for view in VIEWS]  # fmt: skip
    return "SELECT * FROM (" + " UNION ALL ".join(parts) + ") ORDER BY view, row"


def local_columns(view: str) -> str:
    return ", ".join(f'"{name}" := "{name}"' for name in sql.query([], f"SELECT * FROM {view}")[0])


@pytest.fixture(scope="module")
def published(tmp_path_factory, postgres_server):
    """The bundled samples published to a fresh lake by one process: (the DSN, the data folder, the data path, the
    process)."""
    folder = tmp_path_factory.mktemp("lake")
    data_dir = sample_data(folder / "data")
    lake = postgres_server.create_database("published")
    done = publish_runs(data_dir, lake, folder / "files", "--machine", "laptop-1", "--user", "ana")
    assert done.returncode == 0, done.stderr
    return lake, data_dir, folder / "files", done


@LAKE
def test_the_lake_answers_every_view_with_the_rows_of_the_run_folders(published, monkeypatch):
    lake, data_dir, _, done = published
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    # (the samples were recorded before manifests held labels: here as in the lake, they are the publisher's)
    monkeypatch.setenv("PROBE_MACHINE", "laptop-1")
    monkeypatch.setenv("PROBE_USER", "ana")
    local = sql.query(sql.list_runs(), every_view(local_columns))[1]
    assert lake_rows(lake, every_view(local_columns)) == local
    assert len(local) > 300 and {row[0] for row in local} >= {"runs", "turns", "requests", "agents", "spans"}
    assert done.stdout.count("rows added, 0 removed") == len(SAMPLES)
    assert f"lake: {len(SAMPLES)} runs in it as recorded here" in done.stdout


@LAKE
def test_every_row_says_which_run_it_is_and_who_published_it_from_where(published):
    lake = published[0]
    each = " UNION ".join(f"SELECT DISTINCT '{view}', {', '.join(IDENTITY)}, run FROM {view}" for view in VIEWS)
    rows = lake_rows(lake, each)
    assert {row[0] for row in rows} >= {"runs", "turns", "requests", "agents", "spans", "exchanges"}
    for view, run_id, machine, user, whose, by_machine, by_user, target, version, login, run in rows:
        assert (machine, user, by_machine, by_user) == ("laptop-1", "ana", "laptop-1", "ana") and len(run_id) == 20
        assert whose == "publisher", view  # (the samples' manifests hold no labels)
        manifest = json.loads((published[1] / target / run / "manifest.json").read_text())
        assert (version, login) == (manifest["agent"]["version"], manifest.get("login")), view
    by_machine = lake_rows(lake, "SELECT machine, count(*), sum(input_tokens) FROM turns GROUP BY machine")
    assert by_machine == lake_rows(lake, "SELECT 'laptop-1', count(*), sum(input_tokens) FROM turns")


@LAKE
def test_publishing_again_adds_no_row(published):
    lake, data_dir, files, _ = published
    before = lake_rows(lake, "SELECT count(*) FROM turns")
    again = publish_runs(data_dir, lake, files, "--machine", "laptop-1", "--user", "ana")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(": already published") == len(SAMPLES)
    assert f"{len(SAMPLES)} runs in it as recorded here, 0 rows added" in again.stdout
    assert lake_rows(lake, "SELECT count(*) FROM turns") == before


@LAKE
def test_a_run_that_changed_adds_what_is_new_and_takes_back_what_is_gone(tmp_path, postgres_database, monkeypatch):
    data_dir = sample_data(tmp_path / "data", 2)
    assert publish_runs(data_dir, postgres_database, tmp_path / "files").returncode == 0
    run = next(data_dir.glob("*/*"))
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(manifest | {"label": "renamed"}))
    changed = publish_runs(data_dir, postgres_database, tmp_path / "files")
    assert f"{run.parent.name}/{run.name}: 1 rows added, 1 removed" in changed.stdout, changed.stdout
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    assert (
        lake_rows(postgres_database, "SELECT run, label FROM runs ORDER BY run")
        == sql.query(sql.list_runs(), "SELECT run, label FROM runs ORDER BY run")[1]
    )


@LAKE
@pytest.mark.slow
def test_four_processes_publishing_at_once_add_each_run_once(tmp_path, postgres_database, monkeypatch):
    """Four machines: two publish the same runs (a shared folder), two others runs of their own."""
    shared = sample_data(tmp_path / "shared", 3)
    own = [sample_data(tmp_path / f"own-{index}", 2) for index in range(2)]
    for index, data_dir in enumerate(own):
        for run in list(data_dir.glob("*/*")):  # (each machine's runs are its own: other names, other starts)
            run.rename(run.with_name(run.name + f"-m{index}"))
    folders = [shared, shared, *own]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "probe.analysis.publish",
                "--run",
                "all",
                "--lake",
                f"postgres:{postgres_database}",
                "--lake-data",
                str(tmp_path / "files"),
                "--machine",
                f"machine-{index}",
            ],
            cwd=PROJECT_ROOT,
            env={"PROBE_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index, folder in enumerate(folders)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in outputs]
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))
    runs = [run for folder in (shared, *own) for run in folder.glob("*/*")]
    local = sql.query(runs, "SELECT run, count(*), sum(input_tokens) FROM turns GROUP BY run ORDER BY run")[1]
    lake = "SELECT run, count(*), sum(input_tokens) FROM turns GROUP BY run ORDER BY run"
    assert lake_rows(postgres_database, lake) == local and len(local) == 3 + 2 * 2
    [(machines, rows, ids)] = lake_rows(
        postgres_database, "SELECT count(DISTINCT machine), count(*), count(DISTINCT run_id) FROM runs"
    )
    assert rows == ids == 3 + 2 * 2 and machines in (3, 4)  # a shared run: whichever machine came first


@LAKE
def test_no_secret_reaches_the_data_files_or_the_catalog(tmp_path, postgres_server):
    """A run holding the corpus raw (tests/secret_runs.py): none of it in any value of any Parquet file (map keys
    and lists included) nor in any table of the catalog (inlined rows, column statistics), and each where it was,
    masked."""
    data_dir = sample_data(tmp_path / "data", 1)
    secrets = plant_secrets(next(data_dir.glob("*/*")))
    left = shutil.copytree(next(data_dir.glob("*/*")), data_dir / "claude-code" / "20261125-000000-outputs-left")
    secrets += plant_in_outputs(left)
    lake = postgres_server.create_database("secrets")
    done = publish_runs(data_dir, lake, tmp_path / "files")
    assert done.returncode == 0 and "could not be analysed again" in done.stderr, done.stderr
    files = list((tmp_path / "files").rglob("*.parquet"))
    values = [str(row) for file in files for row in pyarrow.parquet.read_table(file).to_pylist()]
    assert files and values and not [secret for secret in secrets if any(secret in value for value in values)]
    catalog = postgres_server.catalog_text("secrets")
    assert "ducklake_snapshot" in catalog and not [secret for secret in secrets if secret in catalog]
    shown = lake_rows(lake, "SELECT prompt, login, agent_version FROM runs")
    assert shown and all("REDACTED" in value for value in shown[0])
    [(name, arguments), (left_name, _)] = lake_rows(lake, "SELECT name, arguments FROM tool_calls ORDER BY run DESC")
    assert name == left_name and name.startswith("[REDACTED sha256:") and arguments.count("REDACTED") > 20
    assert "Print a marker line" in arguments  # (masked where each was, not the row dropped)
    tools = lake_rows(lake, "SELECT DISTINCT unnest(map_keys(tools)) FROM time")
    assert tools and all(key.startswith("[REDACTED sha256:") for (key,) in tools)


@LAKE
def test_a_keep_secrets_run_is_refused_in_one_line(tmp_path, postgres_database, capsys, monkeypatch):
    data_dir = sample_data(tmp_path / "data", 1)
    run = next(data_dir.glob("*/*"))
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(manifest | {"keep_secrets": True}))
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    lake = ["--lake", f"postgres:{postgres_database}", "--lake-data", str(tmp_path / "files")]
    assert run_main(publish.main, ["--run", str(run), *lake]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "captured with --keep-secrets, so not published" in error


@pytest.mark.parametrize(
    "lake, said",
    [
        ("postgres:dbname=lake host=127.0.0.1 password=hunter2", "--lake holds a password: give it in PGPASSWORD"),
        ("postgres:postgresql://probe:hunter2@127.0.0.1/lake", "--lake holds a password"),
        (
            "postgres:dbname=nothing host=127.0.0.1 port=9 user=probe",
            'lake: cannot connect to the catalog: connection to server at "127.0.0.1", port 9 failed',
        ),
    ],
)
def test_a_lake_that_cannot_be_used_is_one_line_before_anything_starts(lake, said, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROBE_DATA_DIR", str(sample_data(tmp_path / "data", 1)))
    assert run_main(publish.main, ["--run", "all", "--lake", lake]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and said in error and "hunter2" not in error
    assert "dbname=" not in error  # (a catalog string is never echoed)


@LAKE
def test_a_run_being_recorded_is_published_when_it_ends(tmp_path, postgres_database, capsys, monkeypatch):
    data_dir = sample_data(tmp_path / "data", 1)
    run = next(data_dir.glob("*/*"))
    finished = (run / "manifest.json").read_text()
    (run / "manifest.json").write_text(json.dumps(json.loads(finished) | {"status": "running"}))
    lock = hold_while_recording(run)
    events = []

    def end_the_capture():
        time.sleep(1.0)
        # The capture ends whatever the look at the lake meets: a failure here must fail the test, not leave
        # publish waiting for a recording that never ends.
        try:
            events.append(("ended", lake_rows(postgres_database, "SELECT count(*) FROM runs")))
        except Exception as error:
            events.append(("failed", repr(error)))
        finally:
            (run / "manifest.json").write_text(finished)
            os.close(lock)

    ending = threading.Thread(target=end_the_capture)
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    lake = ["--lake", f"postgres:{postgres_database}", "--lake-data", str(tmp_path / "files")]
    ending.start()
    assert run_main(publish.main, ["--run", "all", *lake]) == 0
    ending.join()
    said = capsys.readouterr()
    assert "is being recorded: it is published when it ends" in said.err
    # nothing of it while it was recorded; all of it, as it ended, after
    assert events == [("ended", [(0,)])]
    assert lake_rows(postgres_database, "SELECT status FROM runs") == [(json.loads(finished)["status"],)]


@LAKE
def test_two_runs_alike_to_the_second_on_two_machines_are_two_runs(tmp_path, postgres_database):
    """One agent started in the same second on two machines: same target, folder name and start, other exchanges."""
    lake = postgres_database
    firsts = [sample for sample in SAMPLES if sample.parent.name == "codex"][:2]
    for index, sample in enumerate(firsts):
        run = shutil.copytree(sample, tmp_path / f"m{index}" / "codex" / "20261125-122558")
        manifest = json.loads((run / "manifest.json").read_text())
        (run / "manifest.json").write_text(json.dumps(manifest | {"started_at": "2026-11-25T12:25:58+0000"}))
        done = publish_runs(tmp_path / f"m{index}", lake, tmp_path / "files", "--machine", f"m{index}")
        assert done.returncode == 0 and "rows added, 0 removed" in done.stdout, done  # (neither takes the other's)
    assert lake_rows(lake, "SELECT machine, count(DISTINCT run_id) FROM runs GROUP BY ALL ORDER BY ALL") == [
        ("m0", 1), ("m1", 1),
    ]  # fmt: skip


@LAKE
def test_the_lake_holds_what_was_published_last_whatever_the_clocks(tmp_path, postgres_database):
    """A run published, changed and published, then published again as it first was (an older copy from another
    machine): the lake follows the last publication, as numbered under the run's lock, not as any clock says."""
    data_dir = sample_data(tmp_path / "data", 1)
    run = next(data_dir.glob("*/*"))
    first = (run / "manifest.json").read_text()
    labels = []
    for label in ("first", "second", "first"):
        (run / "manifest.json").write_text(json.dumps(json.loads(first) | {"label": label}))
        done = publish_runs(data_dir, postgres_database, tmp_path / "files", "--machine", f"clock-{label}")
        assert done.returncode == 0, done.stderr
        labels.append((lake_rows(postgres_database, "SELECT label FROM runs"), done.stdout.count("1 rows added, 1")))
    assert labels == [([("first",)], 0), ([("second",)], 1), ([("first",)], 1)]
    seqs = lake_rows(postgres_database, "SELECT DISTINCT seq FROM publications ORDER BY seq")
    assert seqs == [(1,), (2,), (3,)]
