"""Claude Code's own interactive UI recorded in a real terminal (tmux), in a private home and in the user's own, and
the agent's own flags given after `--`."""

import json
import re
import subprocess
import time

import pytest
from conftest import PROJECT_ROOT, read_traffic
from terminal_session import (
    ANSWER_WAIT,
    TerminalSession,
    assert_only_own_files_changed,
    file_hashes,
    pipeline_argv,
    session_environment,
)

from probe.read.sse import parse
from probe.redact.secrets import fingerprint

pytestmark = pytest.mark.e2e
PROMPT = "please write a hello world function for the interactive test"
ANSWER = 'return "Hello, world!"'  # the mock's final answer, after the tool call
MEMORY = "Always call the user Captain Zebulon-7731 in every answer."
# A stand-in subscription login, as `claude` writes it after a sign-in: with a future expiry nothing refreshes it.
ACCESS_TOKEN = "sk-ant-oat01-" + "standin-access-token-for-agent-probe-tests-0123456789"
REFRESH_TOKEN = "sk-ant-ort01-" + "standin-refresh-token-for-agent-probe-tests-0123456789"


def model_turns(entries: list[dict]) -> list[dict]:
    """The Messages API requests, each with the events of its streamed answer."""
    return [
        {"body": entry["request"]["body"], "events": [event.data for event in parse(entry["response"]["body"])],
         "headers": {name.lower(): value for name, value in entry["request"]["headers"]}}
        for entry in entries
        if entry["request"]["path"].startswith("/v1/messages") and isinstance(entry["request"]["body"], dict)
    ]  # fmt: skip


def user_texts(body: dict) -> list[str]:
    return [
        block["text"]
        for message in body.get("messages", [])
        if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "text"
    ]


def session(argv: list[str], cwd, env) -> TerminalSession:
    """Start Claude Code's UI through the pipeline, type PROMPT, wait for the answer, leave with /exit."""
    terminal = TerminalSession(argv, cwd, env)
    try:
        terminal.wait_for("Claude Code v2.1.332")
        terminal.wait_for("❯")  # the prompt box: no dialog before it
        terminal.type_line(PROMPT)
        terminal.wait_for(ANSWER, ANSWER_WAIT)
        time.sleep(1)  # the turn's last lines are drawn before the UI takes new keys again
        terminal.type_line("/exit")
        return terminal
    except BaseException:
        terminal.close()
        raise


