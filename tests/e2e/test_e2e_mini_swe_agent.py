"""The real mini-SWE-agent, from PyPI, run by `invoke pipeline --target mini-swe-agent --upstream mock`: Chat
Completions through LiteLLM, not streamed, with one `bash` tool it must call on every turn. It ends only when a
command prints COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT, which the mock has it run after the first call's result (the
target's mock_finish_command). Its own UI is typed into in tmux as well."""

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from chat_checks import assert_key_never_reached
from conftest import PROJECT_ROOT, pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing
from price_oracle import price_file
from terminal_session import TerminalSession, pipeline_argv, session_environment

from probe.capture import agents
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("mini-swe-agent")]
PROMPT = "list the files in this folder, then say done"
MOCK_KEY = "sk-" + "mock-not-a-real-key"  # what the target's mock_env gives mini
FINISH = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Execute a bash command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The bash command to execute"}},
            "required": ["command"],
        },
    },
}
MOCK_PRICES = PROJECT_ROOT / "probe/analyse/mock_prices.yaml"


@pytest.fixture(scope="module")
def mini_program():
    """The pinned mini-SWE-agent in its own virtualenv in .agents/, installed from PyPI if it is missing."""
    return str(agents.ensure_installed(load_target("mini-swe-agent")))


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory, mini_program):
    result, run = pipeline_against_mock("mini-swe-agent", mini_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def answer(entry: dict) -> dict:
    [choice] = entry["response"]["body"]["choices"]
    return choice


def test_mini_runs_the_mocks_call_then_submits_and_exits(mini_run):
    result, run, entries = mini_run
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    # `mini` has no --version: the run names the version .agents/ holds.
    assert manifest["agent"]["version"] == "mini-swe-agent 2.4.6"
    assert manifest["agent"]["argv"][1:] == ["--task", PROMPT, "--yolo", "--exit-immediately"]
    env = manifest["agent"]["env"]
    assert env["MSWEA_GLOBAL_CONFIG_DIR"] == env["HOME"] + "/.config/mini-swe-agent"
    assert env["MSWEA_MODEL_NAME"] == "openai/gpt-5-mini" and env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["OPENAI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 2 and all(entry["complete"] for entry in entries)


def test_the_task_the_bash_call_its_result_and_the_finishing_call(mini_run):
    """LiteLLM sent every request to the proxy OPENAI_API_BASE named, unstreamed, with the one bash tool."""
    _, _, entries = mini_run
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/chat/completions")
    ] * 2
    task, follow_up = (entry["request"]["body"] for entry in entries)
    assert task["model"] == "gpt-5-mini" and task["tools"] == [BASH] and "stream" not in task
    system, user = task["messages"]
    assert system == {"role": "system", "content": "You are a helpful assistant that can interact with a computer."}
    assert user["role"] == "user" and user["content"].startswith(f"Please solve this issue: {PROMPT}\n")
    assert f"`{FINISH}`" in user["content"]
    headers = {name.lower(): value for name, value in entries[0]["request"]["headers"]}
    assert headers["authorization"] == fingerprint(f"Bearer {MOCK_KEY}")
    assert headers["user-agent"].startswith("OpenAI/Python ")
    first, second = (answer(entry) for entry in entries)
    [call] = first["message"]["tool_calls"]
    assert first["finish_reason"] == "tool_calls"
    assert (call["function"]["name"], json.loads(call["function"]["arguments"])) == (
        "bash",
        {"command": "echo agent-probe tool call"},
    )
    assert follow_up["messages"][:2] == task["messages"]
    sent_call, result = follow_up["messages"][2:]
    assert sent_call["role"] == "assistant" and sent_call["tool_calls"][0]["id"] == call["id"]
    # mini's observation template: the command's exit code and output, as JSON text.
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    assert json.loads(result["content"]) == {"returncode": 0, "output": "agent-probe tool call\n"}
    [finish] = second["message"]["tool_calls"]
    assert json.loads(finish["function"]["arguments"]) == {"command": FINISH}


def test_the_report_shows_the_calls_the_usage_and_the_cost(mini_run):
    _, run, entries = mini_run
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
    call = report.index("**Tool call** `bash`")
    assert '"command": "echo agent-probe tool call"' in report[call : call + 400]
    assert f'"command": "{FINISH}"' in report
    # The cost, worked out here from the usage the mock sent and the mock's price of gpt-5-mini.
    price = price_file(MOCK_PRICES)["gpt-5-mini"]
    cost = sum(
        (
            Decimal(turn["input"] - turn["cache_read"]) * price["input"]
            + Decimal(turn["cache_read"]) * price["cache_read"]
            + Decimal(turn["output"]) * price["output"]
        )
        / 1_000_000
        for turn in turns
    )
    assert cost > 0
    assert f"- Cost: ${cost.quantize(Decimal('0.0001'))} for 2 turns; `gpt-5-mini`" in report


def test_its_settings_and_trajectory_stay_in_the_private_home_and_no_key_reaches_the_run(mini_run):
    result, run, _ = mini_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert f"{home}/.config/mini-swe-agent/last_mini_run.traj.json" in result.stdout.replace("\n", "")
    assert not os.path.exists(home)  # the home, with mini's .env and trajectory, is gone with the run
    assert_key_never_reached(run, MOCK_KEY)


def test_every_text_the_run_captured_reaches_an_output(mini_run):
    _, run, _ = mini_run
    assert_run_loses_nothing(run)


def test_the_run_replays_with_every_request_matched(mini_run, private_data_dir):
    """`invoke replay --trust` serves the two recorded answers back to mini, which runs both commands again."""
    _, run, _ = mini_run
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "replay", "--run", str(run), "--trust"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "replay: every request matched (2 requests)" in result.stdout + result.stderr
    [said] = [line for line in result.stderr.splitlines() if line.startswith("agent: ")]
    assert said.startswith("agent: mini-swe-agent 2.4.6 at ") and said.endswith("/mini-swe-agent@2.4.6/bin/mini")
    [replayed] = (private_data_dir / "mini-swe-agent").glob("*-replay")
    agent = json.loads((replayed / "manifest.json").read_text())["agent"]
    assert (agent["requested_version"], agent["pypi_package"]) == ("2.4.6", "mini-swe-agent")


def test_its_own_ui_asks_before_each_command_and_ends_on_enter(tmp_path, mini_program):
    """`pipeline` with no prompt, in tmux: mini asks for a task (sent with Esc, then Enter), asks before each of
    the mock's two commands, and, once the model submits, quits on Enter."""
    project = tmp_path / "project"
    project.mkdir()
    prompt = "write a hello world function for the mini_swe_agent terminal test"
    env = session_environment(mini_program, tmp_path / "data")
    tmux = TerminalSession(pipeline_argv("mini-swe-agent", "--port", "api=0"), project, env, 200, 50)
    try:
        tmux.wait_for("What do you want to do?", timeout=300)
        time.sleep(1)  # its prompt box is drawn after the question
        tmux.tmux("send-keys", "-t", "run", "-l", prompt)
        tmux.wait_for(prompt, timeout=60)
        tmux.press("Escape")
        tmux.press("Enter")
        for command in ("echo agent-probe tool call", FINISH):
            tmux.wait_for(f"{command}\n```\nExecute 1 action(s)?", timeout=240)
            tmux.press("Enter")
        tmux.wait_for("Agent wants to finish. Type new task or Enter to quit", timeout=240)
        tmux.press("Enter")
        assert tmux.wait_for_exit(timeout=240) == 0, tmux.screen()
    finally:
        tmux.close()
    [run] = (tmp_path / "data" / "mini-swe-agent").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["session"] == "interactive"
    assert manifest["agent"]["argv"][1:] == [] and manifest["agent"]["cwd"] == str(Path(project).resolve())
    first, second = (entry["request"]["body"] for entry in read_traffic(run))
    assert first["messages"][1]["content"].startswith(f"Please solve this issue: {prompt}\n")
    assert json.loads(second["messages"][-1]["content"]) == {"returncode": 0, "output": "agent-probe tool call\n"}
    report = (run / "report.md").read_text()
    assert "- Unrecognised: 0 kinds" in report and f'"command": "{FINISH}"' in report
