"""The real Mistral Vibe, from PyPI, run by `invoke pipeline --target mistral-vibe --upstream mock`: an agent
redirected only by its VIBE_PROVIDERS setting, speaking Mistral's own chat completions API through the mistralai
SDK, which validates the mock's answers."""

import json
import os
from decimal import Decimal

import pytest
import yaml
from chat_checks import assert_key_never_reached
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic, tokens_line

from probe.analyse.cost import dollars
from probe.read.sse import parse
from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("mistral-vibe")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "mock-" + "not-a-real-key"  # what the target's mock_env gives vibe
MODEL = "mistral-vibe-cli-latest"
TOOLS = ["search_tool_functions", "run_typescript", "wait", "read_file", "write_file", "edit", "bash", "skill", "todo",
         "unified_harness_scratchpad"]  # fmt: skip


@pytest.fixture(scope="module")
def vibe_run(tmp_path_factory, vibe_program):
    result, run = pipeline_against_mock("mistral-vibe", vibe_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def model_calls(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["request"]["path"] == "/v1/chat/completions"]


def chunks(entry: dict) -> list[dict]:
    return [event.data for event in parse(entry["response"]["body"]) if isinstance(event.data, dict)]


def test_vibe_completes_a_tool_round_trip_against_the_mock(vibe_run):
    result, run, entries = vibe_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "vibe 3.0.2"
    assert manifest["agent"]["argv"][1:] == ["--prompt", PROMPT, "--auto-approve", "--trust"]
    env = manifest["agent"]["env"]
    assert env["VIBE_HOME"] == env["HOME"] + "/.vibe" and env["VIBE_ENABLE_TELEMETRY"] == "false"
    assert env["MISTRAL_API_KEY"] == fingerprint(MOCK_KEY)
    # Its connectors' list goes to the provider's host too (the mock has none: 404, and vibe goes on without), and
    # against the mock so does its fetch of the managed settings (VIBE_VIBE_BASE_URL), which the mock says are none.
    calls = sorted((entry["request"]["method"], entry["request"]["path"].split("?")[0]) for entry in entries)
    assert calls == [
        ("GET", "/api/v1/code/managed-config"),
        ("GET", "/v1/connectors/bootstrap"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/chat/completions"),
    ]
    [managed] = [entry for entry in entries if entry["request"]["path"] == "/api/v1/code/managed-config"]
    assert managed["response"]["status"] == 200 and managed["response"]["body"] == {"state": "no_config", "toml": None}


def test_the_request_in_mistrals_words_then_the_bash_call_and_its_output(vibe_run):
    _, _, entries = vibe_run
    task, follow_up = (entry["request"]["body"] for entry in model_calls(entries))
    headers = {name.lower(): value for name, value in model_calls(entries)[0]["request"]["headers"]}
    assert headers["user-agent"] == "mistral-client-python/2.6.0"
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert task["model"] == MODEL and task["stream"] is True and "stream_options" not in task
    assert task["reasoning_effort"] == "high" and task["parallel_tool_calls"] is True
    assert task["metadata"]["client_name"] == "vibe_programmatic" and task["metadata"]["call_type"] == "main_call"
    assert [tool["function"]["name"] for tool in task["tools"]] == TOOLS
    system, user = task["messages"]
    assert system["role"] == "system" and user == {"role": "user", "content": PROMPT}
    # The mock's call came whole in the last chunk, with Mistral's 9-character id; vibe ran it and sent it back
    # with the thinking it was given, as content chunks.
    last = chunks(model_calls(entries)[0])[-1]
    [call] = last["choices"][0]["delta"]["tool_calls"]
    assert len(call["id"]) == 9 and call["function"]["name"] == "bash"
    assert follow_up["messages"][:2] == task["messages"]
    answer, result = follow_up["messages"][2:]
    assert [chunk["type"] for chunk in answer["content"]] == ["thinking", "text"]
    assert answer["tool_calls"][0]["id"] == call["id"]
    assert json.loads(answer["tool_calls"][0]["function"]["arguments"]) == {"command": "echo agent-probe tool call"}
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"] and result["name"] == "bash"
    assert json.loads(result["content"])["stdout"] == "agent-probe tool call\n"


def test_the_report_reads_every_field_and_prices_the_turns(vibe_run):
    _, run, entries = vibe_run
    report = (run / "report.md").read_text()
    usage = [chunks(entry)[-1]["usage"] for entry in model_calls(entries)]
    turns = [
        {"input": item["prompt_tokens"], "cache_read": item["prompt_tokens_details"]["cached_tokens"],
         "output": item["completion_tokens"], "reasoning": None}
        for item in usage
    ]  # fmt: skip
    assert tokens_line(turns) in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    assert "- Tools: 1 call of 1 tool, 0 failed" in report
    assert "**Tool call** `bash`" in report and "The user asks: list the files in this folder" in report
    # The cost, from the captured usage and the price file: cached input at the cache price, the rest at input's.
    price = yaml.safe_load((PROJECT_ROOT / "probe/analyse/mock_prices.yaml").read_text())["models"][MODEL]
    million = Decimal(1_000_000)
    cost = sum(
        (Decimal(turn["input"] - turn["cache_read"]) * Decimal(str(price["input"]))
         + Decimal(turn["cache_read"]) * Decimal(str(price["cache_read"]))
         + Decimal(turn["output"]) * Decimal(str(price["output"]))) / million
        for turn in turns
    )  # fmt: skip
    assert f"- Cost: {dollars(cost)} for 2 turns; `{MODEL}` {dollars(cost)}" in report


def test_its_settings_and_sessions_stay_in_the_agent_home_and_no_key_reaches_the_run(vibe_run):
    _, run, _ = vibe_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    assert_key_never_reached(run, MOCK_KEY)
