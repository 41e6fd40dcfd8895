"""codex's own interactive UI recorded in a real terminal (tmux), in a private home and in the user's own."""

import json
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
USER_KEY = "sk-proj-" + "standin0user0key0for0agent0probe0tests0123456789"  # the prepared home's login


def requests_and_events(entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """What codex sent to the model (HTTP bodies and WebSocket frames alike) and what the model streamed back."""
    requests, events = [], []
    for entry in entries:
        if entry["kind"] == "http" and entry["request"]["method"] == "POST":
            requests.append(entry["request"]["body"])
            events += [event.data for event in parse(entry["response"]["body"]) if isinstance(event.data, dict)]
        for frame in entry.get("messages", []):
            if isinstance(frame["body"], dict):
                (requests if frame["from"] == "client" else events).append(frame["body"])
    return requests, events


def input_texts(request: dict) -> list[str]:
    return [
        part.get("text", "")
        for item in request.get("input", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if isinstance(part, dict)
    ]


def assert_tool_round_trip(requests: list[dict], events: list[dict]) -> None:
    """The mock's first answer calls a tool; codex runs it and sends its output back under the same call id. (The
    interactive UI also asks the model for the thread's title, beside the turn: the mock answers that with a tool
    call too, which codex runs as well.)"""
    calls = [
        event["item"]["call_id"]
        for event in events
        if event.get("type") == "response.output_item.done" and event["item"].get("type") == "function_call"
    ]
    outputs = {
        item["call_id"]: item["output"]
        for request in requests
        for item in request.get("input", [])
        if item.get("type") == "function_call_output"
    }
    assert calls and sorted(outputs) == sorted(calls)
    assert all(outputs[call] for call in calls)  # codex really ran each one, and said what came of it


def answer_text(events: list[dict]) -> str:
    return "".join(event.get("delta", "") for event in events if event.get("type") == "response.output_text.delta")


def session(argv: list[str], cwd, env) -> TerminalSession:
    """Start codex's UI through the pipeline, type PROMPT, wait for the answer, leave with /quit."""
    terminal = TerminalSession(argv, cwd, env)
    try:
        terminal.wait_for("Ask Codex to do anything")  # its prompt: no sign-in, trust or notice screen before it
        terminal.type_line(PROMPT)
        terminal.wait_for(ANSWER, ANSWER_WAIT)
        time.sleep(1)  # the turn's last lines are drawn before the UI takes new keys again
        terminal.type_line("/quit")
        return terminal
    except BaseException:
        terminal.close()
        raise


def git_project(folder) -> None:
    """A project as users have them: codex asks whether to trust a git repository it does not know."""
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    for part in ("objects", "refs/heads"):
        (folder / ".git" / part).mkdir(parents=True)


def test_interactive_session_in_a_private_home(tmp_path, codex_program):
    project, data = tmp_path / "project", tmp_path / "data"
    git_project(project)
    env = session_environment(codex_program, data, CODEX_HOME=None, OPENAI_API_KEY=None, CODEX_API_KEY=None)
    terminal = session(pipeline_argv("codex"), project, env)
    try:
        assert terminal.wait_for_exit() == 0, terminal.screen()[-3000:]
        screen = terminal.screen()
    finally:
        terminal.close()
    assert "report: " in screen
    [run] = (data / "codex").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["session"] == "interactive" and manifest["home"] == "private" and manifest["agent_args"] == []
    assert manifest["agent"]["argv"][1::2] == ["-c", "-c"]  # `codex` and its two base URLs, nothing else
    assert manifest["agent"]["cwd"] == str(project.resolve())
    # The mock's home, the one with the stand-in login; a real API's private home is a folder in it, without one.
    assert "agent-probe-home-" in manifest["agent"]["env"]["CODEX_HOME"]
    assert not manifest["agent"]["env"]["CODEX_HOME"].endswith("/codex")
    entries = read_traffic(run)
    requests, events = requests_and_events(entries)
    assert any(PROMPT in input_texts(request) for request in requests)
    assert_tool_round_trip(requests, events)
    assert ANSWER in answer_text(events)
    # The stand-in login was sent, masked like any key.
    headers = [dict((name.lower(), value) for name, value in entry["request"]["headers"]) for entry in entries]
    assert {header.get("authorization") for header in headers} == {fingerprint("Bearer sk-mock-not-a-real-key")}
    report = (run / "report.md").read_text()
    assert PROMPT in report and ANSWER in report and "**Tool call** `" in report


def prepared_home(home, project) -> None:
    """A home of someone who uses codex: an API-key login, settings that trust the project and have seen the
    one-time notices, and a memory file (AGENTS.md)."""
    codex = home / ".codex"
    codex.mkdir(parents=True)
    (codex / "auth.json").write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": USER_KEY}, indent=2))
    (codex / "auth.json").chmod(0o600)
    (codex / "config.toml").write_text(
        "check_for_update_on_startup = false\n\n"
        f'[projects."{project.resolve()}"]\ntrust_level = "trusted"\n\n'
        "[tui]\nscreen_reader_detection_done = true\n\n"
        # A notice codex counts up at every start until it has been shown enough: this one has been.
        '[tui.model_availability_nux]\n"gpt-6.1-sol" = 99\n'
    )
    (codex / "AGENTS.md").write_text(f"# My preferences\n\n{MEMORY}\n")


# What codex itself writes in its home in any session, and only those: its state, log, memory, goal and queue
# databases (SQLite, with their -wal and -shm files), the session transcript and prompt history, its id, the system
# skills it unpacks, a sandbox migration marker and its lock files.
AGENT_OWN = tuple(
    f".codex/{name}"
    for name in (
        "state_",
        "logs_",
        "memories_",
        "goals_",
        "queue_",
        "thread_history_",
        "sessions/",
        "history.jsonl",
        "installation_id",
        "skills/.system/",
        "shell_snapshots/",
        "log/",
        ".sandbox_migration",
        ".tmp/",
        "thread-writer-locks/",
        "tui-thread-reference-capabilities/",
    )
)


def test_own_home_is_used_as_it_is_and_left_unchanged(tmp_path, codex_program):
    """--home own: codex reads the user's config, AGENTS.md and login from ~/.codex; agent-probe redirects it only
    with -c on its command line, and every file but codex's own state and logs is byte-identical afterwards."""
    home, project, data = tmp_path / "home", tmp_path / "project", tmp_path / "data"
    git_project(project)
    prepared_home(home, project)
    before = file_hashes(home)
    env = session_environment(
        codex_program, data, HOME=str(home), CODEX_HOME=None, OPENAI_API_KEY=None, CODEX_API_KEY=None
    )
    terminal = session(pipeline_argv("codex", "--home", "own"), project, env)
    try:
        assert terminal.wait_for_exit() == 0, terminal.screen()[-3000:]
    finally:
        terminal.close()
    after = file_hashes(home)
    assert_only_own_files_changed(before, after, AGENT_OWN)
    assert {".codex/auth.json", ".codex/config.toml", ".codex/AGENTS.md"} <= after.keys()
    [run] = (data / "codex").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["session"] == "interactive" and manifest["home"] == "own"
    assert "CODEX_HOME" not in manifest["agent"]["env"]
    entries = read_traffic(run)
    requests, events = requests_and_events(entries)
    assert any(PROMPT in input_texts(request) for request in requests)
    # The user's login went to the mock, masked in the capture.
    headers = [dict((name.lower(), value) for name, value in entry["request"]["headers"]) for entry in entries]
    assert {header.get("authorization") for header in headers} == {fingerprint(f"Bearer {USER_KEY}")}
    # The memory file, as codex sent it.
    assert any(MEMORY in text for request in requests for text in input_texts(request))
    assert MEMORY in (run / "report.md").read_text()
    assert_tool_round_trip(requests, events)
    for path in run.rglob("*"):
        assert not path.is_file() or USER_KEY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_arguments_after_a_double_dash_go_to_codex(tmp_path, codex_program):
    """`pipeline --prompt P -- -m M` runs `codex exec … P -m M`, which asks the model for M."""
    data, model = tmp_path / "data", "gpt-5.5"
    options = ("--prompt", PROMPT, "--mock-transport", "http", "--timeout", "120")
    result = subprocess.run(
        [*pipeline_argv("codex", *options), "--", "-m", model],
        cwd=PROJECT_ROOT, env=session_environment(codex_program, data, CODEX_HOME=None),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (data / "codex").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["session"] == "prompt" and manifest["home"] == "private"
    assert manifest["agent_args"] == ["-m", model] and manifest["agent"]["argv"][-3:] == [PROMPT, "-m", model]
    requests, _ = requests_and_events(read_traffic(run))
    assert len(requests) == 2 and {request["model"] for request in requests} == {model}
