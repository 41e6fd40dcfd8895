"""An interactive session is the agent's own UI in the user's terminal: driven here in tmux with a shell for an agent,
through the real proxies and the mock. The terminal is the agent's while it runs (keys, Ctrl-C, resizes), and the
run is closed and reported when it leaves."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, processes_mentioning, wait_for
from terminal_session import TerminalSession

from probe.capture.environment import target_environment
from probe.capture.options import add_capture_arguments, home_of, parse_capture_arguments, workdir_of
from probe.common import cli
from probe.runs.targets import parse_target

SHELL_TARGET = """
name: shell
description: an interactive shell standing in for an agent's UI
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.openai.com/"}
agent:
  command: [bash, -c, "{prompt}"]
  interactive: [bash, --norc, --noprofile, -i]
  interactive_unset: [PROBE_TEST_HEADLESS]
  env:
    OPENAI_BASE_URL: "{proxy.api}/v1"
    PS1: "agent$ "
  private_env:
    HOME: "{agent_home}"
  mock_env:
    OPENAI_API_KEY: sk-mock-not-a-real-key
  files:
    .marker: "private home, working in {workdir}"
    "{run}/agent-state/seen.txt": "state kept with the run"
"""


def parsed(*argv: str):
    parser = cli.ArgumentParser(prog="test")
    add_capture_arguments(parser)
    return parse_capture_arguments(parser, list(argv))


def test_arguments_after_a_standalone_double_dash_go_to_the_agent():
    args = parsed("--target", "t", "--prompt", "p", "--", "--model", "m", "--", "x")
    assert (args.prompt, args.agent_args) == ("p", ["--model", "m", "--", "x"])
    assert parsed("--target", "t").agent_args == []


@pytest.mark.parametrize(
    ("argv", "home"),
    [
        ((), "own"),  # an interactive session with the real API: the user's own
        (("--upstream", "mock"), "private"),
        (("--prompt", "p"), "private"),
        (("--command", "c"), "private"),
        (("--upstream", "http://127.0.0.1:9/"), "own"),  # a local gateway is still a real model
        (("--upstream", "mock", "--home", "own"), "own"),
        (("--prompt", "p", "--home", "own"), "own"),
    ],
)
def test_the_home_defaults_to_own_only_for_an_interactive_session_with_a_real_model(argv, home):
    assert home_of(parsed("--target", "t", *argv)) == home
    assert home_of(parsed("--target", "t", *argv), stand_in=True) == ("own" if "own" in argv else "private")


@pytest.mark.parametrize(
    ("argv", "home"),
    [
        (("--prompt", "p"), "own"),  # codex's login lives only in its own home
        (("--prompt", "p", "--upstream", "https://gateway.example/"), "own"),
        (("--prompt", "p", "--upstream", "http://127.0.0.1:9/"), "private"),  # a test server, a local gateway
        (("--prompt", "p", "--upstream", "mock"), "private"),
        (("--prompt", "p", "--home", "private"), "private"),
    ],
)
def test_a_target_may_keep_the_users_own_home_for_prompt_runs_against_the_real_api(argv, home):
    assert home_of(parsed("--target", "t", *argv), real_api_home="own") == home


def test_an_interactive_session_never_works_in_the_checkout(monkeypatch, tmp_path):
    monkeypatch.chdir(PROJECT_ROOT / "probe")
    assert workdir_of(parsed("--target", "t")) == cli.FRESH
    assert workdir_of(parsed("--target", "t", "--workdir", ".")) == str(PROJECT_ROOT / "probe")  # unless told to
    monkeypatch.chdir(tmp_path)
    assert workdir_of(parsed("--target", "t")) is None  # the user's project: where it was started
    assert workdir_of(parsed("--target", "t", "--prompt", "p")) == cli.FRESH


def test_own_home_drops_the_private_variables_and_the_stand_in_key():
    target = parse_target(SHELL_TARGET, "shell.yaml")
    values = {"proxy.api": "http://127.0.0.1:1", "agent_home": "/h", "run": "/r", "workdir": "/w", "prompt": ""}
    private = target_environment(target, values, mock=True, full_traffic=False)
    own = target_environment(target, values, mock=True, full_traffic=False, home="own")
    xdg = {"XDG_CONFIG_HOME": "/h/.config", "XDG_CACHE_HOME": "/h/.cache", "XDG_DATA_HOME": "/h/.local/share",
           "XDG_STATE_HOME": "/h/.local/state", "XDG_RUNTIME_DIR": "/h/.runtime"}  # fmt: skip
    assert private == {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "PS1": "agent$ ", "HOME": "/h",
                       "OPENAI_API_KEY": "sk-mock-not-a-real-key", **xdg}  # fmt: skip
    assert own == {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "PS1": "agent$ "}


def test_without_a_terminal_an_interactive_session_is_refused_in_one_line(tmp_path):
    (tmp_path / "shell.yaml").write_text(SHELL_TARGET)
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(tmp_path / "shell.yaml"), "--upstream",
         "mock"], stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: an interactive session needs a terminal: run it in one, or give --prompt (or --command)"
    ]


def test_a_target_without_an_interactive_command_says_so(tmp_path):
    session_keys = "  interactive: [bash, --norc, --noprofile, -i]\n  interactive_unset: [PROBE_TEST_HEADLESS]\n"
    (tmp_path / "t.yaml").write_text(SHELL_TARGET.replace(session_keys, ""))
    result = subprocess.run([sys.executable, "-m", "probe.record", "capture", "--target", str(tmp_path / "t.yaml")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)  # fmt: skip
    assert result.returncode == 2
    assert "has no interactive session (agent.interactive in its target): give --prompt" in result.stderr


@pytest.fixture
def terminal(tmp_path, private_data_dir):
    """A tmux window in a project folder of its own, where a script records the shell target's interactive
    session through the real proxies and the mock, with the terminal's modes taken before and after."""
    (tmp_path / "shell.yaml").write_text(SHELL_TARGET)
    project = tmp_path / "project"
    project.mkdir()
    # `capture`, as a user records a session: it writes the report too when the session ends.
    pipeline = [sys.executable, "-m", "probe.record", "capture", "--target", str(tmp_path / "shell.yaml"), "--upstream",
                "mock"]  # fmt: skip
    script = tmp_path / "session.sh"
    script.write_text(
        f"cd {shlex.quote(str(project))}\n"
        f"export PYTHONPATH={shlex.quote(str(PROJECT_ROOT))} PROBE_DATA_DIR={shlex.quote(str(private_data_dir))}\n"
        "stty -g > ../modes-before\n"
        f"{shlex.join(pipeline)} -- -o noclobber\n"
        # The modes are written before the line the test waits for, which would otherwise find the file still empty.
        'status=$?\nstty -g > ../modes-after\necho "probe exited $status"\n'
    )
    # A variable the target leaves out of its sessions, as gemini-cli's leaves out CI=true.
    session = TerminalSession(["bash", str(script)], project, dict(os.environ, PROBE_TEST_HEADLESS="true"))
    yield session, tmp_path
    session.close()


