"""The real Kilo CLI (an opencode fork) with its OpenAI provider, run by `invoke pipeline --target kilo --upstream
mock`: the Responses API, redirected by OPENAI_BASE_URL, with its own gateway's model list turned off."""

import json
import os
from pathlib import Path

import pytest
from conftest import pipeline_against_mock, read_traffic, tokens_line

from probe.read.sse import parse
from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("kilo")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives Kilo


@pytest.fixture(scope="module")
def kilo_run(tmp_path_factory, kilo_program):
    result, run = pipeline_against_mock("kilo", kilo_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def completed(entry: dict) -> dict:
    [event] = [event.data for event in parse(entry["response"]["body"]) if event.data["type"] == "response.completed"]
    return event["response"]


def test_kilo_completes_a_tool_round_trip_against_the_mock(kilo_run):
    result, run, entries = kilo_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "$ \x1b[0mecho agent-probe tool call\nagent-probe tool call" in result.stderr  # the tool really ran
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "7.7.7"
    assert manifest["agent"]["argv"][1:] == ["run", PROMPT, "--model", "openai/gpt-5-mini"]
    env = manifest["agent"]["env"]
    assert env["OPENAI_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert env["KILO_CONFIG_CONTENT"] == '{"disabled_providers": ["kilo"]}' and env["KILO_TELEMETRY_LEVEL"] == "off"
    assert manifest["exchanges"] == len(entries) == 2  # no title request: its small model is not in the mock's list


def test_the_task_then_the_tool_result(kilo_run):
    _, _, entries = kilo_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/responses")
    ] * 2
    task, follow_up = (entry["request"]["body"] for entry in entries)
    assert task["store"] is False and task["stream"] is True and task["model"] == "gpt-5-mini"
    assert task["input"][0]["role"] == "developer" and task["input"][0]["content"].startswith("You are Kilo")
    assert task["input"][-1]["role"] == "user" and PROMPT in json.dumps(task["input"][-1])
    assert {"bash", "read", "glob", "grep", "apply_patch", "kilo_local_recall"} <= {
        tool["name"] for tool in task["tools"]
    }
    headers = {name.lower(): value for name, value in entries[0]["request"]["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert (headers["x-title"], headers["http-referer"]) == ("Kilo Code", "https://kilocode.ai")
    assert headers["user-agent"].startswith("opencode/7.7.7 ")
    [call] = [item for item in completed(entries[0])["output"] if item["type"] == "function_call"]
    assert call["name"] == "bash" and json.loads(call["arguments"])["command"] == "echo agent-probe tool call"
    sent_call, output = follow_up["input"][-2:]
    assert sent_call["type"] == "function_call" and sent_call["call_id"] == call["call_id"]
    assert output == {"type": "function_call_output", "call_id": call["call_id"], "output": "agent-probe tool call\n"}


def test_the_report_has_the_tool_call_and_a_priced_cost(kilo_run):
    _, run, entries = kilo_run
    report = (run / "report.md").read_text()
    usage = [completed(entry)["usage"] for entry in entries]
    turns = [
        {
            "input": item["input_tokens"],
            "cache_read": item["input_tokens_details"]["cached_tokens"],
            "output": item["output_tokens"],
            "reasoning": item["output_tokens_details"]["reasoning_tokens"],
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Made with: renderer `probe.apis.openai_responses.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report
    assert "**Tool call** `bash`" in report and "output of bash: agent-probe tool call" in report
    # gpt-5-mini at $0.25 in, $0.025 cached in, $2 out per million tokens (mock_prices.yaml)
    cost = sum(
        (
            (item["input_tokens"] - item["input_tokens_details"]["cached_tokens"]) * 0.25
            + item["input_tokens_details"]["cached_tokens"] * 0.025
            + item["output_tokens"] * 2.0
        )
        / 1e6
        for item in usage
    )
    assert f"- Cost: ${cost:.4f} for 2 turns; `gpt-5-mini` ${cost:.4f}" in report


def test_nothing_outside_the_run_and_no_key_on_disk(kilo_run):
    _, run, _ = kilo_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with Kilo's state, is gone with the run
    for path in Path(run).rglob("*"):
        if path.is_file():
            assert MOCK_KEY.encode() not in path.read_bytes(), f"the key reached {path}"
