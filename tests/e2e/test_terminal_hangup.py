"""An interactive session whose terminal hangs up (its tmux pane killed, or SIGHUP sent to the recording): the run is
interrupted, its exchanges are kept, its report is written, and nothing is written into the dead terminal."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
from conftest import read_traffic
from terminal_session import ANSWER_WAIT, TerminalSession, pipeline_argv, session_environment

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PROMPT = "please write a hello world function before the window closes"
ANSWER = 'return "Hello, world!"'  # the mock's final answer, after its tool call
NOTE = "the terminal hung up (its window closed, or SIGHUP): anything said once it was gone is in terminal.log"


def answered_session(tmp_path: Path, claude_program: str) -> tuple[TerminalSession, Path]:
    """Claude Code's UI through the pipeline in tmux, with one exchange of PROMPT answered; its data folder."""
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    env = session_environment(claude_program, data, ANTHROPIC_API_KEY=None, CLAUDE_CONFIG_DIR=None)
    terminal = TerminalSession(pipeline_argv("claude-code"), project, env)
    try:
        terminal.wait_for("❯")
        terminal.type_line(PROMPT)
        terminal.wait_for(ANSWER, ANSWER_WAIT)
    except BaseException:
        terminal.close()
        raise
    return terminal, data


def recording_pid(terminal: TerminalSession) -> int:
    """The pipeline's process: the child of the pane's shell."""
    shell = int(terminal.tmux("list-panes", "-t", "run", "-F", "#{pane_pid}").split()[0])
    [child] = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    return int(child)


def ended_run(data: Path, timeout: float = 180.0) -> Path:
    """The run folder once its manifest is closed and its report written."""
    deadline = time.monotonic() + timeout
    while True:
        runs = list((data / "claude-code").iterdir()) if (data / "claude-code").is_dir() else []
        closed = runs and json.loads((runs[0] / "manifest.json").read_text())["status"] != "running"
        if closed and (runs[0] / "report.md").is_file() and (runs[0] / "report.html").is_file():
            return runs[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not end with its report within {timeout:.0f} s: {runs}")
        time.sleep(0.2)


def assert_kept_and_reported(run: Path) -> dict:
    """The manifest says interrupted by the hang-up; the exchanges before it and their report are there."""
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["status"], manifest["note"]) == ("interrupted", NOTE)
    asked = [
        entry
        for entry in read_traffic(run)
        if entry["request"]["path"].startswith("/v1/messages") and PROMPT in json.dumps(entry["request"]["body"])
    ]
    assert len(asked) >= 2  # the prompt, then the prompt with its tool's result
    assert manifest["exchanges"] >= len(asked)
    report = (run / "report.md").read_text()
    assert PROMPT in report and ANSWER in report and "**Tool call** `Bash`" in report
    assert "- Run: target `claude-code`, status **interrupted**" in report
    return manifest


def test_a_killed_pane_interrupts_the_run_and_its_report_goes_to_the_run_folder(tmp_path, claude_program):
    terminal, data = answered_session(tmp_path, claude_program)
    try:
        pid = recording_pid(terminal)
        terminal.tmux("kill-pane", "-t", "run")
        run = ended_run(data)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:  # the pipeline ends on its own
            time.sleep(0.2)
        assert not Path(f"/proc/{pid}").exists()
    finally:
        terminal.close()
    manifest = assert_kept_and_reported(run)
    assert manifest["agent_exit_code"] in (0, -signal.SIGHUP, 128 + signal.SIGHUP)  # as the agent took the hang-up
    # What the pipeline said after the window closed, the report's path among it, without a traceback.
    said = (run / "terminal.log").read_text()
    assert f"run folder: {run} (interrupted, agent exit code {manifest['agent_exit_code']})\n" in said
    assert "report: " in said and "Traceback" not in said


def test_a_hang_up_signal_to_the_recording_interrupts_the_run_and_writes_its_report(tmp_path, claude_program):
    terminal, data = answered_session(tmp_path, claude_program)
    try:
        os.kill(recording_pid(terminal), signal.SIGHUP)
        status = terminal.wait_for_exit()
        screen = terminal.screen()
    finally:
        terminal.close()
    run = ended_run(data)
    assert status == 128 + signal.SIGHUP, screen[-3000:]
    manifest = assert_kept_and_reported(run)
    assert manifest["agent_exit_code"] == 128 + signal.SIGHUP  # stopped by the recording, as Ctrl-C's is 130
    # The terminal was still there: the end of the run was said in it, and nothing went to the log.
    assert "report: " in screen and "Traceback" not in screen
    assert not (run / "terminal.log").exists()
