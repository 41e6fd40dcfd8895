"""GitHub Copilot CLI and Continue CLI driven by the scripted model (tests/scripted_model.py), a Chat Completions
server that is not the mock: each runs `ls` and writes hello.py with its own shell tool in the folder given with
--workdir, and the recording and the report hold both calls and their results."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, read_traffic
from scripted_model import FINAL_ANSWER, HELLO_TEXT, LS_COMMAND, WRITE_COMMAND, scripted_model  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e
TEST_KEY = "sk-" + "scripted-key-not-real-0123456789"

# (target, the pinned program's fixture, the variable its key is read from, its shell tool's name)
AGENTS = [
    ("copilot", "copilot_program", "COPILOT_PROVIDER_API_KEY", "bash"),
    ("continue", "continue_program", "OPENAI_API_KEY", "Bash"),
]


@pytest.mark.parametrize(("target", "program", "key_variable", "tool"), AGENTS)
def test_the_agent_runs_ls_and_writes_hello_py_for_the_scripted_model(tmp_path, request, scripted_model, target,  # noqa: F811
                                                                      program, key_variable, tool):  # fmt: skip
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "notes-before.txt").write_text("here before the run\n")
    data = tmp_path / "data"
    program_path = request.getfixturevalue(program)
    env = dict(os.environ, PROBE_DATA_DIR=str(data), **{key_variable: TEST_KEY})
    env["PATH"] = f"{os.path.dirname(program_path)}{os.pathsep}{env['PATH']}"
    prompt = "make a hello script"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", scripted_model.url,
         "--port", "api=0", "--workdir", str(workdir), "--prompt", prompt, "--timeout", "180", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (workdir / "hello.py").read_text() == HELLO_TEXT + "\n"
    sent = scripted_model.completions()
    assert len(sent) == 3, [each.path for each in scripted_model.requests]
    assert prompt in json.dumps(sent[0].body["messages"])
    assert sent[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    # The results of the agent's own tool come back as tool messages: the listing, then the write.
    assert [message["role"] for message in sent[1].body["messages"]].count("tool") == 1
    assert "notes-before.txt" in json.dumps(sent[1].body["messages"][-1])
    assert [message["role"] for message in sent[2].body["messages"]].count("tool") == 2
    [run] = (data / target).iterdir()
    entries = read_traffic(run)
    assert len(entries) == 3 and all(entry["complete"] for entry in entries)
    assert [json.dumps(entry["request"]["body"]) for entry in entries] == [json.dumps(each.body) for each in sent]
    report = (run / "report.md").read_text()
    assert report.count(f"**Tool call** `{tool}`") == 2
    assert json.dumps(LS_COMMAND) in report and json.dumps(WRITE_COMMAND)[1:-1] in report
    assert "notes-before.txt" in report and FINAL_ANSWER in report
    assert "- Unrecognised: 0 kinds" in report and "- Tokens: 3 turns with usage" in report
    assert TEST_KEY.encode() not in b"".join(path.read_bytes() for path in run.rglob("*") if path.is_file())
