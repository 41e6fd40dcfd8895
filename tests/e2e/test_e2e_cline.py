"""The real Cline CLI, recorded by the `cline` target: against the mock (`--upstream mock`), and against the scripted
model (tests/scripted_model.py), which has it run `ls` and write hello.py with its own shell tool in --workdir."""

import json
import os
import subprocess
import sys

import pytest
from chat_checks import assert_key_never_reached, assert_report_shows_the_mocks_tool_call_and_usage, chunks
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic
from scripted_model import HELLO_TEXT, LS_COMMAND, WRITE_COMMAND, scripted_model  # noqa: F401 (a fixture)

from probe.capture import agents
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

# One worker runs the module: the undated run below waits out its timeout beside the module's other runs.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cline")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives Cline
TEST_KEY = "sk-" + "scripted-key-not-real-0123456789"


@pytest.fixture(scope="session")
def cline_program():
    """The pinned Cline in .agents/, installed from npm if it is missing."""
    return str(agents.ensure_installed(load_target("cline")))


@pytest.fixture(scope="module")
def undated_run(tmp_path_factory, cline_program):
    """The run of a target whose provider entry lacks `updatedAt`, started before the module's other runs and
    collected by its test: Cline then waits, idle, on its own host until the 30 s timeout stops it, and the other
    runs go on meanwhile instead of after it. Yields (the bundled target's text, a function that waits for the
    pipeline to end and returns it, the data folder)."""
    bundled = (PROJECT_ROOT / "targets" / "cline.yaml").read_text()
    folder = tmp_path_factory.mktemp("undated")
    target = folder / "cline-undated.yaml"
    target.write_text(
        "\n".join(line for line in bundled.splitlines() if "updatedAt:" not in line).replace(
            "name: cline", "name: cline-undated"
        )
    )
    data = folder / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{os.path.dirname(cline_program)}{os.pathsep}{env['PATH']}"
    process = subprocess.Popen(
        [sys.executable, "-m", "probe.pipeline", "--target", str(target), "--upstream", "mock", "--port", "api=0",
         "--prompt", "say hi", "--timeout", "30", "--quiet"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def finished() -> subprocess.CompletedProcess:
        stdout, stderr = process.communicate(timeout=180)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    yield bundled, finished, data
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def cline_run(tmp_path_factory, cline_program, undated_run):
    result, run = pipeline_against_mock("cline", cline_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_cline_completes_a_tool_round_trip_against_the_mock(cline_run):
    result, run, entries = cline_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent"]["version"] == "3.0.65"
    assert manifest["agent"]["argv"][1:] == [PROMPT]
    assert manifest["agent"]["env"]["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["agent"]["env"]["CLINE_SESSION_BACKEND_MODE"] == "local"
    assert manifest["exchanges"] == len(entries) == 2
    assert [entry["request"]["path"] for entry in entries] == ["/v1/chat/completions"] * 2
    assert all(entry["complete"] for entry in entries)


def test_the_prompt_the_call_and_its_result_as_cline_sends_them(cline_run):
    _, _, entries = cline_run
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == "gpt-4.1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0]["role"] == "system" and body["messages"][0]["content"].startswith("You are Cline")
    assert body["messages"][-1] == {"role": "user", "content": PROMPT}
    shell = next(tool["function"] for tool in body["tools"] if tool["function"]["name"] == "run_commands")
    assert shell["parameters"]["properties"]["commands"]["items"]["type"] == "string"
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    deltas = [call for chunk in chunks(entries[0]) for choice in chunk["choices"]
              for call in choice["delta"].get("tool_calls", [])]  # fmt: skip
    arguments = json.loads("".join(delta["function"].get("arguments", "") for delta in deltas))
    assert arguments == {"commands": ["echo agent-probe tool call"]}
    assistant, tool = entries[1]["request"]["body"]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == deltas[0]["id"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == deltas[0]["id"]
    assert json.loads(tool["content"]) == [
        {"query": "echo agent-probe tool call", "result": "agent-probe tool call\n", "success": True}
    ]


def test_the_report_shows_the_call_the_answer_and_the_usage(cline_run):
    _, run, entries = cline_run
    report = (run / "report.md").read_text()
    assert_report_shows_the_mocks_tool_call_and_usage(report, entries, "run_commands", "echo agent-probe tool call")


def test_its_settings_stay_in_the_private_home_and_no_key_reaches_the_run(cline_run):
    _, run, _ = cline_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    assert_key_never_reached(run, MOCK_KEY)


def test_cline_runs_ls_and_writes_hello_py_for_the_scripted_model(tmp_path, scripted_model, cline_program):  # noqa: F811
    """Cline's own shell tool, driven by a model that is not the mock, changes the folder given with --workdir;
    the recording holds each call and its result, and the report lists both calls."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "notes-before.txt").write_text("here before the run\n")
    data = tmp_path / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data), OPENAI_API_KEY=TEST_KEY)
    env["PATH"] = f"{os.path.dirname(cline_program)}{os.pathsep}{env['PATH']}"
    prompt = "make a hello script"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "cline", "--upstream", scripted_model.url,
         "--port", "api=0", "--workdir", str(workdir), "--prompt", prompt, "--timeout", "120", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (workdir / "hello.py").read_text() == HELLO_TEXT + "\n"
    sent = scripted_model.completions()
    assert len(sent) == 3
    assert sent[0].body["messages"][-1] == {"role": "user", "content": prompt}
    assert sent[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    [listing] = json.loads(sent[1].body["messages"][-1]["content"])
    assert listing["query"] == LS_COMMAND and listing["result"] == "notes-before.txt\n"
    [written] = json.loads(sent[2].body["messages"][-1]["content"])
    assert written["query"] == WRITE_COMMAND and written["success"] is True
    [run] = (data / "cline").iterdir()
    entries = read_traffic(run)
    assert [entry["request"]["body"]["messages"][-1]["role"] for entry in entries] == ["user", "tool", "tool"]
    assert all(entry["complete"] for entry in entries)
    report = (run / "report.md").read_text()
    assert report.count("**Tool call** `run_commands`") == 2
    calls = [report.index(f"`run_commands` (call_id `call_scripted_{number}`)") for number in (1, 2)]
    shown = [f'"commands": [\n    {json.dumps(command)}\n  ]' for command in (LS_COMMAND, WRITE_COMMAND)]
    commands = [report.index(text) for text in shown]
    assert calls[0] < commands[0] < calls[1] < commands[1]
    assert "notes-before.txt" in report and "Done: hello.py prints a greeting." in report
    assert "- Unrecognised: 0 kinds" in report and "- Tokens: 3 turns with usage" in report
    assert TEST_KEY.encode() not in b"".join(path.read_bytes() for path in run.rglob("*") if path.is_file())


def test_a_provider_entry_without_updated_at_sends_nothing_through_the_proxy(undated_run):
    """Why the target's entry carries `updatedAt`: without it Cline drops the entry without a word and turns to its
    own login and host, which the run's refusing listener answers 403 at once (a run against the mock reaches nothing
    else): the proxy sees no request, and Cline gives up."""
    bundled, finished, data = undated_run
    assert bundled.count("updatedAt:") == 1
    result = finished()
    [run] = (data / "cline-undated").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["exchanges"] == 0 and read_traffic(run) == [], result.stderr[-2000:]
    assert manifest["status"] == "agent-failed"  # its own host refused it: it stopped, with no request to the model
