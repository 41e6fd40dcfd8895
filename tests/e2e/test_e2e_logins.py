"""The subscription logins, each run by `invoke pipeline --upstream mock --login NAME` with the real agent: codex
with a ChatGPT login (over WebSocket and over POST + SSE with zstd bodies), Claude Code with an OAuth token and Qwen
Code with Qwen OAuth. Each makes its requests on its login's endpoint, with its stand-in credentials masked, and
its report reads every exchange, a tool call and the usage."""

import json

import pytest
from conftest import pipeline_against_mock, read_traffic

from probe.redact.secrets import fingerprint

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function"
CODEX_ACCOUNT = "acct-mock-not-a-real-account"  # the account of the codex target's stand-in ChatGPT login
CLAUDE_TOKEN = "sk-ant-oat01-" + "mock-not-a-real-token"
QWEN_TOKEN = "mock-qwen-oauth-" + "not-a-real-token"
# (target, login, options, the proxy and path of its model turns, its tool)
RUNS = {
    "codex-chatgpt-websocket": ("codex", "chatgpt", (), ("chatgpt", "/backend-api/codex/responses"), "clock.sleep"),
    "codex-chatgpt-http": (
        "codex",
        "chatgpt",
        ("--mock-transport", "http"),
        ("chatgpt", "/backend-api/codex/responses"),
        "clock.sleep",
    ),
    "claude-code-oauth": ("claude-code", "oauth", (), ("api", "/v1/messages?beta=true"), "Bash"),
    "qwen-code-qwen-oauth": ("qwen-code", "qwen-oauth", (), ("portal", "/v1/chat/completions"), "run_shell_command"),
}
PROGRAMS = {"codex": "codex_program", "claude-code": "claude_program", "qwen-code": "qwen_program"}


def one_worker_per_login(name: str):
    """Each login's run is made once, by the worker its tests are grouped on: under xdist a module fixture is the
    worker's own, so two workers sharing a login's tests would both make its run."""
    return pytest.param(name, marks=pytest.mark.xdist_group(f"logins-{name}"))


@pytest.fixture(scope="module", params=[one_worker_per_login(name) for name in RUNS])
def login_run(request, tmp_path_factory):
    target, login, options, endpoint, tool = RUNS[request.param]
    program = request.getfixturevalue(PROGRAMS[target])
    data_dir = tmp_path_factory.mktemp(request.param)
    result, run = pipeline_against_mock(target, program, data_dir, PROMPT, "--login", login, *options)
    return request.param, result, run, endpoint, tool


def headers_of(entry: dict) -> dict[str, str]:
    return {name.lower(): value for name, value in entry["request"]["headers"]}


def test_the_login_completes_a_tool_round_trip_and_its_report_reads_it_whole(login_run):
    name, result, run, _, tool = login_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["login"] == RUNS[name][1]
    # The login its requests showed (each login's seen_as), at the run's end: the one asked for, and no other.
    assert list(manifest["login_seen"]) == [RUNS[name][1]] and manifest["login_seen"][RUNS[name][1]] >= 2
    report = (run / "report.md").read_text()
    assert f"login `{RUNS[name][1]}`, home" in report
    assert "- Unrecognised: 0 kinds" in report
    assert f"- Tools: 1 call of 1 tool, 0 failed; longest wait `{tool}`" in report
    assert "- Tokens: 2 turns with usage: input " in report


def test_the_model_turns_go_to_the_login_s_endpoint_with_its_credentials_masked(login_run):
    name, _, run, (proxy, path), _ = login_run
    entries = read_traffic(run)
    turns = [entry for entry in entries if entry["request"]["path"] == path]
    assert turns and {entry["proxy"] for entry in turns} == {proxy}
    text = (run / "traffic.jsonl").read_text() + (run / "manifest.json").read_text()
    target = RUNS[name][0]
    if target == "codex":
        # No request went to the API-key login's Responses API, and the ChatGPT backend's own calls went through
        # the backend proxy: the workspace check first.
        assert not [entry for entry in entries if entry["proxy"] == "model"]
        checks = [entry for entry in entries if entry["request"]["path"] == "/backend-api/wham/accounts/check"]
        assert checks and {entry["proxy"] for entry in checks} == {"backend"}
        for entry in turns:
            headers = headers_of(entry)
            assert headers["chatgpt-account-id"] == fingerprint(CODEX_ACCOUNT)
            assert headers["authorization"].startswith("[REDACTED sha256:")
        if name.endswith("http"):
            posts = [entry for entry in turns if entry["request"]["method"] == "POST"]
            assert len(posts) == 2 and {entry["request"]["content_encoding"] for entry in posts} == {"zstd"}
            # Captured decoded: the second request sends back the output of the tool the first answer called.
            outputs = [item for item in posts[1]["request"]["body"]["input"] if item["type"] == "function_call_output"]
            assert len(outputs) == 1
        else:
            frames = [frame for entry in turns for frame in entry["messages"] if frame["from"] == "client"]
            # A warm-up (`generate: false`), the turn, then its continuation with the tool's output.
            assert [frame["body"]["type"] for frame in frames] == ["response.create"] * 3
            assert frames[0]["body"]["generate"] is False
            outputs = [item for item in frames[2]["body"]["input"] if item["type"] == "function_call_output"]
            assert len(outputs) == 1 and frames[2]["body"]["previous_response_id"]
    elif target == "claude-code":
        for entry in turns:
            headers = headers_of(entry)
            assert headers["authorization"] == fingerprint(f"Bearer {CLAUDE_TOKEN}")
            assert "oauth-2025-04-20" in headers["anthropic-beta"].split(",") and "x-api-key" not in headers
        assert CLAUDE_TOKEN not in text
    else:
        for entry in turns:
            headers = headers_of(entry)
            assert headers["authorization"] == fingerprint(f"Bearer {QWEN_TOKEN}")
            assert headers["x-dashscope-authtype"] == "qwen-oauth"
        assert not [entry for entry in entries if entry["proxy"] == "api"]
        assert QWEN_TOKEN not in text
