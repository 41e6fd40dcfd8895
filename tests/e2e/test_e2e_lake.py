"""Three agents' runs against the mock, published to one team lake from three processes at once, each as its own
machine, with `invoke publish`; `invoke sql --lake` answers with each run once, the turns and tokens `invoke sql`
gives over the run folders, and publishing everything again adds no row."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, pipeline_against_mock

pytestmark = [pytest.mark.e2e, pytest.mark.lake, pytest.mark.slow]

TOTALS = """SELECT run, count(*) AS turns, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens)
            FROM turns GROUP BY run ORDER BY run"""


def invoke(*argv: str, data_dir: Path) -> subprocess.Popen:
    env = {"PROBE_DATA_DIR": str(data_dir), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(data_dir.parent)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", *argv], cwd=PROJECT_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finished(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    return out


def sql_json(query: str, data_dir: Path, *lake: str) -> list[dict]:
    return json.loads(finished(invoke("sql", "--query", query, "--format", "json", *lake, data_dir=data_dir)))


@FRESH_RUNS
def test_three_machines_publish_three_agents_runs_at_once(fresh_runs, gemini_program, postgres_server, tmp_path):
    _, codex_run, claude_run = fresh_runs
    result, gemini_run = pipeline_against_mock("gemini", gemini_program, tmp_path / "gemini", "write hello world")
    assert result.returncode == 0, result.stderr[-2000:]
    folders = []
    for index, run in enumerate((codex_run, claude_run, gemini_run)):
        folders.append(tmp_path / f"machine-{index}" / "data")
        shutil.copytree(run, folders[-1] / run.parent.name / run.name)
    everything = tmp_path / "everything"
    for folder in folders:
        shutil.copytree(folder, everything, dirs_exist_ok=True)
    lake = ["--lake", "postgres:" + postgres_server.create_database("team"), "--lake-data", str(tmp_path / "files")]

    def publish_all() -> list[str]:
        processes = [
            invoke("publish", "--run", "all", *lake, "--machine", f"machine-{index}", "--user", "ana", data_dir=folder)
            for index, folder in enumerate(folders)
        ]
        return [finished(process) for process in processes]

    first = publish_all()
    assert all(": " in out and "rows added, 0 removed" in out for out in first), first
    runs = sql_json("SELECT run, target, machine, published_by_machine, count(*) OVER (PARTITION BY run_id) AS copies "
                    "FROM runs", everything, *lake)  # fmt: skip
    # Each credited to the machine that recorded it (its manifest's labels), published by the machine that held it.
    recorded = {run.parent.name: json.loads((run / "manifest.json").read_text())["labels"]["machine"]
                for run in (codex_run, claude_run, gemini_run)}  # fmt: skip
    assert sorted((row["target"], row["machine"], row["published_by_machine"], row["copies"]) for row in runs) == [
        ("claude-code", recorded["claude-code"], "machine-1", 1), ("codex", recorded["codex"], "machine-0", 1),
        ("gemini", recorded["gemini"], "machine-2", 1),
    ]  # fmt: skip
    local = sql_json(TOTALS, everything)
    assert sql_json(TOTALS, everything, *lake) == local
    assert len(local) == 3 and all(row["turns"] >= 1 and row["sum(input_tokens)"] > 0 for row in local)
    again = publish_all()
    assert all("already published" in out and "1 run in it as recorded here, 0 rows added" in out for out in again)
    assert sql_json(TOTALS, everything, *lake) == local
