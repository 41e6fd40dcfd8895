"""A run's manifest keeps its target file (name, sha256, masked text), so a run made with a target file from
anywhere can be re-analysed with that target's renderer once the file is gone."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

from conftest import PROJECT_ROOT

from probe.redact.masking import fingerprint

KEY = "sk-proj-" + "Q7xR2mVb9TzK4pLw8NcY3hJd6FgS1aEu"  # shaped like an OpenAI key
PASSWORD = "correct-horse-battery"  # shaped like nothing: masked because its variable's name says secret

TARGET = f"""# a target kept outside targets/
name: mytool
description: a tool whose file is not in targets/
renderer: probe.apis.openai_responses.report
proxies: [{{name: model, listen: 0, upstream: "https://api.openai.com/"}}]
agent:
  command: ["true", "{{prompt}}"]
  env:
    MYTOOL_API_KEY: {KEY}
    MYTOOL_PASSWORD: "{PASSWORD}"
    MYTOOL_BASE: "{{proxy.model}}/v1"
redact_headers: [x-mytool-session]
"""


def test_the_manifest_keeps_the_target_file_masked_and_analysis_can_use_it(tmp_path):
    target = tmp_path / "mytool.yaml"
    target.write_text(TARGET)
    data = tmp_path / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", str(target), "--upstream", "mock", "--prompt", "hi"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [run] = (data / "mytool").iterdir()
    text = (run / "manifest.json").read_text()
    manifest = json.loads(text)
    stored = manifest["target_file"]
    assert stored["name"] == "mytool.yaml"
    assert stored["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert stored["content"] == TARGET.replace(KEY, fingerprint(KEY)).replace(PASSWORD, fingerprint(PASSWORD))
    assert KEY not in text and PASSWORD not in text
    agent = manifest["agent"]
    assert (agent["binary"], agent["npm_package"], agent["requested_version"]) == (shutil.which("true"), None, None)
    assert agent["env"]["MYTOOL_API_KEY"] == fingerprint(KEY)

    target.unlink()  # the run goes elsewhere, without its target file
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: the manifest names target 'mytool', which is not a target in targets/: the report uses "
        "probe.apis.openai_responses.report, the renderer of the target file 'mytool.yaml' stored in the manifest "
        "(pass --target to choose another)"
    ]


def test_with_keep_secrets_the_target_file_is_stored_as_written(tmp_path):
    target = tmp_path / "mytool.yaml"
    target.write_text(TARGET)
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.record",
            "capture",
            "--target",
            str(target),
            "--upstream",
            "mock",
            "--keep-secrets",
            "--command",
            "true",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [run] = (tmp_path / "data" / "mytool").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["target_file"]["content"] == TARGET
    assert (manifest["agent"]["binary"], manifest["agent"]["requested_version"]) == (None, None)  # a --command run