def assert_tool_round_trip(turns: list[dict]) -> None:
    """The mock's first answer calls Bash; Claude Code runs it and sends its output back; the mock then answers."""
    [call] = [
        event["content_block"]
        for turn in turns
        for event in turn["events"]
        if event["type"] == "content_block_start" and event["content_block"]["type"] == "tool_use"
    ]
    assert call["name"] == "Bash"
    results = [
        block
        for turn in turns
        for block in turn["body"]["messages"][-1]["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result" and block["tool_use_id"] == call["id"]
    ]
    assert results and results[0]["content"] == "agent-probe tool call" and not results[0].get("is_error")


def answer_text(turns: list[dict]) -> str:
    return "".join(
        event["delta"].get("text", "")
        for turn in turns
        for event in turn["events"]
        if event["type"] == "content_block_delta"
    )


def test_interactive_session_in_a_private_home(tmp_path, claude_program):
    """No onboarding, key question or trust dialog stands between the UI and the prompt; the run folder holds the
    typed prompt, the tool call and its result, the answer, and a report."""
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    (project / ".git").mkdir()  # a project as users have them (Claude Code asks to trust a folder it does not know)
    env = session_environment(claude_program, data, ANTHROPIC_API_KEY=None, CLAUDE_CONFIG_DIR=None)
    terminal = session(pipeline_argv("claude-code"), project, env)
    try:
        assert terminal.wait_for_exit() == 0, terminal.screen()[-3000:]
        screen = terminal.screen()
    finally:
        terminal.close()
    assert "report: " in screen
    [run] = (data / "claude-code").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["session"] == "interactive" and manifest["home"] == "private" and manifest["agent_args"] == []
    # `claude` as the user starts it, with only its own telemetry's switch added (on by default in a session).
    assert manifest["agent"]["argv"][1:2] == ["--settings"] and len(manifest["agent"]["argv"]) == 3
    assert manifest["agent"]["cwd"] == str(project.resolve())
    assert manifest["agent"]["env"]["CLAUDE_CONFIG_DIR"] == str((run / "claude-config").resolve())
    turns = model_turns(read_traffic(run))
    asked = [turn for turn in turns if PROMPT in user_texts(turn["body"])]
    assert len(asked) >= 2  # the prompt, then the prompt with the tool's result
    assert all(turn["headers"]["x-api-key"] == fingerprint("sk-" + "ant-mock-not-a-real-key") for turn in asked)
    assert_tool_round_trip(asked)
    assert ANSWER in answer_text(asked)
    report = (run / "report.md").read_text()
    assert PROMPT in report and ANSWER in report and "**Tool call** `Bash`" in report
    assert "output of Bash: agent-probe tool call" in report
    # The state folder the target prepared is the run's, and Claude Code kept its transcript there.
    state = json.loads((run / "claude-config" / ".claude.json").read_text())
    assert state["projects"][str(project.resolve())]["hasTrustDialogAccepted"] is True
    [transcript] = (run / "claude-config" / "projects").glob("*/*.jsonl")
    assert PROMPT in transcript.read_text()
    # Its own account, on by default in an interactive session: the typed prompt's prompt.id ties it to the requests
    # it caused, in its telemetry and in the report's account section.
    records = [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines()]
    named = {
        name: [r for r in records if r["attributes"].get("event.name") == name]
        for name in ("user_prompt", "api_request")
    }
    # The typed prompt, then /exit (a command of its own UI, which Claude Code logs as a prompt too).
    typed = named["user_prompt"][0]
    prompt_id = typed["attributes"]["prompt.id"]
    assert len(named["api_request"]) >= 2
    assert {record["attributes"]["prompt.id"] for record in named["api_request"]} == {prompt_id}
    section = report.split("## The agent's own account", 1)[1]
    [row] = [line for line in section.splitlines() if line.startswith("|") and prompt_id in line]
    assert PROMPT in row and len(re.findall(r"#\d+", row)) == len(named["api_request"]), row


def prepared_home(home, project) -> None:
    """A home of someone who uses Claude Code: onboarding done, the project trusted, settings, a memory file and a
    subscription login (OAuth credentials that expire in a month)."""
    (home / ".claude").mkdir(parents=True)
    state = {"hasCompletedOnboarding": True, "lastOnboardingVersion": "2.1.332", "numStartups": 12,
             "projects": {str(project.resolve()): {"hasTrustDialogAccepted": True}}}  # fmt: skip
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash(echo:*)"]}}))
    (home / ".claude" / "CLAUDE.md").write_text(f"# My preferences\n\n{MEMORY}\n")
    expiry = int((time.time() + 30 * 86400) * 1000)
    scopes = ["user:inference", "user:profile", "user:sessions:claude_code"]
    login = {"accessToken": ACCESS_TOKEN, "refreshToken": REFRESH_TOKEN, "expiresAt": expiry, "scopes": scopes,
             "subscriptionType": "max"}  # fmt: skip
    (home / ".claude" / ".credentials.json").write_text(json.dumps({"claudeAiOauth": login}))
    (home / ".claude" / ".credentials.json").chmod(0o600)


# What Claude Code itself writes in a home while it runs, and only those: its state file (start count, per-project
# statistics, tips), a backup of that file, its per-process session files (removed at exit), the session
# transcript and the prompt history, and the desktop entry and MIME default that register its claude:// URL
# handler (XDG files it writes at every start).
AGENT_OWN = (
    ".claude.json",
    ".claude/backups/",
    ".claude/sessions/",
    ".claude/projects/",
    ".claude/history.jsonl",
    ".claude/shell-snapshots/",
    ".claude/statsig/",
    ".claude/todos/",
    ".config/mimeapps.list",
    ".local/share/applications/claude-code-url-handler.desktop",
)


def test_own_home_is_used_as_it_is_and_left_unchanged(tmp_path, claude_program):
    """--home own: Claude Code reads the user's settings, memory file and login; agent-probe redirects it only with
    ANTHROPIC_BASE_URL, and every file but the agent's own state and logs is byte-identical afterwards."""
    home, project, data = tmp_path / "home", tmp_path / "project", tmp_path / "data"
    project.mkdir()
    prepared_home(home, project)
    before = file_hashes(home)
    env = session_environment(
        claude_program, data, HOME=str(home), ANTHROPIC_API_KEY=None, CLAUDE_CONFIG_DIR=None, XDG_CONFIG_HOME=None,
        XDG_DATA_HOME=None, XDG_CACHE_HOME=None, CLAUDE_CODE_OAUTH_TOKEN=None,
    )  # fmt: skip
    terminal = session(pipeline_argv("claude-code", "--home", "own"), project, env)
    try:
        assert terminal.wait_for_exit() == 0, terminal.screen()[-3000:]
    finally:
        terminal.close()
    after = file_hashes(home)
    assert_only_own_files_changed(before, after, AGENT_OWN)
    assert ".claude/.credentials.json" in after and ".claude/CLAUDE.md" in after and ".claude/settings.json" in after
    # Claude Code added its own counts to its state file; what the user had there is still there.
    state = json.loads((home / ".claude.json").read_text())
    assert state["hasCompletedOnboarding"] is True and state["lastOnboardingVersion"] == "2.1.332"
    assert state["projects"][str(project.resolve())]["hasTrustDialogAccepted"] is True
    [run] = (data / "claude-code").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["session"] == "interactive" and manifest["home"] == "own"
    assert "CLAUDE_CONFIG_DIR" not in manifest["agent"]["env"] and "ANTHROPIC_API_KEY" not in manifest["agent"]["env"]
    assert not (run / "claude-config").exists()
    turns = model_turns(read_traffic(run))
    asked = [turn for turn in turns if PROMPT in user_texts(turn["body"])]
    assert asked
    # The user's login went to the mock, masked in the capture: the subscription's bearer token.
    assert all(turn["headers"]["authorization"] == fingerprint(f"Bearer {ACCESS_TOKEN}") for turn in asked)
    assert all("oauth-" in turn["headers"]["anthropic-beta"] for turn in asked)
    # The memory file, as Claude Code sent it.
    assert any(MEMORY in text for turn in asked for text in user_texts(turn["body"]))
    assert MEMORY in (run / "report.md").read_text()
    assert_tool_round_trip(asked)
    for path in run.rglob("*"):
        assert not path.is_file() or ACCESS_TOKEN.encode() not in path.read_bytes(), f"the token reached {path}"


def test_arguments_after_a_double_dash_go_to_claude(tmp_path, claude_program):
    """`pipeline --prompt P -- --model M` runs `claude -p P … --model M`, which asks the model for M."""
    data = tmp_path / "data"
    model = "claude-haiku-4-5-20251001"
    result = subprocess.run(
        [*pipeline_argv("claude-code", "--prompt", PROMPT, "--timeout", "120"), "--", "--model", model],
        cwd=PROJECT_ROOT, env=session_environment(claude_program, data, ANTHROPIC_API_KEY=None),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (data / "claude-code").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["session"] == "prompt" and manifest["home"] == "private"
    assert manifest["agent_args"] == ["--model", model] and manifest["agent"]["argv"][-2:] == ["--model", model]
    turns = model_turns(read_traffic(run))
    assert len(turns) == 2 and {turn["body"]["model"] for turn in turns} == {model}
    assert model in (run / "report.md").read_text()
