"""The real Claude Code CLI, run by `invoke pipeline --target claude-code --upstream mock`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, read_traffic, tokens_line
from losses import assert_run_loses_nothing

from probe.capture.agent_home import PRIVATE_XDG
from probe.capture.forward import LOOPBACK
from probe.capture.refusal import EVERY_PROXY_VARIABLE
from probe.read.sse import parse
from probe.redact.secrets import fingerprint

pytestmark = [pytest.mark.e2e, FRESH_RUNS]  # most of its checks read the session's fresh run
PROMPT = "write a hello world function"
MOCK_KEY = "sk-" + "ant-mock-not-a-real-key"  # what the target's mock_env gives Claude Code


def run_pipeline(data_dir: Path, claude_program: str, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(claude_program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "pipeline",
            "--target",
            "claude-code",
            "--upstream",
            "mock",
            "--prompt",
            PROMPT,
            "--timeout",
            "120",
            *options,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    [run] = (data_dir / "claude-code").iterdir()
    return result, run


@pytest.fixture(scope="module")
def claude_run(fresh_pipelines):
    """The session's fresh Claude Code run: the same pipeline, made once for these checks and its readers."""
    result, run = fresh_pipelines["claude-code"]
    return result, run, read_traffic(run)


def stream_events(entry: dict) -> list[dict]:
    return [event.data for event in parse(entry["response"]["body"])]


