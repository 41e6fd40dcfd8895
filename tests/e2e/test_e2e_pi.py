"""The real pi coding agent with its OpenAI provider, run by `invoke pipeline --target pi --upstream mock`: an agent
redirected only by a settings file (models.json), on a known API (Responses)."""

import json
import os

import pytest
from chat_checks import assert_key_never_reached
from conftest import pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing

from probe.read.sse import parse
from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pi")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives pi


@pytest.fixture(scope="module")
def pi_run(tmp_path_factory, pi_program):
    result, run = pipeline_against_mock("pi", pi_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def completed(entry: dict) -> dict:
    [event] = [event.data for event in parse(entry["response"]["body"]) if event.data["type"] == "response.completed"]
    return event["response"]


def test_pi_completes_a_tool_round_trip_against_the_mock(pi_run):
    result, run, entries = pi_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "0.73.1"
    assert manifest["agent"]["argv"][1:] == ["--print", PROMPT, "--model", "openai/gpt-5-mini"]
    env = manifest["agent"]["env"]
    assert env["PI_CODING_AGENT_DIR"] == env["HOME"] + "/.pi/agent" and env["PI_OFFLINE"] == "1"
    assert env["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 2 and all(entry["complete"] for entry in entries)


def test_the_prompt_then_the_bash_call_and_its_output(pi_run):
    """The base URL pi read from the models.json the target wrote: every request reached the proxy."""
    _, _, entries = pi_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/responses")
    ] * 2
    task, follow_up = (entry["request"]["body"] for entry in entries)
    assert task["model"] == "gpt-5-mini" and task["stream"] is True and task["store"] is False
    developer, user = task["input"]
    assert developer["role"] == "developer" and "operating inside pi" in developer["content"]
    assert user == {"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}
    assert [tool["name"] for tool in task["tools"]] == ["read", "bash", "edit", "write"]
    headers = {name.lower(): value for name, value in entries[0]["request"]["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    [call] = [item for item in completed(entries[0])["output"] if item["type"] == "function_call"]
    assert (call["name"], json.loads(call["arguments"])) == ("bash", {"command": "echo agent-probe tool call"})
    assert follow_up["input"][:2] == task["input"]  # the whole conversation again (store: false)
    sent_call, output = follow_up["input"][-2:]
    assert sent_call["type"] == "function_call" and sent_call["call_id"] == call["call_id"]
    assert output == {"type": "function_call_output", "call_id": call["call_id"], "output": "agent-probe tool call\n"}


def test_the_report_shows_the_call_its_output_the_answer_and_the_usage(pi_run):
    _, run, entries = pi_run
    report = (run / "report.md").read_text()
    usage = [completed(entry)["usage"] for entry in entries]
    turns = [
        {
            "input": item["input_tokens"],  # cached ones included
            "cache_read": item["input_tokens_details"]["cached_tokens"],
            "output": item["output_tokens"],
            "reasoning": item["output_tokens_details"]["reasoning_tokens"],
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Made with: renderer `probe.apis.openai_responses.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    assert "**Tool call** `bash`" in report and "output of bash: agent-probe tool call" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report


def test_its_settings_and_sessions_stay_in_the_agent_home_and_no_key_reaches_the_run(pi_run):
    _, run, _ = pi_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with models.json and pi's session, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(pi_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = pi_run
    assert_run_loses_nothing(run)
