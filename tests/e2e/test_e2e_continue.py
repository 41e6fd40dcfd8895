"""The real Continue CLI (`cn`) with a local config's OpenAI model, run by `invoke pipeline --target continue
--upstream mock`: an agent whose base URL and key come from a settings file the target writes, filled from the
environment ({env.OPENAI_API_KEY}, the mock's stand-in key)."""

import json
import os

import pytest
from account_checks import assert_account_kept, section, telemetry, wire_usage
from chat_checks import assert_key_never_reached, assert_report_shows_the_mocks_tool_call_and_usage, chunks
from conftest import pipeline_against_mock, read_traffic
from losses import assert_run_loses_nothing

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("continue")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives cn, through its config file


@pytest.fixture(scope="module")
def continue_run(tmp_path_factory, continue_program):
    result, run = pipeline_against_mock("continue", continue_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_continue_completes_a_tool_round_trip_against_the_mock(continue_run):
    result, run, entries = continue_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "1.5.47"
    env = manifest["agent"]["env"]
    config = f"{env['HOME']}/.continue/agent-probe.yaml"
    assert manifest["agent"]["argv"][1:] == ["--print", PROMPT, "--config", config]
    assert env["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    # Its quiet_env turns its metrics off; the run's own --agent-telemetry (on against the mock) turns them on.
    assert env["CONTINUE_METRICS_ENABLED"] == "1" and env["OTEL_METRICS_EXPORTER"] == "otlp"
    assert manifest["exchanges"] == len(entries) == 2
    assert all(entry["complete"] for entry in entries)
    assert all(entry["response"]["body"].rstrip().endswith("data: [DONE]") for entry in entries)


def test_the_config_sends_the_prompt_and_the_key_then_the_bash_result(continue_run):
    """The apiBase and apiKey cn read from the config the target wrote: each request reached the proxy with the
    stand-in key filled from the environment."""
    _, _, entries = continue_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == "gpt-4.1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    system, user = body["messages"]
    assert system["role"] == "system" and system["content"].startswith("You are an agent in the Continue CLI")
    assert user == {"role": "user", "content": PROMPT}
    names = {tool["function"]["name"] for tool in body["tools"]}
    assert {"Bash", "Read", "List"} <= names and not names & {"Edit", "Write"}  # print mode offers no writing tool
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    deltas = [call for chunk in chunks(entries[0]) for choice in chunk["choices"]
              for call in choice["delta"].get("tool_calls", [])]  # fmt: skip
    assert deltas[0]["function"]["name"] == "Bash"
    arguments = json.loads("".join(delta["function"].get("arguments", "") for delta in deltas))
    assert arguments == {"command": "echo agent-probe tool call"}
    assistant, tool = entries[1]["request"]["body"]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == deltas[0]["id"]
    assert tool == {"role": "tool", "tool_call_id": deltas[0]["id"], "content": "agent-probe tool call\n"}


def test_the_report_shows_the_call_its_output_the_answer_and_the_usage(continue_run):
    _, run, entries = continue_run
    report = (run / "report.md").read_text()
    assert_report_shows_the_mocks_tool_call_and_usage(report, entries, "Bash")
    assert "output of Bash: agent-probe tool call" in report


def test_the_config_with_its_key_stays_in_the_agent_home_and_no_key_reaches_the_run(continue_run):
    _, run, _ = continue_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the config holding the key, and cn's sessions, are gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(continue_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = continue_run
    assert_run_loses_nothing(run)


def test_its_own_account_holds_metrics_only_and_the_report_says_so(continue_run):
    """Continue CLI 1.5.47's OpenTelemetry, on against the mock (CONTINUE_METRICS_ENABLED=1 over the target's quiet
    0): metrics only, service continue-cli, whose token totals are the wire's; no record of each request, which the
    report says in one line."""
    _, run, entries = continue_run
    assert_account_kept(run, MOCK_KEY)
    records = telemetry(run)
    assert {(record["signal"], record["service"]) for record in records} == {("metrics", "continue-cli")}
    last = max(record["export"] for record in records)
    [tokens] = [
        record for record in records if record["name"] == "continue_cli_token_usage" and record["export"] == last
    ]
    totals = {point["attributes"]["type"]: point["value"] for point in tokens["points"]}
    usage = [wire_usage(entry) for entry in entries]
    assert totals == {"input": sum(used[0] for used in usage), "output": sum(used[1] for used in usage)}
    text = section(run)
    metrics = len(records)
    assert (
        f"0 of 2 model exchanges matched to the agent's {metrics} records (0 read as events, {metrics} metric" in text
    )
    # Its totals are cumulative: the last export's, not the three exports' sum, stand beside the wire's.
    wire_input = sum(used[0] for used in usage)
    [row] = [line for line in text.splitlines() if line.startswith("| (any) | `gpt-4.1` |")]
    assert f"| {wire_input:,} / {wire_input:,} |" in row and f"| {totals['output']:,} / {totals['output']:,} |" in row
    assert [line for line in text.splitlines() if line.startswith("- ")] == [
        f"- the account holds only metrics ({metrics} of continue-cli): totals of the run, no record of each request, "
        "so none of its exchanges can be matched"]  # fmt: skip