def test_pipeline_completes_with_the_mock_answer(claude_run):
    result, run, entries = claude_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout  # Claude Code printed the mock's final answer
    assert "report: " in result.stdout and run.name in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "2.1.332 (Claude Code)"
    argv = manifest["agent"]["argv"]
    assert argv[1:-2] == ["-p", PROMPT, "--output-format", "text", "--max-turns", "8", "--permission-mode", "dontAsk"]
    # Its own telemetry, on by default against the mock, switched on by settings too (they win over the user's own).
    endpoint = manifest["account"]["telemetry"]["endpoint"]
    given = json.loads(argv[-1])["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert argv[-2] == "--settings" and given.startswith(f"{endpoint}/[REDACTED sha256:")  # the run's token, masked
    env = manifest["agent"]["env"]
    # The private home's XDG folders, and against the mock every proxy variable at the run's refusing listener.
    home = env["XDG_CONFIG_HOME"].removesuffix("/.config")
    xdg = {name: env.pop(name) for name in PRIVATE_XDG}
    assert xdg == {name: place.replace("{agent_home}", home) for name, place in PRIVATE_XDG.items()}
    refusing = {env.pop(name) for name in EVERY_PROXY_VARIABLE}
    assert len(refusing) == 1 and refusing.pop().startswith("http://127.0.0.1:")
    telemetry = {name: env.pop(name) for name in list(env) if name.startswith(("OTEL_", "CLAUDE_CODE_ENABLE_TELEM"))}
    assert telemetry == json.loads(argv[-1])["env"]  # the same switch in both places
    assert env == {
        "ANTHROPIC_BASE_URL": manifest["proxies"][0]["url"],
        "CLAUDE_CONFIG_DIR": str((run / "claude-config").resolve()),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "ANTHROPIC_API_KEY": fingerprint(MOCK_KEY),
        "NO_PROXY": LOOPBACK,
        "no_proxy": LOOPBACK,
    }
    assert manifest["exchanges"] == len(entries) == 2


def test_full_request_is_captured_with_system_prompt_tools_and_the_prompt(claude_run):
    _, _, entries = claude_run
    # With nonessential traffic off, Claude Code sends only its two model turns: no /api/hello.
    assert [(entry["request"]["method"], entry["request"]["path"]) for entry in entries] == [
        ("POST", "/v1/messages?beta=true")
    ] * 2
    first = entries[0]["request"]
    assert 40_000 < first["body_size"] < 80_000  # about 48 KB: system prompt, tools, environment
    body = first["body"]
    assert body["stream"] is True and body["model"].startswith("claude-") and body["max_tokens"] > 0
    assert "thinking" in body
    system_texts = [block["text"] for block in body["system"]]
    assert "You are a Claude agent, built on Anthropic's Claude Agent SDK." in system_texts
    assert any("cache_control" in block for block in body["system"])
    names = [tool["name"] for tool in body["tools"]]
    assert {"Bash", "Read", "Edit", "Write"} <= set(names)
    user_texts = [block["text"] for block in body["messages"][0]["content"] if block["type"] == "text"]
    assert PROMPT in user_texts
    headers = {name.lower(): value for name, value in first["headers"]}
    assert headers["x-api-key"] == fingerprint(MOCK_KEY)
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["user-agent"].startswith("claude-cli/2.1.332")


def test_tool_use_is_run_by_claude_code_and_its_result_sent_back(claude_run):
    _, _, entries = claude_run
    first_events = stream_events(entries[0])
    [tool_use] = [
        event["content_block"]
        for event in first_events
        if event["type"] == "content_block_start" and event["content_block"]["type"] == "tool_use"
    ]
    assert tool_use["name"] == "Bash"
    follow_up = entries[1]["request"]["body"]
    assistant, result = follow_up["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert [block["type"] for block in assistant["content"]] == ["thinking", "text", "tool_use"]
    assert assistant["content"][2]["input"] == {
        "command": "echo agent-probe tool call",
        "description": "Print a marker line",
    }
    [block] = result["content"]
    assert block["type"] == "tool_result" and block["tool_use_id"] == tool_use["id"]
    assert block["content"] == "agent-probe tool call" and block.get("is_error") is False  # echo really ran


def test_report_shows_system_prompt_tools_tool_pair_and_usage(claude_run):
    _, run, entries = claude_run
    report = (run / "report.md").read_text()
    turns = []
    for entry in entries:
        [delta] = [event for event in stream_events(entry) if event["type"] == "message_delta"]
        usage = delta["usage"]
        # Anthropic counts cached input apart from input_tokens: all input is the three added up.
        written, read = usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]
        turns.append(
            {
                "input": usage["input_tokens"] + written + read,
                "cache_read": read,
                "cache_write": written,
                "output": usage["output_tokens"],
            }
        )
    assert sum(turn["cache_write"] for turn in turns) > 0 and sum(turn["cache_read"] for turn in turns) > 0
    assert tokens_line(turns) in report  # "not reported: reasoning": Anthropic sends no such count
    assert "- Unrecognised: 0 kinds" in report
    assert "System prompt (" in report and "You are a Claude agent, built on Anthropic's Claude Agent SDK." in report
    assert 'cache_control `{"type": "ephemeral"}`' in report
    tool_line = next(line for line in report.splitlines() if line.startswith("**Tools declared ("))
    assert "Bash" in tool_line and "Read" in tool_line and "Write" in tool_line
    assert "**Tool call** `Bash` (call_id `toolu_" in report
    assert "output of Bash: agent-probe tool call" in report
    assert "**Messages**: + 1 new message; 3 carried over from #1" in report
    assert "**System prompt**" in report and "the same as request #1" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report
    assert "stop_reason `tool_use`" in report and "stop_reason `end_turn`" in report


def test_claude_state_stays_in_the_run_and_no_key_reaches_disk(claude_run):
    _, run, _ = claude_run
    transcripts = list((run / "claude-config" / "projects").glob("*/*.jsonl"))
    assert len(transcripts) == 1 and PROMPT in transcripts[0].read_text()
    for path in run.rglob("*"):
        if path.is_file():
            assert MOCK_KEY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_full_traffic_lets_claude_code_try_its_optional_calls_which_the_mock_run_refuses(tmp_path, claude_program):
    result, run = run_pipeline(tmp_path / "data", claude_program, "--full-traffic")
    assert result.returncode == 0, result.stderr[-2000:]
    # Its optional calls go to api.anthropic.com, past the base URL: against the mock they meet the run's refusing
    # listener, and behind any proxy Claude Code 2.1.330 leaves out its HEAD /api/hello to the base URL.
    paths = [(entry["request"]["method"], entry["request"]["path"]) for entry in read_traffic(run)]
    assert paths == [("POST", "/v1/messages?beta=true")] * 2
    manifest = json.loads((run / "manifest.json").read_text())
    assert "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC" not in manifest["agent"]["env"]
    assert manifest["agent"]["env"]["HTTPS_PROXY"].startswith("http://127.0.0.1:")


def test_every_text_the_fresh_run_captured_reaches_an_output(claude_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = claude_run
    assert_run_loses_nothing(run)
