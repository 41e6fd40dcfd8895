"""The own interactive UI of each agent in AGENTS below, recorded: `python -m probe.pipeline --target T --upstream
mock` with no prompt, in tmux, from a project folder outside the checkout, with the private home the target prepares
(no login, trust or first-run screen may stand in the way); a prompt typed, the mock's tool call run, the answer on
screen, then the agent's own exit command. pi's runs with --all-hosts too, for the calls its UI alone makes to other
hosts. (Claude Code and codex have files of their own; mini-SWE-agent's UI, which asks before each command and ends
on a submitting command rather than an answer in words, is typed into in tests/e2e/test_e2e_mini_swe_agent.py.
Continue's UI is not typed into here: now and then it took the Enter after a typed prompt for a new line in its input
box, not a send, and the session waited for an answer that never came.)"""

import pytest
from conftest import read_traffic
from interactive_checks import assert_interactive_run
from terminal import ANSWER_LINE, interactive_session

from probe.capture.recorder.forward import OFFLINE
from probe.common.forward import ALL_HOSTS

pytestmark = pytest.mark.e2e
# pi calls other hosts only from its UI: its session runs with --all-hosts --full-traffic, and its version check and
# its tools' release checks (made only where fd or ripgrep is not installed for it) must come through the forward
# proxy with the run's credentials (a client without them is refused, NO_CREDENTIALS; one with them is answered by
# the forward proxy itself against the mock, OFFLINE).
PI_VERSION_CHECK = "https://pi.dev/api/latest-version"
PI_RELEASE_CHECKS = {
    "https://api.github.com/repos/BurntSushi/ripgrep/releases/latest",
    "https://api.github.com/repos/sharkdp/fd/releases/latest",
}

# target, its program's fixture, its exit command, its shell tool, and the approval dialogs it might show (it did not,
# here): should one appear, its first choice allows the call once.
AGENTS = [
    ("gemini", "gemini_program", "/quit", "run_shell_command", ("Allow execution",)),
    ("qwen-code", "qwen_program", "/quit", "run_shell_command", ("Allow execution", "Do you want to proceed")),
    ("opencode", "opencode_program", "/exit", "bash", ("Permission required", "Allow once")),
    ("kilo", "kilo_program", "/exit", "bash", ("Permission required", "Allow once")),
    ("copilot", "copilot_program", "/exit", "bash", ()),
    ("pi", "pi_program", "/quit", "bash", ()),
    ("mistral-vibe", "vibe_program", "/exit", "bash", ()),
    ("kimi-cli", "kimi_program", "/exit", "Shell", ("Approve once",)),
    # Grok CLI's `/exit` opens its command menu, where Enter picks rather than runs: its plain `exit` leaves.
    ("grok-cli", "grok_program", "exit", "bash", ("Do you want to proceed with this operation?",)),
    ("openhands", "openhands_program", "/exit", "terminal", ("Confirm 1 action(s)?",)),
]
# OpenHands' list of commands, open while a command is typed, takes the first Enter: a second one sends it.
EXIT_KEYS = {"openhands": ("Enter",)}


@pytest.mark.parametrize(("target", "program", "exit_command", "tool", "approvals"), AGENTS)
def test_a_typed_prompt_its_tool_call_and_the_answer_are_recorded(
    tmp_path, request, target, program, exit_command, tool, approvals
):
    project = tmp_path / "project"
    project.mkdir()
    prompt = f"write a hello world function for the {target.replace('-', '_')} terminal test"
    program_path = request.getfixturevalue(program)
    options = ("--all-hosts", "--full-traffic") if target == "pi" else ()
    run, screen = interactive_session(target, program_path, project, tmp_path / "data", prompt, exit_command,
                                      *approvals, options=options, exit_keys=EXIT_KEYS.get(target, ()))  # fmt: skip
    assert ANSWER_LINE in screen
    manifest = assert_interactive_run(run, target, prompt, tool)
    assert manifest["agent"]["cwd"] == str(project.resolve())
    if target == "pi":
        forwarded = [entry for entry in read_traffic(run) if entry["proxy"] == ALL_HOSTS]
        urls = {entry["request"]["url"] for entry in forwarded}
        assert PI_VERSION_CHECK in urls and urls <= {PI_VERSION_CHECK} | PI_RELEASE_CHECKS
        assert all(entry["error"] == OFFLINE for entry in forwarded)  # none refused for want of credentials
