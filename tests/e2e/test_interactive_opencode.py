"""opencode's own interactive UI, recorded: `python -m probe.pipeline --target opencode --upstream mock` with no prompt,
in tmux, from a project folder outside the checkout, with the private home the target prepares (no login, trust or
first-run screen may stand in the way); a prompt typed, the mock's tool call run, the answer on screen, then /exit."""

import pytest
from interactive_checks import assert_interactive_run
from terminal import ANSWER_LINE, interactive_session

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function for the opencode terminal test"
# Should the agent ask before it runs the mock's `echo` (it did not, here), its first choice allows it once.
APPROVALS = ("Permission required", "Allow once")


def test_a_typed_prompt_its_tool_call_and_the_answer_are_recorded(tmp_path, opencode_program):
    project = tmp_path / "project"
    project.mkdir()
    run, screen = interactive_session(
        "opencode", opencode_program, project, tmp_path / "data", PROMPT, "/exit", *APPROVALS
    )
    assert ANSWER_LINE in screen
    manifest = assert_interactive_run(run, "opencode", PROMPT, "bash")
    assert manifest["agent"]["cwd"] == str(project.resolve())
