"""A target's `agent.hooks`: how the run adds its recorder to the agent's own hooks (--hooks), as settings given on
the agent's command line."""

import re
from dataclasses import dataclass

KEYS = {
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
    check.mapping(declared, KEYS, where)
    if not declared["option"].startswith("-"):
        raise check.fail(f"{where}.option", "expected a command-line option, like --settings")
    if not declared["events"] or not all(EVENT.match(event) for event in declared["events"]):
        raise check.fail(f"{where}.events", "expected the names of the agent's hook events")
    if HOOK not in repr(declared["entry"]):
        raise check.fail(f"{where}.entry", 'expected "{hook}" where the recorder\'s command goes')
    return HooksSwitch(declared["option"], declared["key"], tuple(declared["events"]), dict(declared["entry"]))
