"""The real aider, from PyPI, recorded by the `aider` target: against the mock (`--upstream mock`), and against the
scripted model (tests/scripted_model.py), whose answer edits hello.py into --workdir in aider's own edit format.
aider declares no tools: a run is one request per message, its edits written in the answer's text."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic, tokens_line
from scripted_model import FINAL_ANSWER, HELLO_TEXT, scripted_model  # noqa: F401 (a fixture)

from probe.capture import agents
from probe.read.sse import parse
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("aider")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives aider
TEST_KEY = "sk-" + "scripted-key-not-real-0123456789"


@pytest.fixture(scope="session")
def aider_program():
    """The pinned aider in its own virtualenv in .agents/, installed from PyPI if it is missing."""
    return str(agents.ensure_installed(load_target("aider")))


@pytest.fixture(scope="module")
def aider_run(tmp_path_factory, aider_program):
    result, run = pipeline_against_mock("aider", aider_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def chunks(entry: dict) -> list[dict]:
    return [event.data for event in parse(entry["response"]["body"]) if isinstance(event.data, dict)]


def test_aider_asks_once_and_prints_the_mocks_answer(aider_run):
    result, run, entries = aider_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent"]["version"] == "aider 0.86.2"
    assert manifest["agent"]["argv"][1:] == ["--message", PROMPT, "--yes-always"]
    assert manifest["agent"]["env"]["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 1
    [entry] = entries
    assert entry["request"]["path"] == "/v1/chat/completions" and entry["complete"]
    assert entry["response"]["body"].rstrip().endswith("data: [DONE]")


def test_the_request_carries_the_prompt_the_edit_rules_and_no_tools(aider_run):
    _, _, [entry] = aider_run
    request = entry["request"]
    body = request["body"]
    assert body["model"] == "gpt-4.1" and body["stream"] is True and "tools" not in body
    # The target's model settings ask for usage, which aider on its own does not.
    assert body["stream_options"] == {"include_usage": True}
    roles = [message["role"] for message in body["messages"]]
    assert roles[0] == "system" and body["messages"][0]["content"].startswith("Act as an expert software developer")
    assert {"role": "user", "content": PROMPT} in body["messages"]
    assert roles[-1] == "system" and "SEARCH/REPLACE block" in body["messages"][-1]["content"]
    headers = {name.lower(): value for name, value in request["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert headers["user-agent"].startswith("OpenAI/Python ")


def test_the_report_has_the_answer_and_the_usage(aider_run):
    _, run, [entry] = aider_run
    report = (run / "report.md").read_text()
    [usage] = [chunk["usage"] for chunk in chunks(entry) if chunk.get("usage")]
    turn = {
        "input": usage["prompt_tokens"],
        "cache_read": usage["prompt_tokens_details"]["cached_tokens"],
        "output": usage["completion_tokens"],
        "reasoning": usage["completion_tokens_details"]["reasoning_tokens"],
    }
    assert tokens_line([turn]).replace("1 turns", "1 turn") in report
    assert "- Made with: renderer `probe.apis.openai_chat.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    assert "**Tool call**" not in report and "finish_reason `stop`" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report


def test_its_settings_stay_in_the_private_home_and_no_key_reaches_the_run(aider_run):
    _, run, _ = aider_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    for path in run.rglob("*"):
        if path.is_file():
            assert MOCK_KEY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_the_run_replays_at_its_recorded_version_from_pypi(aider_run, private_data_dir):
    """`invoke replay` serves the recorded answer back to the aider of the recorded version, which it takes from its
    virtualenv in .agents/ (installed from PyPI if it were missing); with --approvals, without --yes-always."""
    _, run, _ = aider_run
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "replay", "--run", str(run), "--approvals"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "replay: every request matched (1 request)" in result.stdout + result.stderr
    assert "agent: aider 0.86.2 at .agents/aider-chat@0.86.2/bin/aider" in result.stderr
    [replayed] = (private_data_dir / "aider").glob("*-replay")
    agent = json.loads((replayed / "manifest.json").read_text())["agent"]
    assert (agent["requested_version"], agent["pypi_package"]) == ("0.86.2", "aider-chat")
    assert agent["argv"][1:] == ["--message", PROMPT]
    assert 'return "Hello, world!"' in result.stdout  # the recorded answer, printed by aider


def test_aider_writes_hello_py_from_the_scripted_models_edit(tmp_path, scripted_model, aider_program):  # noqa: F811
    """aider applies the edit a model other than the mock wrote in its answer, in the folder given with --workdir.
    Run with a home of its own (--home own) that lacks the target's usage setting, aider asks for no usage, as it
    does by default, and the report says the API reported none."""
    workdir, home = tmp_path / "project", tmp_path / "home"
    workdir.mkdir()
    prices = home / ".aider" / "caches" / "model_prices_and_context_window.json"  # else it downloads them
    prices.parent.mkdir(parents=True)
    prices.write_text(json.dumps({"gpt-4.1": {"max_input_tokens": 1047576, "litellm_provider": "openai"}}))
    data = tmp_path / "data"
    env = dict(os.environ, PROBE_DATA_DIR=str(data), OPENAI_API_KEY=TEST_KEY, HOME=str(home))
    env["PATH"] = f"{os.path.dirname(aider_program)}{os.pathsep}{env['PATH']}"
    prompt = "make a hello script"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "aider", "--upstream", scripted_model.url,
         "--port", "api=0", "--workdir", str(workdir), "--home", "own", "--prompt", prompt, "--timeout", "120",
         "--quiet", "--", "--model", "gpt-4.1", "--no-git"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (workdir / "hello.py").read_text() == HELLO_TEXT + "\n"
    [sent] = scripted_model.completions()
    assert {"role": "user", "content": prompt} in sent.body["messages"]
    assert sent.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert sent.body["stream"] is True and "stream_options" not in sent.body
    [run] = (data / "aider").iterdir()
    [entry] = read_traffic(run)
    assert entry["complete"] and entry["request"]["body"] == sent.body
    report = (run / "report.md").read_text()
    assert "<<<<<<< SEARCH" in report and HELLO_TEXT in report and FINAL_ANSWER not in report
    assert "- Unrecognised: 0 kinds" in report and "- Tokens: none reported" in report
    assert TEST_KEY.encode() not in b"".join(path.read_bytes() for path in run.rglob("*") if path.is_file())
