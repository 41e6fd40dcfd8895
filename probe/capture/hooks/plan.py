"""--hooks for one run: the target's switch (agent.hooks) laid over the agent's command once its arguments are
filled, the recorder's log in the run folder, and the manifest's `hooks`."""

import json
import shlex
import sys
from pathlib import Path

from probe.capture.rules_cache import cache_arguments
from probe.common.errors import one_line
from probe.runs.targets import Target
from probe.runs.telemetry_switch import HooksSwitch

FILE = "hooks.jsonl"
PIECE = 1024 * 1024  # bytes of hooks.jsonl held at once while its lines are counted for the manifest


class AgentHooks:
    """One run's hooks: `state` on, off or none (with `why`); on, the recorder's log once the run folder exists."""

    def __init__(self, state: str, why: str = "", switch: HooksSwitch | None = None):
        self.state = state
        self.why = why
        self.switch = switch
        self.log: Path | None = None

    def command(self) -> str:
        """The recorder as a shell command: this interpreter, which has agent-probe, and -P, so that a folder named
        probe in the agent's working folder is not what it imports; with this process's cache, where the secret
        rules are kept compiled (a private home's is new: the first event then took 8 s, listing them again)."""
        command = [sys.executable, "-P", "-m", "probe.capture.hooks.record", "--log", str(self.log), *cache_arguments()]
        return shlex.join(command)

    def given(self, arguments: list[str], run: Path) -> list[str]:
        """The agent's filled arguments with the recorder's hooks in the settings they give: merged into the last
        settings option that holds a JSON object (the agent takes only the last), else added after them."""
        if self.state != "on":
            return arguments
        self.log = run.resolve() / FILE
        switch = self.switch
        hooks = {event: [switch.entry_for(self.command())] for event in switch.events}
        places = [index + 1 for index, text in enumerate(arguments[:-1]) if text == switch.option]
        if places:
            try:
                settings = json.loads(arguments[places[-1]])
            except ValueError:
                settings = None
            if isinstance(settings, dict) and not isinstance(settings.get(switch.key, {}), dict):
                settings = None
            if isinstance(settings, dict):
                settings[switch.key] = settings.get(switch.key, {}) | hooks
                return arguments[: places[-1]] + [json.dumps(settings)] + arguments[places[-1] + 1 :]
        return [*arguments, switch.option, json.dumps({switch.key: hooks})]

    def stop(self, manifest: dict | None) -> None:
        """The manifest, if the run got one, says whether the events were recorded and how many."""
        if manifest is None:
            return
        said: dict = {"recorded": self.state == "on"}
        if self.state == "on":
            said["events"] = counted(self.log)
        else:
            said["why"] = self.why
        manifest["hooks"] = said


def counted(log: Path | None) -> int:
    """The lines of the recorder's log (0 if none came), read a piece at a time."""
    lines = 0
    try:
        with log.open("rb") as file:
            while piece := file.read(PIECE):
                lines += piece.count(b"\n")
    except (OSError, AttributeError):
        return lines
    return lines


def plan_hooks(target: Target, wanted: bool | None, telemetry: str, agent: bool, agent_args=()) -> AgentHooks:
    """What this run does with the agent's hooks, decided before anything starts: `wanted` True or False as asked
    (--hooks, --no-hooks), None to follow the agent's own telemetry (`telemetry`, its state: on or not). An asked
    --hooks that cannot be is said in one line."""
    planned = planned_hooks(target, wanted, telemetry, agent, agent_args)
    if wanted is True and planned.state != "on":
        print(one_line(f"hooks: not recorded in this run: {planned.why}"), file=sys.stderr)
    return planned


def planned_hooks(target: Target, wanted: bool | None, telemetry: str, agent: bool, agent_args) -> AgentHooks:
    if not agent:
        return AgentHooks("none", "the run has no agent of the target's (--command, or proxies only)")
    if target.hooks is None:
        return AgentHooks("none", f"{target.name}'s target file declares no agent.hooks")
    if wanted is False or (wanted is None and telemetry != "on"):
        return AgentHooks("off", "switched off for this run (--no-hooks, or the agent's telemetry is off)")
    if target.hooks.option in agent_args:
        return AgentHooks("off", f"the {target.hooks.option} given after -- takes the place of the run's")
    return AgentHooks("on", switch=target.hooks)
