"""export --format parquet: the SQL views of every run as Hive-partitioned Parquet, read back by DuckDB and by pyarrow
and checked against what `invoke sql` gives over the same runs."""

import functools
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.compute
import pyarrow.dataset
import pyarrow.parquet
import pytest
from conftest import PROJECT_ROOT
from secret_runs import plant_in_outputs, plant_secrets

from probe.analysis import export, sql
from probe.common.errors import run_main
from probe.store.views import VIEWS

SAMPLE = PROJECT_ROOT / "data" / "claude-code" / "20261125-122623-sample-mock"
SUBAGENTS = PROJECT_ROOT / "tests" / "data" / "subagents"
# What the tables are compared by, where a view has it (with the count of rows, by run).
SUMMED = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")
CLAUDE_SUBAGENTS, CODEX_SUBAGENTS = "20260102-000000-subagents", "20260102-000001-subagents"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[object, Path]:
    """A data folder holding a bundled sample and the committed sub-agent captures of two agents (codex's with no
    start in its manifest: its folder's name dates it), exported twice into one folder (the second export replaces
    the first's files): a connection with `invoke sql`'s views over the runs, and the export."""
    data_dir = tmp_path_factory.mktemp("parquet") / "data"
    shutil.copytree(SAMPLE, data_dir / "claude-code" / SAMPLE.name)
    for target, name in (("claude-code", CLAUDE_SUBAGENTS), ("codex", CODEX_SUBAGENTS)):
        shutil.copytree(SUBAGENTS / target, data_dir / target / name)
    undated = data_dir / "codex" / CODEX_SUBAGENTS / "manifest.json"
    undated.write_text(json.dumps(json.loads(undated.read_text()) | {"started_at": None}))
    output = data_dir.parent / "lake"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(data_dir))
        for _ in range(2):
            assert run_main(export.main, ["--format", "parquet", "--run", "all", "--output", str(output)]) == 0
        connection = sql.connect(sql.list_runs())
        # What `invoke sql` answers, in one query: the totals of every view, by view and run.
        every = " UNION ALL ".join(f"SELECT '{view}', * FROM ({totals_query(view)})" for view in VIEWS)
        expected = {}
        for view, run, *totals in sql.query(sql.list_runs(), every)[1]:
            expected.setdefault(view, {})[run] = tuple(totals)
    yield connection, output, expected
    connection.close()


@functools.cache
def columns(view: str) -> list[str]:
    return sql.query([], f"SELECT * FROM {view}")[0]


def parquet_files(output: Path, view: str) -> str:
    return f"read_parquet('{output / view}/**/*.parquet', hive_partitioning = true)"


def totals_query(view: str, source: str | None = None) -> str:
    """Rows and the sums of the token and cost columns (NULL where the view has none), by run, of a view or of
    `source` holding its rows."""
    sums = "".join(f", sum({column})" if column in columns(view) else ", NULL" for column in SUMMED)
    return f"SELECT run, count(*){sums} FROM {source or view} GROUP BY run"


def pyarrow_totals(output: Path, view: str) -> dict[str, tuple]:
    """The same totals, read by pyarrow's own Parquet reader and Hive partitioning."""
    table = pyarrow.dataset.dataset(output / view, format="parquet", partitioning="hive").to_table()
    totals = {}
    for run in set(table["run"].to_pylist()):
        rows = table.filter(pyarrow.compute.equal(table["run"], run))
        summed = [pyarrow.compute.sum(rows[column]).as_py() if column in columns(view) else None for column in SUMMED]
        totals[run] = (rows.num_rows, *summed)
    return totals


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_reads_back_with_the_totals_of_invoke_sql(exported, view):
    _, output, answered = exported
    expected = answered.get(view, {})
    if not expected:  # a view no run has a row of (account: no agent log here; mcp_calls: no MCP server; releases:
        # no release run) has no file
        assert view.startswith(("account", "mcp", "releases")) and not list((output / view).rglob("*.parquet"))
        return
    assert len(expected) == 3
    read = duckdb.sql(totals_query(view, parquet_files(output, view))).fetchall()
    assert {row[0]: row[1:] for row in read} == expected
    assert pyarrow_totals(output, view) == expected
    if view == "turns":  # (the sample's figures, as its report gives them)
        assert expected[SAMPLE.name][:2] == (2, 25_014)


