"""invoke sql over the run folders: a query reads only what the views read unless --external-access (no file, no URL,
no extension, no SQL handed over as text), one query runs, and times show their zone; each refusal is one line."""

import csv
import io
import json
import re
import shutil

import pytest
from conftest import PROJECT_ROOT

from probe.analysis import sql
from probe.common.errors import run_main

SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))
SECRET = "PRIVATE-FILE-CONTENT-5d1e"


@pytest.fixture
def samples(tmp_path, monkeypatch):
    """A data folder of two bundled samples, and a private file beside it."""
    data = tmp_path / "data"
    for run in SAMPLES[:2]:
        shutil.copytree(run, data / run.parent.name / run.name)
    monkeypatch.setenv("PROBE_DATA_DIR", str(data))
    private = tmp_path / "private.csv"
    private.write_text(SECRET + "\n")
    return private


def said(capsys, *argv: str) -> tuple[int, str, str]:
    code = run_main(sql.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "query, named",
    [
        ("SELECT content FROM read_text('{private}')", "read_text()"),
        ("SELECT * FROM '{private}'", "reads a file or a URL"),
        ('SELECT * FROM "{folder}/*.csv"', "reads a file or a URL"),
        ("SELECT * FROM 'https://example.com/x.parquet'", "reads a file or a URL"),
        ("SELECT * FROM read_csv('{private}', header = false)", "read_csv()"),
        ("SELECT * FROM glob('{folder}/*')", "glob()"),
        ("SELECT * FROM query('SELECT content FROM read_text(''{private}'')')", "query()"),
        ("SELECT * FROM query_table('runs')", "query_table()"),
        ("SELECT * FROM system.main.read_text('{private}')", "read_text()"),
        ("SELECT * FROM postgres_scan('host=127.0.0.1 port=9', 'public', 't')", "postgres_scan()"),
        ("SELECT * FROM histogram('{private}', content)", "histogram()"),
        ("SELECT * FROM checkpoint()", "checkpoint()"),
        ("WITH t AS (SELECT * FROM runs) SELECT (SELECT content FROM read_blob('{private}')) FROM t", "read_blob()"),
    ],
)
def test_a_query_reads_no_file_by_default_and_says_how_to_allow_it(samples, capsys, query, named):
    query = query.format(private=samples, folder=samples.parent)
    code, out, err = said(capsys, query, "--format", "csv")
    last = err.splitlines()[-1]
    assert code == 2 and out == "" and last.startswith("error: sql: ") and "Traceback" not in err
    assert named in last and "--external-access" in err and SECRET not in err


def test_table_functions_that_read_nothing_outside_the_database_run_by_default(samples, capsys):
    query = (
        "SELECT (SELECT count(*) FROM range(3)) AS r, (SELECT count(*) FROM duckdb_tables()) >= 0 AS t, "
        "(SELECT count(*) FROM unnest([1, 2])) AS u, (SELECT count(*) FROM pragma_table_info('runs')) > 0 AS p"
    )
    code, out, err = said(capsys, query, "--format", "csv")
    assert code == 0, err
    assert out.splitlines() == ["r,t,u,p", "3,True,2,True"]


def test_external_access_lets_a_query_read_what_the_user_can(samples, capsys):
    code, out, err = said(capsys, f"SELECT content FROM read_text('{samples}')", "--format", "csv", "--external-access")
    assert code == 0, err
    assert list(csv.reader(io.StringIO(out))) == [["content"], [SECRET + "\n"]]


@pytest.mark.parametrize(
    "query, reason",
    [
        ("SELECT 1; SELECT 2", "one query at a time (2 statements given)"),
        ("INSTALL httpfs", "only a query runs here"),
        ("ATTACH 'other.duckdb' AS other", "only a query runs here"),
        ("SET enable_external_access = true", "only a query runs here"),
        ("COPY (SELECT 1) TO 'out.csv'", "only a query runs here"),
        ("SELECT * FROM", "Parser Error"),
    ],
)
def test_only_one_query_runs(samples, capsys, query, reason):
    for allowed in ([], ["--external-access"]):
        code, out, err = said(capsys, query, *allowed)
        assert code == 2 and out == "" and err.count("\n") == 1 and reason in err, err  # (before any run is read)


def test_the_views_that_read_turns_jsonl_when_queried_still_do(samples, capsys):
    """The views over each turn whole read the runs' turns.jsonl at query time: those files stay readable."""
    code, out, err = said(capsys, "SELECT count(*) AS turns FROM turn_lines", "--format", "json")
    turns = sum(len((run / "turns.jsonl").read_text().splitlines()) for run in SAMPLES[:2])
    assert code == 0, err
    assert json.loads(out) == [{"turns": turns}] and turns > 0


@pytest.mark.parametrize("form", ["table", "csv", "json"])
def test_a_time_with_its_zone_is_shown_in_utc(samples, capsys, form):
    code, out, err = said(
        capsys, "SELECT TIMESTAMPTZ '2026-01-02 03:04:05+02' AS t, now() IS NOT NULL AS has_now", "--format", form
    )
    assert code == 0, err
    assert re.search(r"2026-01-02[ T]01:04:05\+00:00", out), out


def test_a_query_nested_as_deep_as_duckdb_reads_is_checked_without_a_traceback(samples, capsys):
    query = "SELECT " + "(" * 900 + "1" + ")" * 900
    code, out, err = said(capsys, query, "--format", "csv")
    assert "Traceback" not in err and code == 0, err
    assert out.splitlines() == [out.splitlines()[0], "1"]
