"""`python -m probe.releases` with the real codex at two versions, against the mock: one run each, reused the
second time; a version that cannot be installed is a row of its own, and the others still run."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OLDER_CODEX, PROJECT_ROOT

from probe.runs.targets import load_target

pytestmark = pytest.mark.e2e
PINNED = load_target("codex").install.version  # as targets/codex.yaml pins it
MISSING = "0.167.5"  # listed by the fake registry below, refused by its install
# npm as a registry that lists a version it cannot install: `view` answers the listing, `install` fails as npm does.
FAKE_NPM = f"""#!/bin/sh
if [ "$1" = view ]; then echo '["{OLDER_CODEX}", "{MISSING}", "{PINNED}", "{PINNED}-linux-x64"]'; exit 0; fi
echo "npm error code ETARGET"
echo "npm error notarget No matching version found for @openai/codex@{MISSING}."
exit 1
"""


def releases(output: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    argv = [
        sys.executable,
        "-m",
        "probe.releases",
        "--target",
        "codex",
        "--scenario",
        "answer",
        "--output",
        str(output),
    ]
    return subprocess.run(
        [*argv, *options], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env or dict(os.environ)
    )


def runs_of(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "codex").iterdir())


def test_two_versions_are_run_once_then_reused(private_data_dir, tmp_path, older_codex_program, codex_program):
    first = releases(tmp_path / "out", "--versions", f"{OLDER_CODEX},{PINNED}")
    assert first.returncode == 0, first.stderr
    made = runs_of(private_data_dir)
    assert [run.name.split("-", 2)[2] for run in made] == [f"v{OLDER_CODEX}-answer", f"v{PINNED}-answer"]
    for run, version in zip(made, (OLDER_CODEX, PINNED)):
        manifest = json.loads((run / "manifest.json").read_text())
        assert (manifest["scenario"], manifest["agent"]["requested_version"]) == ("answer", version)
        assert (manifest["status"], manifest["upstream_override"]) == ("complete", "mock")
        assert manifest["agent"]["version"] == f"codex-cli {version}"
        report = (run / "report.md").read_text()
        assert "- Tools: no tool call\n" in report and "No response asked for a tool call." in report
        assert f"codex {version} answer: made (complete, " in first.stdout and str(run) in first.stdout
    # The changelog: the pin's entry compares it with the older version on the one scenario, links the full diff,
    # and gives the figures its run's own report gives.
    changelog = (tmp_path / "out" / "codex" / "releases.md").read_text()
    entry = changelog.split(f"\n## {PINNED}\n", 1)[1].split(f"\n## {OLDER_CODEX}\n", 1)[0]
    assert f"Since {OLDER_CODEX}, compared on the runs of scenario `answer` " in entry
    assert f"([full diff](<diff-{OLDER_CODEX}-{PINNED}.md>))" in entry
    assert (tmp_path / "out" / "codex" / f"diff-{OLDER_CODEX}-{PINNED}.md").read_text().startswith("# agent-probe diff")
    report = (made[1] / "report.md").read_text()
    tokens = re.search(r"- Tokens: .*?input ([\d,]*\d), cache read ([\d,]*\d), output ([\d,]*\d)", report)
    cost = re.search(r"- Cost: (\$[\d.]+) for", report).group(1)
    [row] = [line for line in entry.splitlines() if line.startswith("| `answer` |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert (cells[3], cells[4], cells[5], cells[7]) == (tokens[1], tokens[3], tokens[2], cost)
    assert f"/codex/{made[1].name}/report.md" in cells[1]
    # Again: both runs exist, so nothing is made.
    again = releases(tmp_path / "out", "--versions", f"{OLDER_CODEX},{PINNED}")
    assert again.returncode == 0, again.stderr
    assert runs_of(private_data_dir) == made
    for run, version in zip(made, (OLDER_CODEX, PINNED)):
        assert f"codex {version} answer: reused (complete) " in again.stdout and str(run) in again.stdout
    # Side by side: each agent at its pin or the version after its @, on the one scenario; the runs exist.
    side = subprocess.run(
        [sys.executable, "-m", "probe.releases", "--targets", f"codex@{OLDER_CODEX},codex", "--scenario", "answer"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert side.returncode == 0, side.stderr
    assert side.stdout.splitlines()[:2] == [
        f"codex {version} answer: reused (complete) {run}" for run, version in zip(made, (OLDER_CODEX, PINNED))
    ]
    table = (private_data_dir / "releases" / "side-by-side-answer.md").read_text()
    assert f"| figure | `codex@{OLDER_CODEX}` | `codex@{PINNED}` |" in table
    assert re.search(r"\| requests \| 2 \| 2 \|", table) and "| cost | $" in table
    # A version the registry lists but cannot install: its row says why, the versions after it still run, exit 1.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "npm").write_text(FAKE_NPM)
    (fake / "npm").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    broken = releases(tmp_path / "out", "--since", MISSING, "--remake", env=env)
    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.splitlines()
    assert lines[:3] == [
        f"codex: 2 version(s) ({MISSING}, {PINNED}) × 1 scenario(s)",
        f"codex {MISSING} answer: install failed: installing @openai/codex@{MISSING} failed: npm has no version "
        f"{MISSING} of @openai/codex",
        lines[2],
    ]
    assert lines[2].startswith(f"codex {PINNED} answer: made (complete, ")
    assert lines[-1] == f"1 of 2 failed: codex {MISSING} answer"
    [remade] = [run for run in runs_of(private_data_dir) if run not in made]
    assert remade.name.endswith(f"-v{PINNED}-answer") and str(remade) in lines[2]
    assert json.loads((remade / "manifest.json").read_text())["status"] == "complete"
