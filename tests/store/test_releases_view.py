"""The `releases` view: a row for each release run (its manifest names a `scenario`), with the version asked for and
the figures the run's report gives; the same rows in the Parquet export and in the team lake, and none for a run
without a scenario or with one that is no text."""

import contextlib
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.dataset
import pytest
from conftest import PROJECT_ROOT

from probe.analysis import export, lake, publish, sql
from probe.common.errors import run_main
from probe.store.lake.basics import LakeSettings

CODEX = PROJECT_ROOT / "data" / "codex"
# The two samples as release runs: 0.166.0's manifest asked for its version, 0.169.0's asked for none (the pin), so
# its version is the one the agent reported. The HTTP sample is no release run.
RELEASES = {"tool": next(CODEX.glob("*-sample-v0.166.0")), "answer": next(CODEX.glob("*-sample-v0.169.0"))}
OTHER = next(CODEX.glob("*-sample-http"))
COLUMNS = ("run", "target", "version", "scenario", "status", "requests", "input_tokens", "output_tokens",
           "cache_read_tokens", "cache_write_tokens", "cost_usd", "wall_s", "model")  # fmt: skip
SELECTED = f"SELECT {', '.join(COLUMNS)} FROM releases ORDER BY run"
TOKEN_KINDS = {"input": "input_tokens", "output": "output_tokens", "cache read": "cache_read_tokens",
               "cache write": "cache_write_tokens"}  # fmt: skip


@pytest.fixture(scope="module")
def release_data(tmp_path_factory) -> Path:
    """A data folder holding the two samples as release runs and one other run; each report brought up to date
    (and the rows `invoke sql` gives) by a first query."""
    data_dir = tmp_path_factory.mktemp("releases") / "data"
    for scenario, sample in RELEASES.items():
        copy = data_dir / "codex" / sample.name
        shutil.copytree(sample, copy)
        manifest = json.loads((copy / "manifest.json").read_text())
        (copy / "manifest.json").write_text(json.dumps(manifest | {"scenario": scenario}))
    shutil.copytree(OTHER, data_dir / "codex" / OTHER.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(data_dir))
        sql.query(sql.list_runs(), "SELECT count(*) FROM runs")
    return data_dir


def local_rows(data_dir: Path, query: str = SELECTED) -> list[tuple]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(data_dir))
        return sql.query(sql.list_runs(), query)[1]


def report_figures(report: str) -> dict:
    """What the report says of the run, read from its text: status, version, requests, tokens, cost, time, model."""
    run = re.search(r"^- Run: target `([^`]+)`, status \*\*([^*]+)\*\*.*agent version `([^`]+)`", report, re.M)
    tokens = re.search(r"^- Tokens: .*? with usage: ([^;\n]*)", report, re.M)[1]  # (`input 17,819, cache read 8,909`)
    counts = {kind: int(count.replace(",", "")) for kind, count in re.findall(r"([a-z ]+?) ([\d,]+)(?:, |$)", tokens)}
    return {
        "target": run[1],
        "status": run[2],
        "reported_version": run[3],
        "requests": int(re.search(r"^One agent made all ([\d,]+) requests", report, re.M)[1].replace(",", "")),
        **{column: counts.get(kind) for kind, column in TOKEN_KINDS.items()},
        "cost_usd": Decimal(re.search(r"^- Cost: \$([\d.]+) for", report, re.M)[1]),
        "wall_s": float(re.search(r"^- Time: ([\d.]+) s", report, re.M)[1]),
        "model": re.search(r"^\| `main` \| `([^`]+)` \|", report, re.M)[1],
    }


def test_each_release_run_has_its_version_scenario_and_the_figures_of_its_report(release_data):
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in local_rows(release_data)]
    assert [row["run"] for row in rows] == sorted(sample.name for sample in RELEASES.values())  # (not the HTTP one)
    assert [run for (run,) in local_rows(release_data, "SELECT run FROM runs ORDER BY run")] == sorted(
        [OTHER.name, *(sample.name for sample in RELEASES.values())]
    )
    asked = {"tool": "0.166.0", "answer": None}
    for row in rows:
        scenario = row["scenario"]
        assert row["run"] == RELEASES[scenario].name
        said = report_figures((release_data / "codex" / row["run"] / "report.md").read_text())
        assert row["version"] == (asked[scenario] or said["reported_version"])
        assert {key: row[key] for key in ("target", "status", "requests", *TOKEN_KINDS.values(), "model")} == {
            key: said[key] for key in ("target", "status", "requests", *TOKEN_KINDS.values(), "model")
        }
        # (the report rounds the cost to 4 places and the time to the millisecond)
        assert row["cost_usd"].quantize(Decimal("0.0001")) == said["cost_usd"]
        assert round(row["wall_s"], 3) == said["wall_s"]
    # The samples' own figures, as their committed reports give them.
    assert [(row["version"], row["requests"], row["input_tokens"], row["cache_read_tokens"], row["output_tokens"],
             row["cache_write_tokens"], row["model"]) for row in rows] == [
        ("0.166.0", 3, 17_819, 8_909, 65, None, "gpt-6.1-sol"),
        ("codex-cli 0.169.0", 3, 17_703, 8_851, 65, None, "gpt-6.1-sol"),
    ]  # fmt: skip


