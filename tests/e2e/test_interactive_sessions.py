"""gemini-cli's, Qwen Code's, opencode's, Copilot's and pi's own interactive UI, recorded: `python -m probe.pipeline
--target T --upstream mock` with no prompt, in tmux, from a project folder outside the checkout, with the private
home the target prepares (no login, trust or first-run screen may stand in the way); a prompt typed, the mock's tool
call run, the answer on screen, then the agent's own exit command. (Claude Code and codex have files of their own.
Continue's UI is not typed into here: now and then it took the Enter after a typed prompt for a new line in its
input box, not a send, and the session waited for an answer that never came.)"""

import pytest
from interactive_checks import assert_interactive_run
from terminal import ANSWER_LINE, interactive_session

pytestmark = pytest.mark.e2e

# target, its program's fixture, its exit command, its shell tool, and the approval dialogs it might show (it did not,
# here): should one appear, its first choice allows the call once.
AGENTS = [
    ("gemini", "gemini_program", "/quit", "run_shell_command", ("Allow execution",)),
    ("qwen-code", "qwen_program", "/quit", "run_shell_command", ("Allow execution", "Do you want to proceed")),
    ("opencode", "opencode_program", "/exit", "bash", ("Permission required", "Allow once")),
    ("copilot", "copilot_program", "/exit", "bash", ()),
    ("pi", "pi_program", "/quit", "bash", ()),
]


@pytest.mark.parametrize(("target", "program", "exit_command", "tool", "approvals"), AGENTS)
def test_a_typed_prompt_its_tool_call_and_the_answer_are_recorded(
    tmp_path, request, target, program, exit_command, tool, approvals
):
    project = tmp_path / "project"
    project.mkdir()
    prompt = f"write a hello world function for the {target.replace('-', '_')} terminal test"
    program_path = request.getfixturevalue(program)
    run, screen = interactive_session(target, program_path, project, tmp_path / "data", prompt, exit_command,
                                      *approvals)  # fmt: skip
    assert ANSWER_LINE in screen
    manifest = assert_interactive_run(run, target, prompt, tool)
    assert manifest["agent"]["cwd"] == str(project.resolve())
