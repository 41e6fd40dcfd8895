"""A target's `agent.telemetry`: how its agent's own OpenTelemetry is pointed at the run's receiver
(--agent-telemetry), or why it has none; and its `agent.hooks`: how the run adds its recorder to the agent's own hook
events (--hooks, on with the telemetry), as settings given on the agent's command line."""

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

KEYS = {
    # Why the agent has no telemetry of its own to switch on, in one line: the only key then.
    "none": ("string", False),
    # Set in the agent's environment, over the user's: {telemetry} is the receiver's base URL with the run's token as
    # its path, http://127.0.0.1:PORT/TOKEN (each signal's path goes after it: {telemetry}/v1/logs).
    "env": ("string mapping", False),
    # Added after the agent's command and its interactive session's (codex's -c otel.…).
    "arguments": ("list of strings", False),
    # Written into a private home only, like agent.files: the user's own home is never written to.
    "files": ("mapping", False),
    # The user's variables that, when set, already send the agent's telemetry somewhere: the run says it overrides them.
    "user_env": ("list of strings", False),
    # The user's own settings (read, never written) that may already send it somewhere, with --home own.
    "user_settings": ("list", False),
    # Why it stays off where it would be on by default (probe.capture.options.telemetry_of), in one line: switching it
    # on changes what the agent sends. --agent-telemetry still turns it on.
    "off_by_default": ("string", False),
}
SETTINGS_KEYS = {
    "file": ("string", True),  # ~/…, a .toml or .json file
    "key": ("string", True),  # the dotted path of the table or value that switches it on: otel, telemetry.enabled
    "moved_by": ("string", False),  # a variable that, when set, names the folder that holds the file instead
}
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class UserSettings:
    file: str
    key: str
    moved_by: str = ""


@dataclass(frozen=True)
class TelemetrySwitch:
    """`none` says why there is nothing to switch on; else env, arguments and files do it."""

    none: str = ""
    env: dict[str, str] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    user_env: tuple[str, ...] = ()
    user_settings: tuple[UserSettings, ...] = ()
    off_by_default: str = ""


def parse_telemetry(declared: object, check, agent_files) -> TelemetrySwitch:
    """`agent.telemetry`, checked by the target file's `check` (probe.runs.target_checks.Checker)."""
    where = "agent.telemetry"
    check.mapping(declared, KEYS, where)
    if "none" in declared:
        if len(declared) > 1:
            raise check.fail(where, "none says there is no telemetry to switch on: it goes alone")
        if not declared["none"].strip() or "\n" in declared["none"]:
            raise check.fail(f"{where}.none", "expected one line saying why")
        return TelemetrySwitch(none=declared["none"].strip())
    if not any(key in declared for key in ("env", "arguments", "files")):
        raise check.fail(where, "expected env, arguments or files that switch it on (or none: why there is none)")
    for name in list(declared.get("env", {})) + declared.get("user_env", []):
        if not ENV_NAME.match(name):
            raise check.fail(where, f"{name!r}: expected a variable name (letters, digits, _)")
    if "off_by_default" in declared and (not declared["off_by_default"].strip() or "\n" in declared["off_by_default"]):
        raise check.fail(f"{where}.off_by_default", "expected one line saying why")
    settings = []
    for index, entry in enumerate(declared.get("user_settings", [])):
        place = f"{where}.user_settings[{index}]"
        check.mapping(entry, SETTINGS_KEYS, place)
        path = PurePosixPath(entry["file"])
        if not entry["file"].startswith("~/") or ".." in path.parts or path.suffix not in (".toml", ".json"):
            raise check.fail(f"{place}.file", "expected ~/…, a .toml or .json file of the user's home")
        if not DOTTED.match(entry["key"]):
            raise check.fail(f"{place}.key", "expected a dotted path of keys, like otel or telemetry.enabled")
        if entry.get("moved_by") and not ENV_NAME.match(entry["moved_by"]):
            raise check.fail(f"{place}.moved_by", "expected a variable name (letters, digits, _)")
        settings.append(UserSettings(entry["file"], entry["key"], entry.get("moved_by", "")))
    return TelemetrySwitch(
        env=dict(declared.get("env", {})),
        arguments=tuple(declared.get("arguments", ())),
        files=agent_files(declared.get("files", {}), check, f"{where}.files"),
        user_env=tuple(declared.get("user_env", ())),
        user_settings=tuple(settings),
        off_by_default=declared.get("off_by_default", "").strip(),
    )


HOOKS_KEYS = {
    # The option that takes settings as JSON text; the hooks are merged into the last one the command already gives
    # (the agent takes only the last), else added after the command with it.
    "option": ("string", True),
    # The key of the settings that holds the hooks, by event.
    "key": ("string", True),
    # The events the recorder is added to, in the agent's own names.
    "events": ("list of strings", True),
    # One event's entry, in which the string "{hook}" is the recorder's shell command.
    "entry": ("mapping", True),
}
EVENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
HOOK = "{hook}"


@dataclass(frozen=True)
class HooksSwitch:
    option: str
    key: str
    events: tuple[str, ...]
    entry: dict

    def entry_for(self, command: str) -> dict:
        """One event's entry with the recorder's command in place of every "{hook}"."""
        return filled(self.entry, command)


def filled(value, command: str):
    if isinstance(value, dict):
        return {key: filled(item, command) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, command) for item in value]
    return command if value == HOOK else value


def parse_hooks(declared: object, check) -> HooksSwitch:
    """`agent.hooks`, checked by the target file's `check` (probe.runs.target_checks.Checker)."""
    where = "agent.hooks"
    check.mapping(declared, HOOKS_KEYS, where)
    if not declared["option"].startswith("-"):
        raise check.fail(f"{where}.option", "expected a command-line option, like --settings")
    if not declared["events"] or not all(EVENT.match(event) for event in declared["events"]):
        raise check.fail(f"{where}.events", "expected the names of the agent's hook events")
    if HOOK not in repr(declared["entry"]):
        raise check.fail(f"{where}.entry", 'expected "{hook}" where the recorder\'s command goes')
    return HooksSwitch(declared["option"], declared["key"], tuple(declared["events"]), dict(declared["entry"]))
