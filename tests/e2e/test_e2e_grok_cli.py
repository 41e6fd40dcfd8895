"""The real Grok CLI (vibe-kit's `grok`), run by `invoke pipeline --target grok-cli --upstream mock`: OpenAI Chat
Completions through the openai SDK, whole answers in its prompt mode, with xAI's `search_parameters` in each
request, priced as grok-code-fast-1 from the mock's price file."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from chat_checks import assert_key_never_reached
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing
from price_oracle import price_file

from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("grok-cli")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives grok
TOOLS = {"view_file", "create_file", "str_replace_editor", "bash", "search", "create_todo_list", "update_todo_list"}


@pytest.fixture(scope="module")
def grok_run(tmp_path_factory, grok_program):
    result, run = pipeline_against_mock("grok-cli", grok_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def test_grok_completes_a_tool_round_trip_against_the_mock(grok_run):
    result, run, entries = grok_run
    assert result.returncode == 0, result.stderr[-2000:]
    # Its prompt mode prints the conversation as one JSON message a line: the call, its output, the mock's answer.
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"role"')]
    assert [message["role"] for message in printed] == ["user", "assistant", "tool", "assistant"]
    assert printed[2]["content"] == "agent-probe tool call"
    assert 'return "Hello, world!"' in printed[3]["content"]
    assert not [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    # Its package is 0.0.34; `grok --version` says 1.0.1, a constant of its code.
    assert manifest["agent"]["version"] == "0.0.34 (it says 1.0.1)"
    assert manifest["agent"]["argv"][1:] == ["--prompt", PROMPT]
    env = manifest["agent"]["env"]
    assert env["GROK_BASE_URL"] == manifest["proxies"][0]["url"] + "/v1"
    assert env["GROK_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 2
    assert all(entry["complete"] for entry in entries)


def test_the_prompt_then_the_bash_call_and_its_output(grok_run):
    _, _, entries = grok_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    first = entries[0]["request"]
    body = first["body"]
    assert body["model"] == "grok-code-fast-1" and "stream" not in body  # whole answers in its prompt mode
    # xAI's own field: live search off, as the prompt names nothing recent.
    assert body["search_parameters"] == {"mode": "off"}
    assert (body["temperature"], body["max_tokens"], body["tool_choice"]) == (0.7, 1536, "auto")
    system, user = body["messages"]
    assert system["role"] == "system" and system["content"].startswith("You are Grok CLI")
    assert user == {"role": "user", "content": PROMPT}
    assert {tool["function"]["name"] for tool in body["tools"]} == TOOLS
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    [call] = entries[0]["response"]["body"]["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "bash"
    assert json.loads(call["function"]["arguments"]) == {"command": "echo agent-probe tool call"}
    assistant, tool = entries[1]["request"]["body"]["messages"][-2:]
    assert assistant["tool_calls"] == [call]
    assert tool == {"role": "tool", "tool_call_id": call["id"], "content": "agent-probe tool call"}


def test_the_report_shows_the_call_its_output_and_the_cost_of_the_usage_sent(grok_run):
    _, run, entries = grok_run
    report = (run / "report.md").read_text()
    usage = [entry["response"]["body"]["usage"] for entry in entries]
    turns = [
        {
            "input": item["prompt_tokens"],
            "cache_read": item["prompt_tokens_details"]["cached_tokens"],
            "output": item["completion_tokens"],
            "reasoning": item["completion_tokens_details"]["reasoning_tokens"],
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    call = report.index("**Tool call** `bash`")
    assert '"command": "echo agent-probe tool call"' in report[call : call + 400]
    assert "output of bash: agent-probe tool call" in report
    assert "finish_reason `tool_calls`" in report and "finish_reason `stop`" in report
    # Its cost, worked out here from the usage the mock sent and the mock's price of grok-code-fast-1.
    price = price_file(PROJECT_ROOT / "probe/analyse/mock_prices.yaml")["grok-code-fast-1"]
    cost = sum(
        (turn["input"] - turn["cache_read"]) * price["input"]
        + turn["cache_read"] * price["cache_read"]
        + turn["output"] * price["output"]
        for turn in turns
    ) / Decimal(10**6)
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    [whole] = [record for record in records if record["record"] == "run"]
    assert Decimal(str(whole["cost"]["usd"])) == cost and whole["cost"]["priced_turns"] == 2
    # Priced by the mock's own file, whatever genai-prices is installed.
    assert [record["cost"]["source"] for record in records if record["record"] == "turn"] == ["mock_prices.yaml"] * 2
    assert f"- Cost: ${cost:.4f} for 2 turns; `grok-code-fast-1` ${cost:.4f}; prices `mock_prices.yaml" in report


def test_its_state_stays_in_the_agent_home_and_no_key_reaches_the_run(grok_run):
    _, run, _ = grok_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)  # the home, with its ~/.grok/user-settings.json, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_fresh_run_captured_reaches_an_output(grok_run):
    _, run, _ = grok_run
    assert_run_loses_nothing(run)


def test_a_replay_runs_the_recorded_version_and_matches_every_request(grok_run, grok_program, tmp_path):
    """The run names 0.0.34, its package's version, not the 1.0.1 `grok --version` says (which npm does not have):
    the replay runs that version, and grok sends the same two requests again."""
    _, run, _ = grok_run
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"))
    env["PATH"] = f"{os.path.dirname(grok_program)}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.replay.run", "--run", str(run), "--trust", "--timeout", "120"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "replay: every request matched (2 requests)" in result.stderr.splitlines()
    [replayed] = (tmp_path / "data" / "grok-cli").iterdir()
    manifest = json.loads((replayed / "manifest.json").read_text())
    agent = manifest["agent"]
    assert (agent["requested_version"], agent["npm_package"]) == ("0.0.34", "@vibe-kit/grok-cli")
