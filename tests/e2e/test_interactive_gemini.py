"""Gemini CLI's own interactive UI, recorded: `python -m probe.pipeline --target gemini --upstream mock` with no prompt,
in tmux, from a project folder outside the checkout, with the private home the target prepares (no login, trust or
first-run screen may stand in the way); a prompt typed, the mock's tool call run, the answer on screen, then /quit."""

import pytest
from interactive_checks import assert_interactive_run
from terminal import ANSWER_LINE, interactive_session

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function for the gemini terminal test"
# Should the agent ask before it runs the mock's `echo` (it did not, here), its first choice allows it once.
APPROVALS = ("Allow execution",)


def test_a_typed_prompt_its_tool_call_and_the_answer_are_recorded(tmp_path, gemini_program):
    project = tmp_path / "project"
    project.mkdir()
    run, screen = interactive_session("gemini", gemini_program, project, tmp_path / "data", PROMPT, "/quit", *APPROVALS)
    assert ANSWER_LINE in screen
    manifest = assert_interactive_run(run, "gemini", PROMPT, "run_shell_command")
    assert manifest["agent"]["cwd"] == str(project.resolve())
