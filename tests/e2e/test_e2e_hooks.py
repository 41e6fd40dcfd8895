"""--hooks with the real Claude Code against the mock (which has it call its shell tool): the run's recorder keeps
UserPromptSubmit, PreToolUse, PostToolUse and Stop in hooks.jsonl, the tool's events joined to the model's tool call by
its id, and report.md's `## Hooks` shows them with the times hooks.jsonl gives. With the user's own home, a hook of the
user's own settings still runs beside the run's, its time shows in the PreToolUse it held, and the user's files are
left as they were."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from refusing_proxy import RefusingProxy
from test_mock_only import OWN_HOMES, XDG, fake_home, hashes

from probe.capture import agents
from probe.runs.targets import load_target

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("hooks")]
PROMPT = "write a hello world function"
HELD = 1.5  # seconds the user's own PreToolUse hook sleeps
# The user's hook: notes the event and its tool call id in a file outside the home, then sleeps on PreToolUse.
USER_HOOK = """import json, sys, time
given = json.load(sys.stdin)
with open(sys.argv[1], "a") as out:
    out.write(json.dumps([given["hook_event_name"], given.get("tool_use_id"), time.time()]) + "\\n")
if given["hook_event_name"] == "PreToolUse":
    time.sleep(float(sys.argv[2]))
"""


def pipeline(home: str, user_home: Path, variables: dict) -> tuple[subprocess.CompletedProcess, Path]:
    program = str(agents.ensure_installed(load_target("claude-code")))
    environ = {name: value for name, value in os.environ.items() if not name.startswith(("XDG_", "ANTHROPIC_"))}
    environ |= {name: str(user_home / place) for name, place in XDG.items()} | variables
    environ |= {"HOME": str(user_home), "PROBE_DATA_DIR": str(user_home.parent / "data")}
    environ["PATH"] = f"{Path(program).parent}{os.pathsep}{environ['PATH']}"
    argv = ["--target", "claude-code", "--upstream", "mock", "--home", home, "--hooks", "--no-agent-telemetry"]
    argv += ["--workdir", "fresh", "--prompt", PROMPT, "--timeout", "120"]
    proxy = RefusingProxy()
    try:
        command = [sys.executable, "-m", "probe.pipeline", *argv]
        environ = proxy.environment(environ)
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert proxy.seen == []
    (run,) = (user_home.parent / "data" / "claude-code").glob("*")
    return result, run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """home -> (the run folder, the user's files before and after, the user's hook's notes)."""
    made = {}
    private = fake_home(tmp_path_factory.mktemp("hooks-private"), {})
    made["private"] = (pipeline("private", private, {})[1], None, None, None)
    folder = tmp_path_factory.mktemp("hooks-own")
    notes = folder / "user-hook.jsonl"
    command = f"{sys.executable} {folder / 'home/.claude/user_hook.py'} {notes} {HELD}"
    settings = {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": command}]}],
                          "Stop": [{"hooks": [{"type": "command", "command": command}]}]}}  # fmt: skip
    files, variables, _ = OWN_HOMES[("claude-code", "api-key")]
    files = files | {".claude/settings.json": json.dumps(settings), ".claude/user_hook.py": USER_HOOK}
    own = fake_home(folder, files)
    before = hashes(own)
    run = pipeline("own", own, variables)[1]
    made["own"] = (run, before, hashes(own), [json.loads(line) for line in notes.read_text().splitlines()])
    return made


def recorded(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "hooks.jsonl").read_text().splitlines()]


def one(lines: list[dict], event: str) -> dict:
    (line,) = [line for line in lines if line["event"] == event]
    return line


def tool_calls(run: Path) -> dict[str, dict]:
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    return {record["call_id"]: record for record in records if record["record"] == "tool_call"}


def hooks_section(run: Path) -> str:
    report = (run / "report.md").read_text()
    return report[report.index("## Hooks") :].split("\n## ", 1)[0]


def row(section: str, event: str) -> list[str]:
    """The cells of the event's line in the table of each event (a single one)."""
    (line,) = [line for line in section.split("### Each event", 1)[1].splitlines() if f"| `{event}` |" in line]
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def tool_start_held(lines: list[dict]) -> float:
    """PreToolUse to its tool's start, from hooks.jsonl alone: PostToolUse's time less the tool's own duration."""
    pre, post = one(lines, "PreToolUse"), one(lines, "PostToolUse")
    return post["t"] - post["input"]["duration_ms"] / 1000 - pre["t"]


@pytest.mark.parametrize("home", ["private", "own"])
def test_the_events_are_recorded_and_the_tools_joined_to_the_models_tool_call(runs, home):
    run, *_ = runs[home]
    lines = recorded(run)
    events = [line["event"] for line in lines]
    for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"):
        assert event in events, events
    assert events.index("UserPromptSubmit") < events.index("PreToolUse") < events.index("PostToolUse")
    pre, post = one(lines, "PreToolUse"), one(lines, "PostToolUse")
    assert pre["tool"] == post["tool"] == "Bash" and pre["tool_use_id"] == post["tool_use_id"]
    assert pre["input"]["tool_input"]["command"] and post["input"]["tool_response"]
    # The model's tool call, as the wire carried it: the same id, asked in the exchange the report joins it to.
    call = tool_calls(run)[pre["tool_use_id"]]
    assert call["tool"] == "Bash"
    assert one(lines, "UserPromptSubmit")["input"]["prompt"] == PROMPT
    assert all(line["size"] > 0 and line["session"] == lines[0]["session"] for line in lines)
    assert json.loads((run / "manifest.json").read_text())["hooks"] == {"recorded": True, "events": len(lines)}
    assert oct((run / "hooks.jsonl").stat().st_mode & 0o777) == "0o600"
    section = hooks_section(run)
    assert f"{len(lines)} hook events recorded" in section and "2 of 2 tool events joined" in section
    cells = row(section, "PreToolUse")
    assert cells[3:6] == ["`Bash`", f"`{pre['tool_use_id']}`", str(call["asked_in"])]
    assert cells[1] == f"+{pre['t'] - lines[0]['t']:.3f} s"
    assert cells[6:8] == [f"{tool_start_held(lines):.3f} s", "`the tool`"]
    assert row(section, "PostToolUse")[5] == str(call["asked_in"])
    stop, end = one(lines, "Stop"), one(lines, "SessionEnd")
    assert row(section, "Stop")[6:8] == [f"{end['t'] - stop['t']:.3f} s", "`SessionEnd`"]
    [record] = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines() if '"hooks"' in line]
    assert record["joined"] == record["tool_events"] == 2 and record["by_event"]["PreToolUse"]["count"] == 1


def test_with_the_users_own_home_their_hook_still_runs_its_time_shows_and_their_files_stay(runs):
    run, before, after, notes = runs["own"]
    assert {name: after.get(name) for name in before} == before
    lines = recorded(run)
    pre = one(lines, "PreToolUse")
    # The user's hook saw the same tool call as the run's, and ran at the same moment (the agent starts both at once).
    [(_, call_id, started)] = [note for note in notes if note[0] == "PreToolUse"]
    assert call_id == pre["tool_use_id"] and abs(started - pre["t"]) < HELD
    assert [note[0] for note in notes].count("Stop") == 1
    # It held the agent: the tool started after the user's hook slept, and the report says so.
    held = tool_start_held(lines)
    assert held >= HELD
    assert row(hooks_section(run), "PreToolUse")[6] == f"{held:.3f} s"