def test_a_scenario_or_version_that_is_no_text_is_null_and_never_an_error(tmp_path, monkeypatch):
    """A manifest may come from anyone: a scenario that is no text (or empty) makes no release run, a requested
    version that is no text gives way to the reported one, and a text is shown inert."""
    odd = [(5, "0.1"), ({"name": "tool"}, None), ("", None), (None, None), (["tool"], None), (True, None),
           ("tool\u202e\x1b[31m", 7), ("answer", ""), ("sub", {"v": 1})]  # fmt: skip
    for number, (scenario, requested) in enumerate(odd):
        run = tmp_path / "data" / "codex" / f"20260101-00000{number}-odd"
        run.mkdir(parents=True)
        manifest = {"target": "codex", "status": "complete",
                    "agent": {"version": "codex-cli 9.9.9", "requested_version": requested}}  # fmt: skip
        (run / "manifest.json").write_text(json.dumps(manifest | ({} if scenario is None else {"scenario": scenario})))
    agentless = tmp_path / "data" / "codex" / "20260101-000010-odd"
    agentless.mkdir()
    (agentless / "manifest.json").write_text(json.dumps({"scenario": "answer", "agent": "nope"}))
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path / "data"))
    query = "SELECT run, scenario, version, requests, input_tokens FROM releases ORDER BY run"
    assert sql.query(sql.list_runs(), query)[1] == [
        ("20260101-000006-odd", "tool\u202e\x1b[31m", "codex-cli 9.9.9", 0, None),
        ("20260101-000007-odd", "answer", "codex-cli 9.9.9", 0, None),
        ("20260101-000008-odd", "sub", "codex-cli 9.9.9", 0, None),
        ("20260101-000010-odd", "answer", None, 0, None),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_main(sql.main, ["SELECT scenario FROM releases WHERE run LIKE '%6-odd'"]) == 0
    assert out.getvalue().splitlines()[2] == r"tool\u202e\x1b[31m"


def test_the_parquet_export_holds_the_releases_rows(release_data, tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_DATA_DIR", str(release_data))
    output = tmp_path / "parquet"
    assert run_main(export.main, ["--format", "parquet", "--run", "all", "--output", str(output)]) == 0
    table = pyarrow.dataset.dataset(output / "releases", format="parquet", partitioning="hive").to_table()
    read = sorted(tuple(row[column] for column in COLUMNS) for row in table.to_pylist())
    assert read == local_rows(release_data) and len(read) == 2
    assert {path.parent.name for path in (output / "releases").rglob("*.parquet")} == {"target=codex"}


@pytest.mark.lake
@pytest.mark.xdist_group("lake")
def test_the_lake_holds_the_releases_rows_and_a_run_removed_takes_its_row(release_data, tmp_path, postgres_database):
    catalog = f"postgres:{postgres_database}"
    options = ["--lake", catalog, "--lake-data", str(tmp_path / "files"), "--machine", "m1", "--user", "ana"]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setenv("PROBE_DATA_DIR", str(release_data))
        assert run_main(publish.main, ["--run", "all", *options]) == 0, err.getvalue()
        settings = LakeSettings(catalog, None, "-", "-")
        assert sql.lake_query(settings, SELECTED)[1] == local_rows(release_data) != []
        gone = RELEASES["tool"].name
        assert run_main(lake.main, ["remove", gone, *options[:4]]) == 0, err.getvalue()
        assert [row[0] for row in sql.lake_query(settings, SELECTED)[1]] == [RELEASES["answer"].name]
    assert "releases 1" in out.getvalue()  # (remove names the rows it took out of each table)
