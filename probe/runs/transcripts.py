"""A target's `agent.transcript`: where its agent keeps the session file of a run, in a private home and in the
user's own, and which request header names the session on the wire."""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# The transcript readers the capture knows (probe.capture.account.transcript), one per shape of session file.
FORMATS = ("claude-code", "codex", "gemini", "qwen-code")
KEYS = {
    "format": ("string", True),
    "private": ("string or list of strings", False),
    "own": ("string or list of strings", False),
    "own_folder": ("string", False),
    "own_folder_env": ("string", False),
    "session_header": ("string", False),
    "why": ("string", False),
}
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SESSION = "{session}"


@dataclass(frozen=True)
class Transcript:
    """`format`: which reader reads the file. `private`: globs for the run's session files in a private home,
    `{run}/…`, `{agent_home}/…` or `{env.NAME}/…` (a variable the private home sets). `own`: globs inside the
    agent's own state folder, each naming this run's session by `{session}` (in a file's name or a folder's, such
    as a session's folder of sub-agents' files), the id the wire shows in `session_header`; that folder is
    `own_folder_env` where the agent's environment sets it, else `own_folder` (`~/…`). `why`: said in the manifest
    of a run whose transcript is not read (no such glob for its home)."""

    format: str
    private: tuple[str, ...] = ()
    own: tuple[str, ...] = ()
    own_folder: str | None = None
    own_folder_env: str | None = None
    session_header: str | None = None
    why: str = ""


def relative_glob(text: str) -> bool:
    path = PurePosixPath(text)
    return bool(path.parts) and not path.is_absolute() and ".." not in path.parts and "\\" not in text


def globs(declared: dict, key: str) -> tuple[str, ...]:
    """A key that takes one glob or a list of them, as a tuple (empty when not given)."""
    value = declared.get(key, ())
    return (value,) if isinstance(value, str) else tuple(value)


def parse_transcript(declared: object, check) -> Transcript:
    """`agent.transcript`, checked by the target file's `check` (probe.runs.targets.Checker)."""
    check.mapping(declared, KEYS, "agent.transcript")
    if declared["format"] not in FORMATS:
        raise check.fail("agent.transcript.format", f"expected one of: {', '.join(FORMATS)}")
    private = globs(declared, "private")
    for pattern in private:
        start, _, rest = pattern.partition("/")
        if not re.fullmatch(r"\{(run|agent_home|env\.[A-Za-z_][A-Za-z0-9_]*)\}", start) or not relative_glob(rest):
            raise check.fail("agent.transcript.private", "expected {run}/…, {agent_home}/… or {env.NAME}/…, a glob")
    own = globs(declared, "own")
    for pattern in own:
        # {session} in the file's name or a folder's: only the run's own session is ever globbed
        if not relative_glob(pattern) or not any(SESSION in part for part in PurePosixPath(pattern).parts):
            raise check.fail("agent.transcript.own", "expected a relative glob whose path holds {session}")
    if own and ("session_header" not in declared or "own_folder" not in declared):
        raise check.fail("agent.transcript.own", "goes with session_header and own_folder")
    folder = declared.get("own_folder")
    if folder is not None and (not folder.startswith("~/") or not relative_glob(folder[2:]) or "*" in folder):
        raise check.fail("agent.transcript.own_folder", "expected a folder in the user's home, ~/…")
    if not ENV_NAME.match(declared.get("own_folder_env", "HOME")):
        raise check.fail("agent.transcript.own_folder_env", "expected a variable name (letters, digits, _)")
    if not HEADER_NAME.match(declared.get("session_header", "x")):
        raise check.fail("agent.transcript.session_header", "expected a header name")
    if (not private or not own) and not declared.get("why"):
        raise check.fail("agent.transcript.why", "say in one line why a home without a glob is not read")
    return Transcript(
        declared["format"],
        private,
        own,
        folder,
        declared.get("own_folder_env"),
        declared.get("session_header", "").lower() or None,
        declared.get("why", ""),
    )
