"""The real Qwen Code CLI, run by `invoke pipeline --target qwen-code --upstream mock`: a new API, Chat Completions,
with its reader, renderer and mock."""

import json
import os

import pytest
from account_checks import assert_account_kept, assert_model_calls_joined, telemetry
from chat_checks import assert_key_never_reached, assert_report_shows_the_mocks_tool_call_and_usage, chunks
from conftest import pipeline_against_mock, read_traffic
from losses import assert_run_loses_nothing
from transcript_checks import assert_transcript_kept

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("qwen-code")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives Qwen Code


@pytest.fixture(scope="module")
def qwen_run(tmp_path_factory, qwen_program):
    result, run = pipeline_against_mock("qwen-code", qwen_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_qwen_completes_a_tool_round_trip_against_the_mock(qwen_run):
    result, run, entries = qwen_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent"]["version"] == "0.24.4"
    assert manifest["agent"]["argv"][1:] == ["--prompt", PROMPT, "--yolo"]
    assert manifest["agent"]["env"]["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 2
    assert all(entry["complete"] for entry in entries)  # each stream ended with data: [DONE]
    assert all(entry["response"]["body"].rstrip().endswith("data: [DONE]") for entry in entries)


def test_the_request_then_the_tool_result_as_an_array_of_parts(qwen_run):
    _, _, entries = qwen_run
    assert [entry["request"]["path"] for entry in entries] == ["/v1/chat/completions"] * 2
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == "gpt-4.1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0]["role"] == "system" and len(body["messages"][0]["content"]) > 10_000
    assert PROMPT in [part["text"] for part in body["messages"][1]["content"]]
    assert "run_shell_command" in {tool["function"]["name"] for tool in body["tools"]}
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    deltas = [call for chunk in chunks(entries[0]) for choice in chunk["choices"]
              for call in choice["delta"].get("tool_calls", [])]  # fmt: skip
    assert len(deltas) > 2  # the arguments came in pieces
    arguments = "".join(delta["function"].get("arguments", "") for delta in deltas)
    assert json.loads(arguments)["command"] == "echo agent-probe tool call"
    assistant, tool = entries[1]["request"]["body"]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == deltas[0]["id"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == deltas[0]["id"]
    assert isinstance(tool["content"], list) and "agent-probe tool call" in tool["content"][0]["text"]


def test_the_report_assembles_the_call_and_counts_the_tokens(qwen_run):
    _, run, entries = qwen_run
    report = (run / "report.md").read_text()
    assert_report_shows_the_mocks_tool_call_and_usage(report, entries, "run_shell_command")
    assert "**Messages**: + 1 new message; 3 carried over from #1" in report
    assert "output of run_shell_command: Command: echo agent-probe tool call" in report


def test_settings_stay_in_the_agent_home_and_no_key_reaches_the_run(qwen_run):
    _, run, _ = qwen_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(qwen_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = qwen_run
    assert_run_loses_nothing(run)


def test_its_chat_file_is_kept_as_the_transcript(qwen_run):
    """Qwen Code writes its chat file in the private home, as JSON lines: the run keeps it before the home goes."""
    _, run, _ = qwen_run
    assert_transcript_kept(run, "qwen-code", PROMPT, "Hello, world!")


def test_its_own_account_is_joined_to_each_exchange_by_the_response_id(qwen_run):
    """Qwen Code 0.24.4's telemetry, on against the mock (QWEN_TELEMETRY_*): logs, spans and metrics of service
    qwen-code; each api_response carries the wire's response id and its usage, each api_request is matched by
    time; the typed prompt's id ties it to both requests, and the tool's record to the call the mock asked for."""
    _, run, entries = qwen_run
    assert_account_kept(run, MOCK_KEY)
    records = telemetry(run)
    assert {record["service"] for record in records} == {"qwen-code"}
    assert {record["signal"] for record in records} == {"logs", "traces", "metrics"}
    counts = ("input_token_count", "output_token_count")
    text = assert_model_calls_joined(run, entries, "qwen-code.api_response", counts, "response id")
    assert "| `qwen-code.api_request` | 2 of 2 matched by time ×2 |" in text
    [prompt] = [record["attributes"] for record in records if record["name"] == "qwen-code.user_prompt"]
    assert prompt["prompt"] == PROMPT and f"`{prompt['prompt_id']}`" in text and f"| {PROMPT} | #1, #2 |" in text
    assert "| tool result | `run_shell_command` | auto_accept | #1 | call id |" in text
