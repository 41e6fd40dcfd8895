"""What a run's manifest says, read once for report.md's header and the viewer's Run panel. The manifest comes
with the run, as untrusted as the capture: any field may be missing or of any JSON type."""

from dataclasses import dataclass
from typing import Any

# What a run's status means for what its report covers: report.md and report.html say the same.
STATUS_NOTES = {
    "running": "this run is marked running, so the report covers only what was captured before it stopped",
    "interrupted": "this run is marked interrupted, so the report covers only what was captured before it stopped",
    "proxy-failed": "the proxies stopped during the run, so exchanges after that were not recorded (see proxies.log)",
}


@dataclass(frozen=True)
class ManifestFacts:
    """The manifest's fields as it holds them, each of any JSON type; the writers decide how each is shown."""

    target: Any
    status: Any
    exit_code: Any
    agent_version: Any
    status_note: str | None  # our sentence for a status that needs one (STATUS_NOTES)
    note: Any  # None: no note
    recording_errors: Any  # None: not recorded
    prompt: Any  # None: no prompt
    # How the agent was run: prompt, command or interactive; with its own home or a private one; the arguments
    # given after `--`. None: not recorded (a run made before these were).
    session: Any = None
    home: Any = None
    agent_args: Any = None
    login: Any = None  # the target's login the agent was asked to use (agent.logins); None: a target without logins
    # The logins its requests carried, with their counts ({}: none carried one); None: not looked for (a target
    # whose logins do not say how they show, or a run read without its target).
    login_seen: Any = None
    imported: Any = None  # an imported run's source, format and what the format lost; None: recorded here


def manifest_facts(manifest: dict | None, seen=None) -> ManifestFacts | None:
    """The facts of a run's manifest; None when there is no manifest, or it holds nothing. `seen` is what the
    analysis found of the target's logins in the requests (probe.runs.login_marks.LoginsSeen): when it looked, it
    is taken over what the manifest recorded, which an older or imported run may lack."""
    if not isinstance(manifest, dict) or not manifest:
        return None
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    status = manifest.get("status")
    return ManifestFacts(
        target=manifest.get("target"),
        status=status,
        exit_code=manifest.get("agent_exit_code"),
        agent_version=agent.get("version"),
        status_note=STATUS_NOTES.get(status) if isinstance(status, str) else None,
        note=manifest.get("note") or None,
        recording_errors=manifest.get("recording_errors"),
        prompt=manifest.get("prompt") or None,
        session=manifest.get("session"),
        home=manifest.get("home"),
        agent_args=manifest.get("agent_args") or None,
        login=manifest.get("login"),
        login_seen=seen.recorded() if seen is not None and seen.declared else manifest.get("login_seen"),
        imported=manifest.get("imported"),
    )


def session_words(facts: ManifestFacts) -> list[tuple[str, Any]]:
    """What the manifest says of how the agent was run, as (what, value) pairs, only those it records."""
    said = [("session", facts.session), ("login", login_said(facts.login, facts.login_seen)), ("home", facts.home)]
    said += [("agent arguments", facts.agent_args)]
    return [(what, value) for what, value in said if value is not None]


def login_said(asked: Any, seen: Any) -> Any:
    """The login as the requests showed it: `oauth`, `oauth (asked for api-key)`, `oauth ×12, api-key ×1 (asked
    for api-key)`, `not seen (asked for api-key)`; the login asked for alone when nothing was looked for, and the
    manifest's value as it is when it is not a mapping of names to counts."""
    if seen is None:
        return asked
    if not isinstance(seen, dict) or not all(isinstance(k, str) and type(v) is int for k, v in seen.items()):
        return seen  # (shown as the JSON it is)
    names = list(seen)
    if names == [asked]:
        return asked
    said = ", ".join(f"{name} ×{count:,}" for name, count in seen.items()) if len(names) > 1 else "not seen"
    said = names[0] if len(names) == 1 else said
    return f"{said} (asked for {asked})" if isinstance(asked, str) else said
