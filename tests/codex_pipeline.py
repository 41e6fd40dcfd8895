"""The real pipeline run with the real codex against the mock, for the tests that read what it writes."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT

PROMPT = "write a hello world function"


def run_pipeline(data_dir: Path, codex_program: str, transport: str) -> tuple[subprocess.CompletedProcess, Path]:
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(codex_program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "pipeline",
            "--target",
            "codex",
            "--upstream",
            "mock",
            "--mock-transport",
            transport,
            "--prompt",
            PROMPT,
            "--label",
            transport,
            "--timeout",
            "120",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    [run] = (data_dir / "codex").iterdir()
    return result, run
