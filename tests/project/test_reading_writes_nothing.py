"""Reading never writes committed files: on a fresh clone every documented read-only command leaves `git status`
clean and the samples keep their own prices; a report made with --prices keeps them when it is viewed or queried,
and is made again only when what it is made from changes."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

SAMPLE = "data/codex/20261125-122607-sample-v0.169.0"  # priced by data/sample-prices.yaml
OLDER = "data/codex/20261125-122602-sample-v0.166.0"
COST = re.compile(r"^- Cost: \$([0-9.]+) for", re.MULTILINE)
MADE_WITH = re.compile(r"^- Made with: .*$", re.MULTILINE)


def environment(tmp: Path, data: Path, **more: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "PROBE_PRICES"}
    # The code and data of the folder under test, the analysis's signing key in a scratch state folder, no browser.
    return env | {"PROBE_DATA_DIR": str(data), "XDG_STATE_HOME": str(tmp / "state"), "BROWSER": "/bin/false"} | more


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh clone of this checkout's HEAD, and the environment its commands run in."""
    tmp = tmp_path_factory.mktemp("fresh")
    folder = tmp / "agent-probe"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(folder)], check=True, timeout=300)
    env = environment(tmp, folder / "data", PYTHONPATH=str(folder))
    found = run([sys.executable, "-c", "import probe; print(probe.__file__)"], folder, env).stdout.strip()
    assert Path(found).is_relative_to(folder), found  # the clone's code, not this checkout's
    return folder, env


READ_ONLY = [  # every read-only command README.md and docs/*.md show, as a user types it
    ["sql", "select count(*) from runs"],
    ["sql", "select n, part, tokens from context order by tokens desc limit 10"],
    ["sql", "select model, agent_name, sum(cost_usd) from turns group by all"],
    ["sql", "select n, cache_read_tokens, cache_break from turns"],
    ["sql", "select target, count(*), sum(cost_usd) from runs group by target"],
    ["analyze", "--run", "all"],
    ["analyze", "--run", "latest"],
    ["analyze", "--run", SAMPLE],
    ["view"],
    ["view", "--run", SAMPLE],
    ["diff", "--run", OLDER, "--run", SAMPLE],
    ["export", "--run", SAMPLE, "--format", "har"],
    ["export", "--run", SAMPLE, "--format", "mitm"],
    ["export", "--run", SAMPLE, "--format", "vcr"],
    ["export", "--run", SAMPLE, "--format", "perfetto"],
    ["export", "--format", "parquet", "--run", "all", "--output", "../lake"],  # (beside the clone)
    ["samples"],
    ["targets"],
]


@pytest.mark.slow  # every read-only command in turn: CI runs it, `nox -s quick` does not
def test_every_documented_read_only_command_leaves_a_fresh_clone_clean(clone):
    folder, env = clone
    committed = (folder / SAMPLE / "report.md").read_text()
    for command in READ_ONLY:
        result = run([sys.executable, "-m", "invoke", *command], folder, env)
        status = run(["git", "status", "--porcelain", "--untracked-files=all"], folder, env).stdout
        assert status == "", f"invoke {' '.join(command)} changed the clone:\n{status}\n{result.stderr}"
    # The sample is still priced by its own file, and SQL reads the same cost the committed report shows.
    assert (folder / SAMPLE / "report.md").read_text() == committed
    assert "prices `sample-prices.yaml (sha256" in MADE_WITH.search(committed).group()
    query = f"select round(sum(cost_usd), 4) from turns where run = '{Path(SAMPLE).name}'"
    shown = run([sys.executable, "-m", "invoke", "sql", query, "--format", "csv"], folder, env).stdout
    assert shown.splitlines()[-1] == COST.search(committed).group(1)


def test_a_report_keeps_the_prices_it_was_made_with_until_they_change(tmp_path):
    data = tmp_path / "data"
    mine = data / "codex" / "20261126-010000-mine"  # not a sample: priced only as asked
    mine.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(PROJECT_ROOT / SAMPLE / name, mine / name)
    prices = tmp_path / "my-prices.yaml"
    prices.write_text("use_database: false\nmodels:\n  gpt-6.1-sol: {input: 2, output: 10, cache_read: 0.1}\n")
    env = environment(tmp_path, data)

    def probe(module: str, *args: str) -> str:
        return run([sys.executable, "-m", f"probe.analysis.{module}", *args], PROJECT_ROOT, env).stdout

    probe("analyze", "--run", str(mine), "--prices", str(prices))
    made = (mine / "report.md").read_bytes()
    assert "prices `my-prices.yaml (sha256" in MADE_WITH.search(made.decode()).group()
    cost = COST.search(made.decode()).group(1)
    assert float(cost) > 0

    # Read without --prices: nothing it is made from changed, so nothing is made again, nor priced otherwise.
    written = (mine / "report.md").stat().st_mtime_ns
    assert "report.html" in probe("view", "--run", str(mine))
    assert (mine / "report.md").stat().st_mtime_ns == written
    assert probe("sql", "select round(sum(cost_usd), 4) from turns", "--format", "csv").splitlines()[-1] == cost
    assert "1 up to date, 0 rebuilt" in probe("analyze", "--run", "all")
    assert (mine / "report.md").read_bytes() == made
    assert (mine / "report.md").stat().st_mtime_ns == written

    # The price file changed: the report is made again with what it now says.
    prices.write_text(prices.read_text().replace("output: 10", "output: 20"))
    assert "1 rebuilt" in probe("analyze", "--run", "all")
    again = (mine / "report.md").read_text()
    assert "prices `my-prices.yaml (sha256" in MADE_WITH.search(again).group()
    assert float(COST.search(again).group(1)) > float(cost)

    # The price file is gone: said in one line, and priced by the database.
    prices.unlink()
    said = subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", str(mine)], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert said.returncode == 0, said.stderr
    assert "my-prices.yaml, which the report was made with, is gone: priced anew" in said.stderr
    assert "prices `genai-prices" in MADE_WITH.search((mine / "report.md").read_text()).group()
