"""The real OpenHands CLI, run by `invoke pipeline --target openhands --upstream mock`: a PyPI agent in a Python 3.12
virtualenv, redirected by LLM_BASE_URL, on a known API (Chat Completions through LiteLLM, answers as JSON)."""

import json
import os

import pytest
from chat_checks import assert_key_never_reached
from conftest import pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("openhands")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives OpenHands
GPT_4_1 = {"input": 2, "cache_read": 0.5, "output": 8}  # probe/analyse/mock_prices.yaml, US dollars per million


@pytest.fixture(scope="module")
def openhands_run(tmp_path_factory, openhands_program):
    result, run = pipeline_against_mock("openhands", openhands_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_openhands_completes_a_tool_round_trip_against_the_mock(openhands_run):
    result, run, entries = openhands_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert f'Here is my answer to "{PROMPT}"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "OpenHands CLI 1.16.0"
    assert manifest["agent"]["argv"][1:] == ["--headless", "--override-with-envs", "-t", PROMPT]
    env = manifest["agent"]["env"]
    assert env["LLM_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["LLM_API_KEY"] == fingerprint(MOCK_KEY) and env["LLM_MODEL"] == "openai/gpt-4.1"
    assert env["OPENHANDS_PERSISTENCE_DIR"] == env["HOME"] + "/.openhands"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert manifest["exchanges"] == len(entries) == 2 and all(entry["complete"] for entry in entries)


def test_the_prompt_then_the_terminal_call_and_its_output(openhands_run):
    _, _, entries = openhands_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    task, follow_up = (entry["request"]["body"] for entry in entries)
    assert task["model"] == "gpt-4.1" and "stream" not in task  # LiteLLM's openai/ prefix taken off; not streamed
    system, user = task["messages"]
    assert system["role"] == "system" and system["content"][0]["text"].startswith("You are OpenHands agent")
    assert user["role"] == "user" and user["content"][0]["text"] == PROMPT
    tools = [tool["function"]["name"] for tool in task["tools"]]
    assert tools == ["terminal", "file_editor", "task_tracker", "task", "finish", "think"]
    headers = {name.lower(): value for name, value in entries[0]["request"]["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    [call] = entries[0]["response"]["body"]["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "terminal"
    assert json.loads(call["function"]["arguments"])["command"] == "echo agent-probe tool call"
    assert follow_up["messages"][:2] == task["messages"]
    assistant, tool = follow_up["messages"][2:]
    assert assistant["tool_calls"][0]["id"] == call["id"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == call["id"] and tool["name"] == "terminal"
    assert tool["content"][0]["text"].startswith("agent-probe tool call\n[The command completed with exit code 0.]")


def test_the_report_shows_the_call_the_answer_and_the_priced_usage(openhands_run):
    _, run, entries = openhands_run
    report = (run / "report.md").read_text()
    usage = [entry["response"]["body"]["usage"] for entry in entries]
    turns = [
        {
            "input": item["prompt_tokens"],  # cached ones included
            "cache_read": item["prompt_tokens_details"]["cached_tokens"],
            "output": item["completion_tokens"],
            "reasoning": item["completion_tokens_details"]["reasoning_tokens"],
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Made with: renderer `probe.apis.openai_chat.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    call = report.index("**Tool call** `terminal`")
    assert '"command": "echo agent-probe tool call"' in report[call : call + 400]
    assert "- Tools: 1 call of 1 tool, 0 failed" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report
    dollars = (
        sum(
            (turn["input"] - turn["cache_read"]) * GPT_4_1["input"]
            + turn["cache_read"] * GPT_4_1["cache_read"]
            + turn["output"] * GPT_4_1["output"]
            for turn in turns
        )
        / 1_000_000
    )
    assert f"- Cost: ${dollars:.4f} for 2 turns; `gpt-4.1` ${dollars:.4f}" in report


def test_its_state_stays_in_the_agent_home_and_no_key_reaches_the_run(openhands_run):
    _, run, _ = openhands_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with its conversations and skills cache, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(openhands_run):
    """Any value in the capture that appears in no output is a loss: the real agent's requests and the mock's
    answers, read as the pipeline read them."""
    _, run, _ = openhands_run
    assert_run_loses_nothing(run)
