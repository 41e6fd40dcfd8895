"""--resume RUN: a new run goes on with the agent's session kept with an earlier one, which stays as it was; what
cannot be resumed is refused in one line before anything starts, and said after a run whose session cannot be."""

import hashlib
import json

import pytest
from conftest import FRESH_RUNS, pipeline_against_mock

from probe.capture import resume
from probe.common.errors import TargetError, run_main
from probe.record import capture_main
from probe.runs.folders import write_manifest
from probe.runs.targets import load_target, parse_target

EARLIER_PROMPT = "write a hello world function"  # the fresh runs' prompt (conftest.fresh_pipelines)
EARLIER_ANSWER = "from the agent-probe mock model"  # in the mock's answer to it
PROMPT = "now say it in French"


def hashes(run) -> dict[str, str]:
    return {
        str(path.relative_to(run)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(run.rglob("*"))
        if path.is_file()
    }


def first_request_with(traffic, text: str) -> str:
    """The first request (an HTTP body, or a WebSocket frame the agent sent) that holds `text`, as its JSON."""
    for line in traffic.read_text().splitlines():
        entry = json.loads(line)
        sent = [entry["request"]] + [frame for frame in entry.get("messages", []) if frame.get("from") == "client"]
        for part in sent:
            if text in json.dumps(part):
                return json.dumps(part)
    raise AssertionError(f"no request holds {text!r}")


@pytest.mark.slow  # an agent run against the mock
@FRESH_RUNS
@pytest.mark.parametrize("target", ["claude-code", "codex"])
def test_a_resumed_run_goes_on_with_the_kept_session_and_leaves_the_earlier_run_as_it_was(
    target, fresh_pipelines, tmp_path, codex_program, claude_program
):
    earlier_result, earlier = fresh_pipelines[target]
    assert earlier_result.returncode == 0, earlier_result.stderr[-2000:]
    assert f"go on with this session with --resume {earlier}" in earlier_result.stderr
    kept = json.loads((earlier / "manifest.json").read_text())["session_kept"]
    assert kept == {"claude-code": "claude-config", "codex": resume.KEPT}[target]
    before = hashes(earlier)
    program = {"claude-code": claude_program, "codex": codex_program}[target]
    options = ("--port", "api=0") if target == "claude-code" else ("--port", "model=0", "--mock-transport", "http")
    result, run = pipeline_against_mock(target, program, tmp_path, PROMPT, *options, "--resume", str(earlier))
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["resumes"]["run"] == str(earlier.resolve())
    assert manifest["session_kept"] == kept  # and so it can be resumed in its turn
    # The first request of the new turn carries the earlier prompt and answer in its history.
    request = first_request_with(run / "traffic.jsonl", PROMPT)
    assert EARLIER_PROMPT in request and EARLIER_ANSWER in request
    assert hashes(earlier) == before
    assert_transcript_goes_on(earlier, run)


def assert_transcript_goes_on(earlier, run) -> None:
    """The agent (Claude Code 2.1.330, codex 0.169.0) appends the new turn to the session's own file: the new run's
    transcript holds the earlier run's records first, as they were, then the new prompt's; before_this_run counts
    the earlier ones."""
    earlier_lines, lines = (
        [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
        for folder in (earlier, run)
    )
    account = json.loads((run / "manifest.json").read_text())["account"]["transcript"]
    before = json.loads((earlier / "manifest.json").read_text())["account"]["transcript"]["records"]
    assert account["before_this_run"] == before == len(earlier_lines) and account["records"] == len(lines) > before
    assert [line["record"] for line in lines[:before]] == [line["record"] for line in earlier_lines]
    assert EARLIER_PROMPT in json.dumps(lines[:before]) and PROMPT in json.dumps(lines[before:])
    assert PROMPT not in json.dumps(lines[:before])


@pytest.fixture
def runs(private_data_dir):
    """A finished run of claude-code that kept a session, one that kept none, and a run of codex."""

    def make(target: str, name: str, kept: str | None) -> object:
        run = private_data_dir / target / name
        run.mkdir(parents=True)
        fields = {"target": target, "status": "complete"} | ({"session_kept": kept} if kept else {})
        write_manifest(run, fields)
        return run

    kept = make("claude-code", "20260101-000000", "claude-config")
    (kept / "claude-config/projects/-x").mkdir(parents=True)
    (kept / "claude-config/projects/-x/5fca7275-cb15.jsonl").write_text("{}\n")
    return {
        "kept": kept,
        "none": make("claude-code", "20260101-000001", None),
        "outside": make("claude-code", "20260101-000002", "../20260101-000000/claude-config"),
        "codex": make("codex", "20260101-000003", resume.KEPT),
    }


@pytest.mark.parametrize(
    ("target", "run", "options", "message"),
    [
        ("gemini", "kept", (), "gemini cannot resume a session: its target file declares no agent.resume"),
        (
            "claude-code",
            "nope",
            (),
            '--resume: no run "nope" (give `latest`, a run folder name under data/, or a path)',
        ),
        ("claude-code", "codex", (), "is not a run of claude-code"),
        ("claude-code", "none", (), "kept no session of claude-code's to go on with"),
        ("claude-code", "outside", (), "kept no session of claude-code's to go on with"),
        ("claude-code", "kept", ("--home", "own"), "in a private home: not with --home own"),
        ("claude-code", "kept", ("--command", "echo {prompt}"), "it does not go with --command"),
    ],
)
def test_what_cannot_be_resumed_is_one_line_before_anything_starts(target, run, options, message, runs, capsys):
    before = sorted(runs["kept"].parent.parent.rglob("*"))
    spec = str(runs[run]) if run in runs else run
    argv = ["--target", target, "--upstream", "mock", "--prompt", "hi", "--resume", spec, *options]
    assert run_main(capture_main, argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("error: ") and message in error
    assert sorted(runs["kept"].parent.parent.rglob("*")) == before  # no run folder, nothing copied


def test_the_session_kept_is_the_newest_and_only_a_name_that_cannot_read_as_an_option(runs):
    state = runs["kept"] / "claude-config"
    (state / "projects/-x/-rf.jsonl").write_text("{}\n")  # newer, but it would read as an option
    (state / "projects/-x/link.jsonl").symlink_to("/etc/hostname")
    target = load_target("claude-code")
    resumed, origin = resume.resumed_target(target, str(runs["kept"]), False, None, "private")
    assert origin.session == "5fca7275-cb15" and origin.state == state
    assert resumed.command[resumed.command.index("--resume") + 1] == "{session}"
    copy = runs["kept"].parent / "copy"
    resume.copy_state(state, copy)
    assert sorted(path.name for path in (copy / "projects/-x").iterdir()) == ["-rf.jsonl", "5fca7275-cb15.jsonl"]


def test_after_a_run_it_says_how_to_go_on_or_that_the_agent_cannot(tmp_path):
    gemini, claude = load_target("gemini"), load_target("claude-code")
    assert resume.after_run(claude, tmp_path, kept=True).startswith(f"go on with this session with --resume {tmp_path}")
    said = resume.after_run(gemini, tmp_path, kept=False)
    assert said.startswith("gemini cannot resume this session: it was kept in the run's private home, now removed")
    assert "\n" not in said


@pytest.mark.parametrize(
    ("resume_entry", "message"),
    [
        ({"state": "/tmp/x", "session": "*.jsonl", "command": ["agent"]}, "agent.resume.state: expected {run}/"),
        ({"state": "{run}/s", "session": "../*.jsonl", "command": ["agent"]}, "agent.resume.session: expected"),
        ({"state": "{run}/s", "session": "*.jsonl", "command": ["other"]}, "expected agent.command's program, agent"),
        ({"state": "{run}/s", "session": "*.jsonl"}, "expected a command, an interactive one, or both"),
        ({"state": "{run}/s", "session": "*.jsonl", "shell": "x"}, "agent.resume.shell: unknown key"),
    ],
)
def test_a_bad_resume_entry_is_refused_with_its_place(resume_entry, message):
    text = json.dumps(
        {
            "name": "t",
            "description": "d",
            "renderer": "probe.apis.generic.report",
            "proxies": [{"name": "api", "listen": 0, "upstream": "https://api.example.com/"}],
            "agent": {"command": ["agent", "{prompt}"], "resume": resume_entry},
        }
    )
    with pytest.raises(TargetError) as raised:
        parse_target(text, "t.yaml")
    assert message in str(raised.value)


def test_the_bundled_resumable_targets_give_the_session_to_their_own_program():
    for name in ("claude-code", "codex"):
        target = load_target(name)
        assert target.resume.command[0] == target.command[0] and "{prompt}" in target.resume.command
        assert target.resume.interactive[0] == target.command[0]
