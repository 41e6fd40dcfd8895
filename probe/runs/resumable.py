"""A target's `agent.resume`: where its agent keeps its sessions, and the commands that go on with one (--resume)."""

from dataclasses import dataclass
from pathlib import PurePosixPath

KEYS = {
    "state": ("string", True),
    "session": ("string", True),
    "command": ("list of strings", False),
    "interactive": ("list of strings", False),
}


@dataclass(frozen=True)
class Resume:
    """`state`: the folder of the agent's state that holds its sessions, `{run}/…` or `{env.NAME}/…` (a folder of
    the private home), kept with each run and copied to the same place for a run that resumes it. `session`: a glob
    inside it for a session's file; the newest one's name, without its extension, is `{session}`. `command` and
    `interactive`: the agent's command (and interactive session) that go on with that session, placeholders as in
    agent.command; a run without one of them cannot be resumed that way."""

    state: str
    session: str
    command: tuple[str, ...] = ()
    interactive: tuple[str, ...] = ()


def parse_resume(declared: object, command: list[str] | None, check) -> Resume:
    """`agent.resume`, checked by the target file's `check` (probe.runs.targets.Checker)."""
    if not command:
        raise check.fail("agent.resume", "there is no agent.command whose sessions it could go on with")
    check.mapping(declared, KEYS, "agent.resume")
    state = declared["state"]
    if not state.startswith(("{run}/", "{env.")) or ".." in PurePosixPath(state).parts:
        raise check.fail("agent.resume.state", "expected {run}/… or {env.NAME}/…, a folder of the agent's state")
    session = PurePosixPath(declared["session"])
    if not session.parts or session.is_absolute() or ".." in session.parts:
        raise check.fail("agent.resume.session", "expected a relative glob inside the state folder")
    for key in ("command", "interactive"):
        if key in declared and not declared[key]:
            raise check.fail(f"agent.resume.{key}", "expected at least the program name (or no such key at all)")
        if declared.get(key) and declared[key][0] != command[0]:
            raise check.fail(f"agent.resume.{key}[0]", f"expected agent.command's program, {command[0]}")
    if "command" not in declared and "interactive" not in declared:
        raise check.fail("agent.resume", "expected a command, an interactive one, or both")
    return Resume(
        state, declared["session"], tuple(declared.get("command", ())), tuple(declared.get("interactive", ()))
    )


def resumed_places(resume: dict) -> list[tuple[str, str]]:
    """Where a resumed command's words are written, for the checks of every placeholder in a target."""
    return [(f"agent.resume.{key}", text) for key in ("command", "interactive") for text in resume.get(key, [])]
