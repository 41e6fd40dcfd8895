"""The real Kimi CLI with its own Kimi provider, run by `invoke pipeline --target kimi-cli --upstream mock`: a
Python agent in a virtualenv of a newer Python than agent-probe's, redirected by KIMI_BASE_URL, speaking Moonshot's
Chat Completions."""

import json
import os
from decimal import Decimal

import pytest
import yaml
from chat_checks import assert_key_never_reached, assert_report_shows_the_mocks_tool_call_and_usage, chunks
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic
from losses import assert_run_loses_nothing

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("kimi-cli")]
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives Kimi CLI
MODEL = "kimi-k2.7-code"


@pytest.fixture(scope="module")
def kimi_run(tmp_path_factory, kimi_program):
    result, run = pipeline_against_mock("kimi-cli", kimi_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_kimi_completes_a_tool_round_trip_against_the_mock(kimi_run):
    result, run, entries = kimi_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "agent-probe tool call" in result.stdout  # the Shell tool's output, as print mode shows it
    assert f'Here is my answer to "{PROMPT}"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "kimi, version 1.51.0"
    assert manifest["agent"]["argv"][1:] == ["--print", "--prompt", PROMPT]
    env = manifest["agent"]["env"]
    assert env["KIMI_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["KIMI_API_KEY"] == fingerprint(MOCK_KEY)
    assert env["KIMI_MODEL_NAME"] == MODEL and env["KIMI_SHARE_DIR"] == env["HOME"] + "/.kimi"
    assert env["KIMI_DISABLE_TELEMETRY"] == "1" and env["KIMI_CLI_NO_AUTO_UPDATE"] == "1"
    assert manifest["exchanges"] == len(entries) == 2
    assert all(entry["complete"] for entry in entries)
    assert all(entry["response"]["body"].rstrip().endswith("data: [DONE]") for entry in entries)


def test_the_prompt_then_the_shell_call_and_its_output(kimi_run):
    _, _, entries = kimi_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == MODEL and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    # Moonshot's own fields: thinking switched off (the model has no thinking capability by default), the session
    # id as its prompt-cache key, and a completion budget of the window left.
    assert body["thinking"] == {"type": "disabled"}
    assert body["prompt_cache_key"] and 0 < body["max_completion_tokens"] < 262144
    assert body["messages"][0]["role"] == "system" and body["messages"][-1] == {"role": "user", "content": PROMPT}
    assert {"Shell", "ReadFile", "Glob", "Grep", "WriteFile", "StrReplaceFile"} <= {
        tool["function"]["name"] for tool in body["tools"]
    }
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert headers["user-agent"] == "KimiCLI/1.51.0" and headers["x-msh-platform"] == "kimi_cli"
    deltas = [call for chunk in chunks(entries[0]) for choice in chunk["choices"]
              for call in choice["delta"].get("tool_calls", [])]  # fmt: skip
    assert deltas[0]["function"]["name"] == "Shell"
    arguments = json.loads("".join(delta["function"].get("arguments", "") for delta in deltas))
    assert arguments["command"] == "echo agent-probe tool call"
    follow_up = entries[1]["request"]["body"]
    assert follow_up["prompt_cache_key"] == body["prompt_cache_key"]
    assistant, tool = follow_up["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == deltas[0]["id"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == arguments
    assert tool["role"] == "tool" and tool["tool_call_id"] == deltas[0]["id"]
    assert "agent-probe tool call" in json.dumps(tool["content"])


def test_the_report_shows_the_call_the_answer_the_usage_and_the_cost(kimi_run):
    _, run, entries = kimi_run
    report = (run / "report.md").read_text()
    assert_report_shows_the_mocks_tool_call_and_usage(report, entries, "Shell")
    # The cost, worked out here from the usage the capture holds and the mock's prices of the model.
    price = yaml.safe_load((PROJECT_ROOT / "probe/analyse/mock_prices.yaml").read_text())["models"][MODEL]
    cost = Decimal(0)
    for usage in [chunk["usage"] for entry in entries for chunk in chunks(entry) if chunk.get("usage")]:
        cached = usage["prompt_tokens_details"]["cached_tokens"]
        cost += (
            (usage["prompt_tokens"] - cached) * Decimal(str(price["input"]))
            + cached * Decimal(str(price["cache_read"]))
            + usage["completion_tokens"] * Decimal(str(price["output"]))
        ) / 1_000_000
    assert f"- Cost: ${cost.quantize(Decimal('0.0001'))} for 2 turns; `{MODEL}`" in report


def test_its_state_stays_in_the_agent_home_and_no_key_reaches_the_run(kimi_run):
    _, run, _ = kimi_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with its sessions, logs and device id, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(kimi_run):
    _, run, _ = kimi_run
    assert_run_loses_nothing(run)
