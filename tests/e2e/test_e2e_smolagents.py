"""The real smolagents command (from PyPI) with its OpenAI model and its tool-calling agent, run by `invoke pipeline
--target smolagents --upstream mock`: redirected by its own --api-base, on a known API (Chat Completions), an agent
that writes its calls back as text and ends only through its answer tool."""

import json
import os

import pytest
from chat_checks import assert_key_never_reached
from conftest import pipeline_against_mock, read_traffic
from losses import assert_run_loses_nothing

from probe.capture import agents
from probe.read.sse import parse
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("smolagents")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives it
# gpt-4.1 in probe/analyse/mock_prices.yaml, US dollars per million tokens.
PRICES = {"input": 2.0, "cache_read": 0.5, "output": 8.0}


@pytest.fixture(scope="module")
def smolagents_run(tmp_path_factory):
    program = str(agents.ensure_installed(load_target("smolagents")))
    result, run = pipeline_against_mock("smolagents", program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def streamed(entry: dict) -> list[dict]:
    return [event.data for event in parse(entry["response"]["body"]) if isinstance(event.data, dict)]


def test_it_runs_python_then_answers_through_final_answer(smolagents_run):
    result, run, entries = smolagents_run
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    # smolagent has no --version: an agent from .agents/ is named by the version installed there.
    chosen = agents.choose(load_target("smolagents"))
    assert (chosen.version, chosen.package, chosen.registry) == (
        "smolagents 1.26.0",
        "smolagents",
        "pypi",
    )
    assert manifest["agent"]["env"]["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    task, follow_up = (entry["request"]["body"] for entry in entries)
    assert task["model"] == "gpt-4.1" and task["tool_choice"] == "required"
    assert task["stream_options"] == {"include_usage": True}
    assert [tool["function"]["name"] for tool in task["tools"]] == ["python_interpreter", "final_answer"]
    assert task["messages"][-1]["content"] == [{"type": "text", "text": f"New task:\n{PROMPT}"}]
    # Its call and the interpreter's output come back as text: the assistant's, then the user's observation.
    said, observed = follow_up["messages"][-2:]
    assert said["role"] == "assistant" and "'name': 'python_interpreter'" in said["content"][0]["text"]
    assert observed["role"] == "user" and observed["content"][0]["text"].startswith("Observation:")
    assert "agent-probe tool call" in observed["content"][0]["text"]
    calls = [
        call["function"]
        for entry in entries
        for event in streamed(entry)
        for choice in event.get("choices", [])
        for call in choice["delta"].get("tool_calls") or []
        if call.get("function", {}).get("name")
    ]
    assert [call["name"] for call in calls] == ["python_interpreter", "final_answer"]


def test_the_report_has_the_tool_calls_nothing_unrecognised_and_the_cost(smolagents_run):
    _, run, entries = smolagents_run
    report = (run / "report.md").read_text()
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    assert "**Tool call** `python_interpreter`" in report and "**Tool call** `final_answer`" in report
    usage = [next(event["usage"] for event in streamed(entry) if event.get("usage")) for entry in entries]
    cost = (
        sum(
            (turn["prompt_tokens"] - turn["prompt_tokens_details"]["cached_tokens"]) * PRICES["input"]
            + turn["prompt_tokens_details"]["cached_tokens"] * PRICES["cache_read"]
            + turn["completion_tokens"] * PRICES["output"]
            for turn in usage
        )
        / 1e6
    )
    assert f"- Cost: ${cost:.4f} for 2 turns; `gpt-4.1` ${cost:.4f}" in report


def test_its_home_is_gone_and_no_key_reaches_the_run(smolagents_run):
    _, run, _ = smolagents_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_run_captured_reaches_an_output(smolagents_run):
    _, run, _ = smolagents_run
    assert_run_loses_nothing(run)