def type_into_shell(tmux: TerminalSession, text: str) -> None:
    """A line typed at a shell, or at a program reading its terminal line by line: both take the keys in the order
    they come, so Enter needs no pause after the text, as an agent's drawing UI does."""
    tmux.type_line(text, settle=0)


def only_run(data: Path) -> Path:
    runs = list((data / "shell").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_the_terminal_is_the_agents_while_it_runs_and_the_run_is_closed_when_it_leaves(terminal, private_data_dir):
    tmux, folder = terminal
    tmux.wait_for("agent$ ")
    # The agent's keys: a request through the proxy it was pointed at, and the private home the target prepared.
    type_into_shell(tmux, "cat ~/.marker; echo; curl -s $OPENAI_BASE_URL/chat/completions"
                    " -H 'content-type: application/json'"
                    " -d '{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"typed in tmux\"}]}'"
                    " | head -c 120; echo")  # fmt: skip
    screen = tmux.wait_for('"object": "chat.completion"')
    assert f"private home, working in {folder / 'project'}" in screen
    type_into_shell(tmux, "echo headless=${PROBE_TEST_HEADLESS-unset}")
    tmux.wait_for("\nheadless=unset")
    # Ctrl-C is the agent's: it stops what the agent runs, not the recording.
    running = f"sleep 300.{os.getpid()}"  # a duration of this test's own, to find its process by
    type_into_shell(tmux, running + "; echo ended-$((40+2))")
    assert wait_for(lambda: processes_mentioning(running)), "the agent's command never started"
    tmux.press("C-c")
    type_into_shell(tmux, "echo still-here")
    assert "ended-42" not in tmux.wait_for("\nstill-here")
    # A resize reaches the agent.
    tmux.tmux("resize-window", "-t", "run", "-x", "97", "-y", "30")
    type_into_shell(tmux, "echo columns=$COLUMNS")
    tmux.wait_for("columns=97")
    type_into_shell(tmux, "exit")
    screen = tmux.wait_for("probe exited 0")
    assert "run folder: " in screen and "(complete, agent exit code 0)" in screen
    assert "/report.md\n" in screen and "/report.html\n" in screen  # where the report is, as pipeline says it
    run = only_run(private_data_dir)
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["status"], manifest["session"], manifest["home"]) == ("complete", "interactive", "private")
    assert manifest["agent_args"] == ["-o", "noclobber"]
    assert manifest["agent"]["argv"][-2:] == ["-o", "noclobber"]
    assert manifest["agent"]["cwd"] == str(folder / "project")
    assert (run / "agent-state" / "seen.txt").read_text() == "state kept with the run"
    exchanges = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    assert [e["request"]["body"]["messages"][0]["content"] for e in exchanges] == ["typed in tmux"]
    feed = (run / "live-feed.txt").read_text()
    assert "POST /v1/chat/completions 200 m" in feed and feed.count("\n") == 1
    report = (run / "report.md").read_text()
    assert "typed in tmux" in report
    assert '- Agent run: session `interactive`, home `private`, agent arguments `["-o", "noclobber"]`' in report
    assert "prices `mock_prices.yaml (sha256 " in report  # priced as pipeline prices a run against the mock
    assert (folder / "modes-before").read_text() == (folder / "modes-after").read_text()


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_a_run_stopped_from_outside_gives_the_terminal_back_as_it_was(terminal, private_data_dir):
    tmux, folder = terminal
    tmux.wait_for("agent$ ")
    type_into_shell(tmux, "stty raw -echo; echo raw-now")  # an agent's UI in raw mode, as every TUI runs
    tmux.wait_for("raw-now")
    pids = subprocess.run(["pgrep", "-f", "probe.record capture --target " + str(folder)], capture_output=True,
                          text=True)  # fmt: skip
    assert pids.stdout.split(), "the recording's process was not found"
    for pid in pids.stdout.split():
        subprocess.run(["kill", "-TERM", pid])
    screen = tmux.wait_for("probe exited 130")
    assert "(interrupted, agent exit code" in screen
    manifest = json.loads((only_run(private_data_dir) / "manifest.json").read_text())
    assert (manifest["status"], manifest["session"]) == ("interrupted", "interactive")
    assert (folder / "modes-before").read_text() == (folder / "modes-after").read_text()


