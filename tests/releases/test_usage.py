"""Bad usage of `python -m probe.releases` is one `error:` line, before anything is installed or run."""

import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

# npm as a registry that cannot be reached, as npm says it.
UNREACHABLE = "network request to https://registry.npmjs.org/@openai%2fcodex failed, reason: getaddrinfo ENOTFOUND"
OFFLINE_NPM = f"""#!/bin/sh
echo "npm error code ENOTFOUND"
echo "npm error syscall getaddrinfo"
echo "npm error {UNREACHABLE}"
exit 1
"""


def releases(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "probe.releases", *argv],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or dict(os.environ),
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--versions", "1.0.0"], "one of the arguments --target --targets is required"),
        (["--target", "codex", "--last", "0"], "argument --last: expected a number, 1 or more, got '0'"),
        (
            ["--target", "codex", "--last", "2", "--since", "pinned"],
            "argument --since: not allowed with argument --last",
        ),
        (["--target", "codex", "--scenario", "answer,nope"], "no scenario nope (the scenarios: answer, tool,"),
        (["--targets", "codex,gemini"], "--targets puts agents side by side on one scenario: give one --scenario"),
        (
            ["--targets", "codex", "--scenario", "tool", "--last", "2"],
            "--versions, --last and --since go with --target",
        ),
        (["--targets", "codex@latest", "--scenario", "tool"], "codex@latest: expected a plain version after the @"),
        (["--target", "openai-compatible"], "openai-compatible names no npm or PyPI package (agent.install)"),
        (["--target", "nope"], "nope"),
    ],
)
def test_bad_usage_is_one_line(argv, message, private_data_dir):
    result = releases(*argv)
    assert result.returncode == 2 and result.stdout == "", result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line
    assert not private_data_dir.exists()  # nothing was made


def test_a_registry_that_cannot_be_reached_is_one_line(tmp_path, private_data_dir):
    (tmp_path / "npm").write_text(OFFLINE_NPM)
    (tmp_path / "npm").chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = releases("--target", "codex", "--last", "2", env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: npm view @openai/codex versions failed: {UNREACHABLE}\n"
    assert not private_data_dir.exists()
