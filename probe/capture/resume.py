"""Going on with an agent's session kept with an earlier run (--resume RUN): the run checked before anything starts,
a copy of its kept state given to the new run's agent, and each run's own session kept for a later one."""

import dataclasses
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from probe.common.errors import RunError, UsageError
from probe.common.paths import display
from probe.runs.folders import being_recorded, read_manifest, resolve_run
from probe.runs.placeholders import AGENTS, environment_values
from probe.runs.targets import Target, fill_placeholders

KEPT = "agent-session"  # a session kept in the private home is copied here, then scrubbed with the run's other files
FIELD = "session_kept"  # the manifest's path of the kept state, relative to the run folder
# A session's name goes into the agent's argv: a name a run folder's files give must not read as an option.
SESSION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class Origin:
    """The run a new one resumes: its folder, its kept state folder and the session's name in it."""

    run: Path
    state: Path
    session: str


def resumed_target(
    target: Target, spec: str, interactive: bool, command: str | None, home: str
) -> tuple[Target, Origin]:
    """The run `spec` names, checked (a run of this target that kept a session), and the target whose command (or
    interactive session) goes on with that session; a one-line error, exit 2, before anything starts."""
    if command is not None:
        raise UsageError("--resume goes on with the target's agent's session: it does not go with --command")
    if target.resume is None:
        raise UsageError(f"{target.name} cannot resume a session: its target file declares no agent.resume")
    template = target.resume.interactive if interactive else target.resume.command
    if not template:
        way = "its interactive session" if interactive else "a prompt"
        raise UsageError(f"{target.name} cannot resume a session with {way} (agent.resume in its target file)")
    if home != "private":
        raise UsageError("--resume gives the agent a copy of the kept session in a private home: not with --home own")
    try:
        run = resolve_run(spec, target.name)
    except RunError as error:
        raise UsageError(f"--resume: {error}") from None
    manifest = read_manifest(run)
    if manifest is None or manifest.get("target") != target.name:
        raise UsageError(f"--resume {spec}: {display(run)} is not a run of {target.name}")
    if being_recorded(run):
        raise UsageError(f"--resume {spec}: {display(run)} is still being recorded")
    state = kept_state(run, manifest.get(FIELD))
    session = newest_session(state, target.resume.session) if state is not None else None
    if session is None:
        raise UsageError(f"--resume {spec}: {display(run)} kept no session of {target.name}'s to go on with")
    resumed = dataclasses.replace(target, **{"interactive" if interactive else "command": template})
    return resumed, Origin(run, state, session)


def kept_state(run: Path, named: object) -> Path | None:
    """The state folder a run's manifest says it kept, if it is a real folder inside the run (a run folder comes from
    anyone: its manifest must not point the copy elsewhere)."""
    if not isinstance(named, str) or not named or PurePosixPath(named).is_absolute() or ".." in Path(named).parts:
        return None
    state = run / named
    inside = state.resolve().is_relative_to(run.resolve()) and not state.is_symlink()
    return state if inside and state.is_dir() else None


def newest_session(state: Path, pattern: str) -> str | None:
    """The name (without its extension) of the newest regular file `pattern` finds in the state folder."""
    found = [path for path in state.glob(pattern) if path.is_file() and not path.is_symlink()]
    found = [path for path in found if SESSION_NAME.match(path.stem)]
    return max(found, key=lambda path: path.stat().st_mtime).stem if found else None


def copy_state(source: Path, destination: Path) -> None:
    """Copy a state folder, its regular files and folders only: a link in it could name anything on this machine."""

    def links_and_devices(folder: str, names: list[str]) -> list[str]:
        paths = [Path(folder, name) for name in names]
        return [path.name for path in paths if path.is_symlink() or not (path.is_file() or path.is_dir())]

    shutil.copytree(source, destination, ignore=links_and_devices, dirs_exist_ok=True)
    os.chmod(destination, 0o700)


class SessionState:
    """The agent's state folder that holds its sessions (agent.resume.state), in a run with a private home: given a
    copy of the origin's (with --resume) before the agent starts, and kept with the run when it ends."""

    def __init__(self, target: Target, origin: Origin | None):
        self.target = target
        self.origin = origin
        self.folder: Path | None = None

    def place(self, values: dict[str, str], env: dict[str, str], home: Path, recording) -> None:
        """Work out the folder for this run (`values` and the agent's `env` fill its placeholders) and, when the run
        resumes another, copy that run's state there and name the origin in the manifest; `values` gets
        `{session}`."""
        text = self.target.resume.state
        where = "agent.resume.state"
        filled = fill_placeholders(text, values | environment_values(text, env, self.target.name, where, AGENTS))
        folder = Path(filled).resolve()
        if not any(folder.is_relative_to(place.resolve()) for place in (recording.run, home)):
            raise RunError(f"target {self.target.name}: agent.resume.state is {filled}, outside the run's home")
        self.folder = folder
        if self.origin is not None:
            copy_state(self.origin.state, folder)
            values["session"] = self.origin.session
            recording.manifest["resumes"] = {"run": str(self.origin.run.resolve()), "session": self.origin.session}

    def keep(self, recording) -> None:
        """Record where the run's session is kept: where it is, in the run folder, or a copy of it there (before the
        run's files are scrubbed and its private home removed)."""
        if self.folder is None or not self.folder.is_dir():
            return
        run = recording.run.resolve()
        if not self.folder.is_relative_to(run):
            copy_state(self.folder, run / KEPT)
            self.folder = run / KEPT
        recording.manifest[FIELD] = str(self.folder.relative_to(run))


def after_run(target: Target, run: Path, kept: bool) -> str:
    """What an agent run with a private home says last, instead of the agent's own resume hint, which names a state
    folder (the run's) that the agent will not be given again by itself."""
    if kept:
        return f"go on with this session with --resume {display(run)} (the agent's own resume hint cannot reach it)"
    return (
        f"{target.name} cannot resume this session: it was kept in the run's private home, now removed, and its target "
        "file declares no agent.resume (the agent's own resume hint cannot reach it)"
    )
