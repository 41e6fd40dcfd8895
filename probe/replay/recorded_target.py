"""The target a recorded run names and the login it was recorded with, as a replay or a resend finds them: by name,
among targets/ only (a run folder comes from anyone)."""

from pathlib import Path

from probe.common.errors import UsageError
from probe.common.paths import display
from probe.runs.targets import Target, known_targets, load_target, named_by_data


def recorded_login(manifest: dict, target) -> str | None:
    """The login the run was recorded with, if it is one the target lists (a manifest may say anything)."""
    login = manifest.get("login")
    return login if isinstance(login, str) and login in [known.name for known in target.logins] else None


def recorded_target(run: Path, manifest: dict) -> Target:
    """The target the run's manifest names, found by its name among targets/ only, as analysis finds it (a run
    folder comes from anyone: what it says is never a file to read, nor a name outside targets/)."""
    named = manifest.get("target")
    if named is None:
        raise UsageError(f"{display(run)}: its manifest names no target: give --target NAME or FILE")
    name = named_by_data(named)
    if name is None:
        raise UsageError(
            f"{display(run)}: its manifest names target {repr(named)[:80]}, which is not a target in targets/ (a run "
            f"names its target only by name; known: {', '.join(known_targets()) or 'none'}): give --target NAME or FILE"
        )
    return load_target(name)