def test_the_tables_hold_the_views_rows_in_partitions_by_date_and_target(exported):
    connection, output, _ = exported
    runs = connection.execute("SELECT run, target FROM runs ORDER BY ALL").fetchall()
    assert runs == [(CLAUDE_SUBAGENTS, "claude-code"), (CODEX_SUBAGENTS, "codex"), (SAMPLE.name, "claude-code")]
    # claude-code's two runs started on 2026-11-25 (their manifests say); codex's has only its folder's name.
    files = {
        "date=2026-11-25/target=claude-code": [f"{CLAUDE_SUBAGENTS}_0.parquet", f"{SAMPLE.name}_0.parquet"],
        "date=2026-01-02/target=codex": [f"{CODEX_SUBAGENTS}_0.parquet"],
    }
    for view in ("runs", "turns", "requests", "agents", "spans", "time", "context"):
        found = {}
        for path in (output / view).rglob("*.parquet"):
            found.setdefault(str(path.parent.relative_to(output / view)), []).append(path.name)
        assert {folder: sorted(names) for folder, names in found.items()} == files, view
    # The same columns (the runs view's target from its folder) and the same values, row for row.
    for view in VIEWS:
        if not list((output / view).rglob("*.parquet")):
            continue
        columns = ", ".join(column[0] for column in connection.execute(f"DESCRIBE {view}").fetchall())
        read = duckdb.sql(f"SELECT {columns} FROM {parquet_files(output, view)}").fetchall()
        shown = connection.execute(f"SELECT * FROM {view}").fetchall()
        assert sorted(map(repr, read)) == sorted(map(repr, shown)), view
    partitions = f"SELECT DISTINCT run, target, date FROM {parquet_files(output, 'spans')} ORDER BY ALL"
    assert [(run, target, str(day)) for run, target, day in duckdb.sql(partitions).fetchall()] == [
        (CLAUDE_SUBAGENTS, "claude-code", "2026-11-25"),
        (CODEX_SUBAGENTS, "codex", "2026-01-02"),
        (SAMPLE.name, "claude-code", "2026-11-25"),
    ]


def test_a_run_kept_unmasked_is_refused_and_bad_output_gets_one_line(tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    output = tmp_path / "lake"

    def refused(*argv: str) -> str:
        assert run_main(export.main, ["--format", "parquet", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        return err

    assert "no data folder" in refused("--run", "all", "--output", str(output))
    data_dir.mkdir()
    assert "no runs in" in refused("--run", "all", "--output", str(output))
    kept = shutil.copytree(SAMPLE, data_dir / "claude-code" / "20260101-000000-kept")
    manifest = json.loads((kept / "manifest.json").read_text())
    (kept / "manifest.json").write_text(json.dumps(manifest | {"keep_secrets": True}))
    assert "captured with --keep-secrets" in refused("--run", str(kept), "--output", str(output))
    undated = shutil.copytree(SAMPLE, tmp_path / "elsewhere" / "undated")  # (its folder's name gives no date either)
    (undated / "manifest.json").write_text(json.dumps(manifest | {"started_at": None}))
    assert "nor its folder's name says when it started" in refused("--run", str(undated), "--output", str(output))
    (tmp_path / "file").write_text("")
    assert "not a folder" in refused("--run", str(kept), "--output", str(tmp_path / "file"))
    assert "needs --output DIR" in refused("--run", "all")
    assert "does not go with --format parquet" in refused("--keep-secrets", "--output", str(output))
    shutil.copytree(SAMPLE, data_dir / "claude-code" / "20260102-000000-odd {i}")
    # Every run: the one kept unmasked is left out with a warning, the others are written (a name a file cannot
    # safely take made safe, and told apart by its digest), once however often they are exported.
    for _ in range(2):
        assert run_main(export.main, ["--format", "parquet", "--run", "all", "--output", str(output)]) == 0
    err = capsys.readouterr().err
    assert "20260101-000000-kept: captured with --keep-secrets" in err
    assert [path.name for path in (output / "turns").rglob("*.parquet")] == [
        "20260102-000000-odd__i_-d9af948b_0.parquet"
    ]
    turns = duckdb.sql(f"SELECT run, count(*), sum(input_tokens) FROM {parquet_files(output, 'turns')} GROUP BY run")
    assert turns.fetchall() == [("20260102-000000-odd {i}", 2, 25_014)]


def test_text_an_older_capture_left_unmasked_is_written_masked_as_sql_prints_it(tmp_path, monkeypatch):
    """Runs holding every credential shape of the corpus raw (tests/secret_runs.py: in a manifest, a capture, and
    what an analysis wrote that none can write again): no value of any table holds one (map keys included), and the
    texts are the masked ones `invoke sql` prints."""
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path / "data"))
    run = shutil.copytree(SAMPLE, tmp_path / "data" / "claude-code" / SAMPLE.name)
    left = shutil.copytree(SAMPLE, tmp_path / "data" / "claude-code" / "20261125-000000-outputs-left")
    secrets = plant_secrets(run) + plant_in_outputs(left)
    output = tmp_path / "lake"
    assert run_main(export.main, ["--format", "parquet", "--run", "all", "--output", str(output)]) == 0
    values = [str(row) for file in output.rglob("*.parquet") for row in pyarrow.parquet.read_table(file).to_pylist()]
    assert len(values) > 50 and not [secret for secret in secrets if any(secret in value for value in values)]
    tools = duckdb.sql(f"SELECT DISTINCT unnest(map_keys(tools)) FROM {parquet_files(output, 'time')}").fetchall()
    assert len(tools) == 1 and tools[0][0].startswith("[REDACTED sha256:")
    shown = sql.query([run], "SELECT label, prompt, agent_version FROM runs")[1]
    runs = parquet_files(output, "runs")
    written = duckdb.sql(f"SELECT label, prompt, agent_version FROM {runs} WHERE run = '{run.name}'").fetchall()
    assert written == shown and "[REDACTED sha256:" in shown[0][1]
