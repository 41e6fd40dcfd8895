"""The lake's upkeep on a real PostgreSQL: `tidy` while another process publishes (no row lost or doubled, fewer
snapshots, every view answering the same), `remove` and `relabel` of a run by its id or its name, and none of them
running what a hostile catalog holds."""

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import duckdb
import pytest
from conftest import PROJECT_ROOT

from probe.analysis import lake, publish, sql
from probe.analysis.report import refresh_all
from probe.common.errors import run_main
from probe.store.lake.basics import LakeSettings
from probe.store.views import VIEWS

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))
RUNS = SAMPLES[:5]  # published while tidy runs: enough for a few tidies to meet their commits


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


@pytest.mark.slow
def test_tidy_while_another_process_publishes_loses_and_doubles_nothing(tmp_path, postgres_server):
    dsn = postgres_server.create_database("tidy_while_publishing")
    lake_options = ["--lake", f"postgres:{dsn}"]
    first, second, both = (
        copies(tmp_path / "first", runs=RUNS),
        copies(tmp_path / "second", "-b", runs=RUNS),
        tmp_path / "both",
    )
    copies(both, runs=RUNS), copies(both, "-b", runs=RUNS)
    code, _, err = run(publish.main, ["--run", "all", *lake_options, "--lake-data", str(tmp_path / "files")], first)
    assert code == 0, err
    columns, local_first = local_rows(first)
    assert lake_rows(dsn, every_view(columns)) == local_first
    assert snapshots(postgres_server, dsn) == 3  # (the lake's making, its tables, and the group of runs)
    # The second folder's runs one at a time, a commit each, so that the tidying meets several.
    each = " && ".join(
        shlex.join([sys.executable, "-m", "probe.analysis.publish", "--run", str(path), *lake_options])
        for path in sorted(second.glob("*/*"))
    )
    publishing = subprocess.Popen(
        ["bash", "-c", each], env=os.environ | {"PROBE_DATA_DIR": str(second)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    tidied = []
    while publishing.poll() is None or len(tidied) < 2:
        tidied.append(run(lake.main, ["tidy", "--keep", "0", *lake_options]))
        time.sleep(0.2)
    out, err = publishing.communicate(timeout=300)
    assert publishing.returncode == 0 and out.count("rows added, 0 removed") == len(RUNS), err
    assert all(code == 0 for code, _, _ in tidied), [err for _, _, err in tidied]
    assert all(err.startswith("warning: --keep 0s: ") for _, _, err in tidied)
    # (and they met: some tidy after the first found snapshots that the publisher had committed since the last)
    assert any(not out.startswith("lake: snapshots 1 -> ") for _, out, _ in tidied[1:]), [out for _, out, _ in tidied]

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
    # (the flush adds a snapshot; none was superseded an hour ago, so none expires and no file is deleted)
    assert re.match(rf"lake: snapshots {before:,} -> {before + 1:,} \(0 expired; kept: the newest and those "
                    r"superseded less than 1h ago\)", out), out  # fmt: skip
    assert re.search(r"rows moved out of the catalog, .* 0 deleted from the data path", out.splitlines()[1]), out


@pytest.fixture
def two_machines(tmp_path, postgres_database):
    """A lake holding three samples from one machine, and the first of them recorded again on another (the same
    folder's name, another start): (the DSN, the lake options, the first machine's data folder)."""
    dsn = postgres_database
    options = ["--lake", f"postgres:{dsn}"]
    data = copies(tmp_path / "one", runs=SAMPLES[:3])
    code, _, err = run(publish.main, ["--run", "all", *options, "--lake-data", str(tmp_path / "files"), "--machine",
                                      "m1", "--user", "ana"], data)  # fmt: skip
    assert code == 0, err
    other = copies(tmp_path / "two", started="2026-11-26T09:00:00+0000", runs=SAMPLES[:1])
    code, _, err = run(publish.main, ["--run", "all", *options, "--machine", "m2", "--user", "bo"], other)
    assert code == 0, err
    return dsn, options, data


def counts(dsn: str) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{view}', count(*) FROM {view}" for view in [*VIEWS, "publications"])
    return dict(lake_rows(dsn, query))


def test_remove_takes_a_run_out_of_every_table_and_publishing_puts_it_back(two_machines, postgres_server):
    dsn, options, data = two_machines
    before = counts(dsn)
    name = SAMPLES[0].name
    code, _, err = run(lake.main, ["remove", name, *options])
    ids = [run_id for (run_id,) in lake_rows(dsn, f"SELECT DISTINCT run_id FROM runs WHERE run = '{name}' ORDER BY 1")]
    assert (
        code == 2
        and len(ids) == 2
        and err
        == (
            f"error: lake: '{name}' names 2 runs, give its run_id: {ids[0]} ({SAMPLES[0].parent.name}), {ids[1]} "
            f"({SAMPLES[0].parent.name})\n"
        )
    )
    [(gone,)] = lake_rows(dsn, f"SELECT run_id FROM runs WHERE run = '{name}' AND machine = 'm2'")
    code, out, err = run(lake.main, ["remove", gone, *options])
    assert code == 0, err
    after = counts(dsn)
    removed = {table: before[table] - after[table] for table in before if before[table] != after[table]}
    listed = ", ".join(f"{table} {count:,}" for table, count in sorted(removed.items()) if table != "publications")
    assert out == (f"{SAMPLES[0].parent.name}/{name} ({gone}): {sum(removed.values()):,} rows removed ({listed}, "
                   f"publications {removed['publications']})\n")  # fmt: skip
    assert removed["runs"] == 1 and removed["turns"] > 0 and removed["publications"] > 0
    assert lake_rows(dsn, f"SELECT count(*) FROM publications WHERE run_id = '{gone}'") == [(0,)]
    # Tidied, nothing of it is left in the catalog or the data path.
    code, out, err = run(lake.main, ["tidy", "--keep", "0", *options])
    assert code == 0, err
    # (but for the table-wide minimum and maximum of each column, which DuckLake does not compute again)
    held = postgres_server.catalog_text(dsn.split()[0].removeprefix("dbname=")).splitlines()
    assert [line.split(" VALUES")[0] for line in held if gone in line] in (
        [],
        ["INSERT INTO public.ducklake_table_column_stats"],
    )
    files = str(data.parent / "files" / "**" / "*.parquet")
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{files}', union_by_name => true) WHERE run_id = '{gone}'"
                      ).fetchall() == [(0,)]  # fmt: skip
    # Now the name is the other machine's run alone, and target/name says the same.
    code, out, err = run(lake.main, ["remove", f"{SAMPLES[0].parent.name}/{name}", "nope", *options])
    assert code == 2 and out == "" and err == "error: lake: no run 'nope' in it (a run_id, or a run folder's name)\n"
    code, out, err = run(lake.main, ["remove", f"{SAMPLES[0].parent.name}/{name}", *options])
    assert code == 0 and out.startswith(f"{SAMPLES[0].parent.name}/{name} ({ids[0] if ids[1] == gone else ids[1]})")
    code, out, err = run(publish.main, ["--run", "all", *options, "--machine", "m1", "--user", "ana"], data)
    assert code == 0 and out.count("rows added, 0 removed") == 1, err
    assert counts(dsn) == {table: count - removed.get(table, 0) for table, count in before.items()}


def test_relabel_credits_a_run_to_others_in_every_table(two_machines):
    dsn, options, _ = two_machines
    [(run_id,)] = lake_rows(dsn, f"SELECT run_id FROM runs WHERE run = '{SAMPLES[1].name}'")
    each = " UNION ALL ".join(f"SELECT DISTINCT machine, user, run_id = '{run_id}' FROM {view}" for view in VIEWS)
    before = sorted(set(lake_rows(dsn, each)))
    assert before == [("m1", "ana", False), ("m1", "ana", True), ("m2", "bo", False)]
    [(rows,)] = lake_rows(dsn, "SELECT " + " + ".join(f"(SELECT count(*) FROM {view} WHERE run_id = '{run_id}')"
                                          for view in [*VIEWS, "publications"]))  # fmt: skip
    code, out, err = run(lake.main, ["relabel", run_id, "--machine", "carol-desk", "--user", "carol", *options])
    assert code == 0, err
    assert re.fullmatch(rf"\S+/{SAMPLES[1].name} \({run_id}\): machine m1 -> carol-desk, user ana -> carol "
                        rf"\({rows:,} rows in \d+ tables\)\n", out), out  # fmt: skip
    assert sorted(set(lake_rows(dsn, each))) == [("carol-desk", "carol", True), ("m1", "ana", False),
                                                 ("m2", "bo", False)]  # fmt: skip
    assert lake_rows(dsn, f"SELECT DISTINCT machine, user FROM publications WHERE run_id = '{run_id}'") == [
        ("carol-desk", "carol")
    ]
    code, out, _ = run(lake.main, ["relabel", run_id, "--machine", "carol-desk", *options])
    assert code == 0 and out.endswith("already labelled so, nothing changed\n")
    for argv, said in [
        ([run_id], "error: relabel: give at least one of --machine, --user, --team, --project, --repository"),
        ([run_id, "--user", "ca rol"], "error: argument --user: 'ca rol': a label is 1 to 64 letters, digits and"),
    ]:
        code, out, err = run(lake.main, ["relabel", *argv, *options])
        assert code == 2 and out == "" and err.startswith(said) and err.count("\n") == 1, err


def test_none_of_them_runs_or_deletes_what_a_hostile_catalog_names(tmp_path, postgres_server):
    """Files outside the data path scheduled for deletion stay; a sort order (SQL DuckLake would run as it rewrites
    a table's files) is refused in one line by each command, before anything changes."""
    dsn = postgres_server.create_database("admin_hostile")
    database = dsn.split()[0].removeprefix("dbname=")
    options = ["--lake", f"postgres:{dsn}"]
    data = copies(tmp_path / "data", runs=SAMPLES[:2])
    assert run(publish.main, ["--run", "all", *options, "--lake-data", str(tmp_path / "lake" / "files")], data)[0] == 0
    private = tmp_path / "private.txt"
    private.write_text("the reader's own\n")
    (tmp_path / "lake" / "beside.txt").write_text("beside the data path\n")
    postgres_server.psql(database, f"""INSERT INTO ducklake_files_scheduled_for_deletion VALUES
        (900001, '{private}', false, now() - INTERVAL '2 days'),
        (900002, '../beside.txt', true, now() - INTERVAL '2 days'),
        (900003, '../../private.txt', true, now() - INTERVAL '2 days')""")  # fmt: skip
    code, out, err = run(lake.main, ["tidy", "--keep", "0", *options])
    # (refused by the connection's lock, in one line: the catalog's rows are a writer's to put right)
    assert code == 2 and err.splitlines()[-1].startswith("error: lake: Permission Error: Cannot access file "), err
    assert err.splitlines()[-1].endswith("file system operations are disabled by configuration")
    assert private.read_text() == "the reader's own\n"
    assert (tmp_path / "lake" / "beside.txt").read_text() == "beside the data path\n"

    postgres_server.psql(database, "DELETE FROM ducklake_files_scheduled_for_deletion WHERE data_file_id > 900000")
    postgres_server.psql(
        database,
        """INSERT INTO ducklake_sort_info VALUES (1, 1, 1, NULL);
        INSERT INTO ducklake_sort_expression VALUES (1, 1, 0, 'length((SELECT 1))', 'duckdb', 'ASC', 'NULLS_LAST')""",
    )
    before = counts(dsn), snapshots(postgres_server, dsn)
    for argv in (["tidy"], ["remove", SAMPLES[0].name], ["relabel", SAMPLES[0].name, "--user", "x"]):
        code, out, err = run(lake.main, [*argv, *options])
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith("error: lake: its catalog holds a sort order (ducklake_sort_expression), which DuckLake")
    assert (counts(dsn), snapshots(postgres_server, dsn)) == before