def test_the_agents_arguments_are_recorded_masked(tmp_path, private_data_dir):
    """What follows `--` is the agent's, a key included: the manifest keeps it masked, as it keeps the argv."""
    (tmp_path / "shell.yaml").write_text(SHELL_TARGET)
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(tmp_path / "shell.yaml"), "--upstream",
         "mock", "--prompt", 'echo "$1" > "$PWD/seen"', "--workdir", str(tmp_path), "--", "--api-key", key],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "seen").read_text() == f"{key}\n"  # the agent got it whole
    manifest_text = (only_run(private_data_dir) / "manifest.json").read_text()
    manifest = json.loads(manifest_text)
    assert key not in manifest_text
    assert manifest["agent_args"][0] == "--api-key" and manifest["agent_args"][1].startswith("[REDACTED sha256:")
    assert (manifest["session"], manifest["home"]) == ("prompt", "private")


PYTHON_TARGET = """
name: asking
description: a program that asks one question, standing in for an agent's UI
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.openai.com/"}
agent:
  command: [python3, -c, "{prompt}"]
  interactive: [python3, -c, "print('agent ready', flush=True); print('got', input(), flush=True)"]
"""


def agent_states() -> list[str]:
    """The state letters (T: stopped) of the processes running PYTHON_TARGET's interactive command."""
    states = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"print('agent ready'" in (entry / "cmdline").read_bytes():
                states.append((entry / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except OSError:
            continue
    return states


def test_a_suspended_agent_suspends_the_recording_and_fg_gives_it_the_terminal_back(tmp_path, private_data_dir):
    """Ctrl-Z stops the agent (its group holds the terminal): the recording stops too, so that the user's shell has
    the terminal and its job list says so; `fg` resumes both, and the agent reads the keys again."""
    (tmp_path / "asking.yaml").write_text(PYTHON_TARGET)
    capture = [sys.executable, "-m", "probe.record", "capture", "--target", str(tmp_path / "asking.yaml"),
               "--upstream", "mock"]  # fmt: skip
    tmux = TerminalSession(["bash", "--norc", "--noprofile", "-i"], tmp_path, dict(os.environ))
    try:
        tmux.wait_for("bash-")  # its own prompt: an interactive shell, with job control
        type_into_shell(
            tmux, f"export PYTHONPATH={PROJECT_ROOT} PROBE_DATA_DIR={private_data_dir}; {shlex.join(capture)}"
        )
        tmux.wait_for("agent ready")
        tmux.press("C-z")
        tmux.wait_for("Stopped")
        type_into_shell(tmux, "jobs -l; echo the-shell-has-$((6*7))")
        tmux.wait_for("the-shell-has-42")
        type_into_shell(tmux, "fg")
        # Keys typed before the shell has handed the terminal back would be the shell's: wait until the agent runs.
        assert wait_for(lambda: agent_states() and "T" not in agent_states()), "fg never resumed the agent"
        type_into_shell(tmux, "typed after fg")
        screen = tmux.wait_for("run folder: ")
        assert "got typed after fg" in screen and "(complete, agent exit code 0)" in screen
    finally:
        tmux.close()
    [run] = (private_data_dir / "asking").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["status"], manifest["session"]) == ("complete", "interactive")
