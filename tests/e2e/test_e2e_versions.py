"""Two versions of the real agents, side by side: each run against the mock, then `invoke diff` between them."""

import concurrent.futures
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "ant-mock-not-a-real-key"  # what claude-code's mock_env gives Claude Code


def pipeline(data_dir: Path, target: str, version: str, label: str, *options: str) -> Path:
    """A run of the named version (installed beside the pinned one if missing), never whatever is on PATH."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.pipeline",
            "--target",
            target,
            "--upstream",
            "mock",
            "--prompt",
            PROMPT,
            "--label",
            label,
            "--timeout",
            "120",
            "--agent-version",
            version,
            *options,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (data_dir / target).glob(f"*-{label}")
    return run


def diff(a: Path, b: Path) -> tuple[str, str]:
    """The diff, and its body: what follows the lines naming the two runs (whose paths hold temp folders)."""
    result = subprocess.run(
        [sys.executable, "-m", "probe.write.diff", "--run", str(a), "--run", str(b)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    header, body = result.stdout.split("\n## ", 1)
    assert f"- A: `{a}`" in header and f"- B: `{b}`" in header
    return result.stdout, body


def volatile_values(run: Path) -> set[str]:
    """Ids and temp paths this run's capture holds: none of them may show in a diff as a change."""
    traffic = (run / "traffic.jsonl").read_text()
    found = set(re.findall(r"\b(?:resp|msg|call|fc|rs|toolu)_[0-9A-Za-z]{16,}\b", traffic))
    found |= set(re.findall(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", traffic))
    found |= set(re.findall(r"/tmp/[A-Za-z0-9._-]{6,}", traffic))
    return found


def side_by_side(data_dir: Path, target: str, older: str, newer: str) -> tuple[Path, Path]:
    """The runs of the two versions, made at the same time: each picks free ports and a folder of its own."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(pipeline, data_dir, target, older, "older"),
            pool.submit(pipeline, data_dir, target, newer, "newer"),
        ]
    return runs[0].result(), runs[1].result()


def test_codex_0_166_against_0_169_names_what_changed(tmp_path):
    older, newer = side_by_side(tmp_path, "codex", "0.166.0", "0.169.0")
    text, body = diff(older, newer)
    assert "| agent | `codex-cli 0.166.0` | `codex-cli 0.169.0` |  |" in text
    assert "- Only in A: `GET /backend-api/plugins/featured` ×1" in text  # only 0.166.0 calls it
    exec_tool = text.split("### Changed: `functions.exec`")[1].split("###")[0]
    assert "Description:" in exec_tool and "[-" in exec_tool and "-]" in exec_tool
    skills = text.split("developer block host_skills.instructions changed")[1].split("</details>")[0]
    assert re.search(r"\n- [\w-]+: .*(\[-|\{\+)", skills)  # a skill's line, marked where it changed
    shown = [value for run in (older, newer) for value in volatile_values(run) if value in body]
    assert shown == []


def test_claude_code_2_1_316_against_2_1_332(tmp_path):
    older, newer = side_by_side(tmp_path, "claude-code", "2.1.316", "2.1.332")  # an older one, and the pin
    text, body = diff(older, newer)
    assert "| agent | `2.1.316 (Claude Code)` | `2.1.332 (Claude Code)` |  |" in text
    assert "No differences." not in text
    assert MOCK_KEY not in text
    shown = [value for run in (older, newer) for value in volatile_values(run) if value in body]
    assert shown == []
