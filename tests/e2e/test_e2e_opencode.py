"""The real opencode CLI with its OpenAI provider, run by `invoke pipeline --target opencode --upstream mock`: a new
agent on a known API (Responses), with no Python of its own."""

import json
import os
import tempfile
from pathlib import Path

import pytest
from account_checks import assert_account_kept, assert_model_calls_joined, telemetry
from conftest import pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing

from probe.read.sse import parse
from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("opencode")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives opencode


@pytest.fixture(scope="module")
def opencode_run(tmp_path_factory, opencode_program):
    scratch = Path(tempfile.gettempdir()) / "opencode"  # where opencode would make its scratch folder unbidden
    existed = scratch.exists()
    result, run = pipeline_against_mock("opencode", opencode_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run), existed or not scratch.exists()


def by_role(entries: list[dict]) -> tuple[dict, dict, dict]:
    """The title request (no tools), the task and the follow-up with the tool's result. opencode sends the title
    request beside the task: which of the two finishes first, and so comes first in the capture, is the machine's."""
    [title] = [entry for entry in entries if "tools" not in entry["request"]["body"]]
    task, follow_up = [entry for entry in entries if "tools" in entry["request"]["body"]]
    return title, task, follow_up


def completed(entry: dict) -> dict:
    [event] = [event.data for event in parse(entry["response"]["body"]) if event.data["type"] == "response.completed"]
    return event["response"]


def test_opencode_completes_a_tool_round_trip_against_the_mock(opencode_run):
    result, run, entries, _ = opencode_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "$ \x1b[0mecho agent-probe tool call\nagent-probe tool call" in result.stderr  # the tool really ran
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "1.18.33"
    assert manifest["agent"]["argv"][1:] == ["run", PROMPT, "--model", "openai/gpt-5-mini"]
    env = manifest["agent"]["env"]
    assert env["OPENAI_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["OPENAI_API_KEY"] == fingerprint(MOCK_KEY) and env["OPENCODE_DISABLE_MODELS_FETCH"] == "1"
    assert manifest["exchanges"] == len(entries) == 3


def test_the_title_request_then_the_task_then_the_tool_result(opencode_run):
    _, _, entries, _ = opencode_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/responses")
    ] * 3
    title, task, follow_up = (entry["request"]["body"] for entry in by_role(entries))
    assert title["input"][0]["content"].startswith("You are a title generator")
    assert task["store"] is False and task["stream"] is True and task["model"] == "gpt-5-mini"
    assert task["input"][0]["role"] == "developer" and task["input"][0]["content"].startswith("You are OpenCode")
    assert {"bash", "read", "glob", "grep", "apply_patch"} <= {tool["name"] for tool in task["tools"]}
    headers = {name.lower(): value for name, value in by_role(entries)[1]["request"]["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}") and headers["originator"] == "opencode"
    [call] = [item for item in completed(by_role(entries)[1])["output"] if item["type"] == "function_call"]
    assert (call["name"], json.loads(call["arguments"])) == ("bash", {"command": "echo agent-probe tool call"})
    sent_call, output = follow_up["input"][-2:]
    assert sent_call["type"] == "function_call" and sent_call["call_id"] == call["call_id"]
    assert output == {"type": "function_call_output", "call_id": call["call_id"], "output": "agent-probe tool call\n"}


def test_the_report_reuses_the_responses_renderer(opencode_run):
    _, run, entries, _ = opencode_run
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
    assert "- Unrecognised: 0 kinds" in report
    assert "**Tool call** `bash`" in report and "output of bash: agent-probe tool call" in report
    task_number = entries.index(by_role(entries)[1]) + 1  # the turn the follow-up carries its items over from
    assert f"**Input**: + 2 new items; 2 carried over from #{task_number}" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report


def test_nothing_outside_the_run_and_the_agent_home_and_no_key_on_disk(opencode_run):
    _, run, entries, scratch_untouched = opencode_run
    assert scratch_untouched  # opencode's scratch folder went into the private home ($TMPDIR), not /tmp/opencode
    bash = next(tool for tool in by_role(entries)[1]["request"]["body"]["tools"] if tool["name"] == "bash")
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert f"Use `{home}/tmp/opencode` for temporary work" in bash["description"]
    assert not os.path.exists(home)  # the home, with opencode's state, is gone with the run
    for path in run.rglob("*"):
        if path.is_file():
            assert MOCK_KEY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_every_text_the_fresh_run_captured_reaches_an_output(opencode_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _, _ = opencode_run
    assert_run_loses_nothing(run)


def test_its_own_account_is_joined_to_each_exchange_by_the_response_id(opencode_run):
    """opencode 1.18.33's OpenTelemetry, on against the mock with the AI SDK's spans (experimental.openTelemetry):
    each request's `ai.streamText.doStream` span carries the wire's response id and its usage (the title request's
    too); `ai.toolCall` names the call. opencode exits as soon as its answer is in, without a last export: exported
    every 50 ms, the last request's span usually lands, but on a busy machine it can be lost, and the report then
    names that exchange as one with no record."""
    _, run, entries, _ = opencode_run
    assert_account_kept(run, MOCK_KEY)
    records = telemetry(run)
    assert {record["service"] for record in records} == {"opencode"}
    assert {record["signal"] for record in records} == {"logs", "traces"}
    counts = ("ai.usage.inputTokens", "ai.usage.outputTokens")
    text = assert_model_calls_joined(run, entries, "ai.streamText.doStream", counts, "response id", True)
    [tool] = [record["attributes"] for record in records if record["name"] == "ai.toolCall"]
    # (the exchange whose answer asked for it: opencode's title and first requests start together, in either order)
    [asking] = [number for number, entry in enumerate(entries, 1) if "function_call" in str(entry.get("response"))]
    assert tool["ai.toolCall.name"] == "bash" and f"| tool result | `bash` |  | #{asking} | call id |" in text
