"""The real GitHub Copilot CLI with its own-key provider, run by `invoke pipeline --target copilot --upstream mock`:
a native agent on a known API (Chat Completions), with no GitHub login."""

import json
import os

import pytest
from account_checks import assert_account_kept, assert_model_calls_joined, telemetry
from chat_checks import assert_key_never_reached, assert_report_shows_the_mocks_tool_call_and_usage, chunks
from conftest import pipeline_against_mock, read_traffic
from losses import assert_run_loses_nothing

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("copilot")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives Copilot


@pytest.fixture(scope="module")
def copilot_run(tmp_path_factory, copilot_program):
    result, run = pipeline_against_mock("copilot", copilot_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_copilot_completes_a_tool_round_trip_against_the_mock(copilot_run):
    result, run, entries = copilot_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "echo agent-probe tool call" in result.stdout  # the tool it ran, as it shows it
    assert 'return "Hello, world!"' in result.stdout
    assert f'Here is my answer to "{PROMPT}"' in result.stdout  # the prompt, not the date Copilot puts before it
    # It says its version as a sentence ("GitHub Copilot CLI 1.0.102."): read as the pinned one, no warning.
    assert not [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "GitHub Copilot CLI 1.0.102."
    assert manifest["agent"]["argv"][1:] == ["--prompt", PROMPT, "--allow-all-tools"]
    env = manifest["agent"]["env"]
    assert env["COPILOT_PROVIDER_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["COPILOT_PROVIDER_API_KEY"] == fingerprint(MOCK_KEY)
    assert env["COPILOT_OFFLINE"] == "true" and env["COPILOT_AUTO_UPDATE"] == "false"
    assert env["COPILOT_HOME"] == env["HOME"] + "/.copilot" and env["COPILOT_MODEL"] == "gpt-4.1"
    assert manifest["exchanges"] == len(entries) == 2
    assert all(entry["complete"] for entry in entries)
    assert all(entry["response"]["body"].rstrip().endswith("data: [DONE]") for entry in entries)


def test_the_prompt_then_the_bash_call_and_its_output(copilot_run):
    _, _, entries = copilot_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == "gpt-4.1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][0]["content"].startswith("You are the GitHub Copilot CLI")
    # The prompt follows the date it adds to the user's message.
    [user] = [message for message in body["messages"] if message["role"] == "user"]
    assert user["content"].startswith("<current_datetime>") and user["content"].endswith(f"\n\n{PROMPT}")
    assert {"bash", "view", "create", "edit", "grep", "glob"} <= {tool["function"]["name"] for tool in body["tools"]}
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert headers["x-initiator"] == "user"
    deltas = [call for chunk in chunks(entries[0]) for choice in chunk["choices"]
              for call in choice["delta"].get("tool_calls", [])]  # fmt: skip
    assert deltas[0]["function"]["name"] == "bash"
    arguments = json.loads("".join(delta["function"].get("arguments", "") for delta in deltas))
    assert arguments["command"] == "echo agent-probe tool call"
    follow_up = entries[1]["request"]
    assert {name.lower(): value for name, value in follow_up["headers"]}["x-initiator"] == "agent"
    assistant, tool = follow_up["body"]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == deltas[0]["id"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == arguments
    assert tool["role"] == "tool" and tool["tool_call_id"] == deltas[0]["id"]
    assert tool["content"].startswith("agent-probe tool call\n")


def test_the_report_shows_the_call_its_output_the_answer_and_the_usage(copilot_run):
    _, run, entries = copilot_run
    report = (run / "report.md").read_text()
    assert_report_shows_the_mocks_tool_call_and_usage(report, entries, "bash")
    assert "output of bash: agent-probe tool call" in report


def test_its_state_stays_in_the_agent_home_and_no_key_reaches_the_run(copilot_run):
    _, run, _ = copilot_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with Copilot's sessions and logs, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(copilot_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = copilot_run
    assert_run_loses_nothing(run)


def test_its_own_account_is_joined_to_each_exchange_by_the_response_id(copilot_run):
    """Copilot CLI 1.0.102's OpenTelemetry, on against the mock (COPILOT_OTEL_ENABLED, OTLP/HTTP JSON to the run's
    receiver on 127.0.0.1: its help says a plain http:// endpoint disables the export, yet it arrives): GenAI spans
    and metrics of service github-copilot; each `chat` span carries the wire's response id and its usage, the
    `execute_tool` span the call id the mock asked for."""
    _, run, entries = copilot_run
    assert_account_kept(run, MOCK_KEY)
    records = telemetry(run)
    assert {record["service"] for record in records} == {"github-copilot"}
    assert {record["signal"] for record in records} == {"traces", "metrics"}
    assert sorted(record["name"] for record in records if record["signal"] == "traces") == [
        "chat gpt-4.1", "chat gpt-4.1", "execute_tool bash bash", "invoke_agent"]  # fmt: skip
    counts = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
    text = assert_model_calls_joined(run, entries, "chat gpt-4.1", counts, "response id")
    assert "| tool result | `bash` |  | #1 | call id |" in text
