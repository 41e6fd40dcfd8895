"""--agent-telemetry for one run: the target's switch laid over it, the receiver started and stopped around the
agent, what of the user's own telemetry set-up the run overrides, and the manifest's `account.telemetry`."""

import dataclasses
import json
import os
import sys
import tomllib
from pathlib import Path

from probe.capture.account.receiver import Receiver
from probe.common.bounded_read import read_at_most
from probe.common.errors import one_line
from probe.runs.targets import Target
from probe.runs.telemetry_switch import TelemetrySwitch, UserSettings

FILE = "telemetry.jsonl"
MAX_SETTINGS = 1_000_000  # bytes of a user's settings file read for the override line; more is not read
# The target's groups of variables laid over `env` (probe.capture.environment.target_environment).
LATER_ENV = ("private_env", "quiet_env", "mock_env")


class AgentTelemetry:
    """One run's telemetry: `state` on, off or none (with `why`), its receiver while the agent runs."""

    def __init__(self, state: str, why: str = "", switch: TelemetrySwitch | None = None, overrides=()):
        self.state = state
        self.why = why
        self.switch = switch
        self.overrides = list(overrides)
        self.receiver: Receiver | None = None
        self.endpoint: str | None = None

    def switched_on(self, target: Target) -> Target:
        """The target with the switch laid over it: its variables over the target's (over any group that would be
        laid after them: a quiet_env that switches the same telemetry off), its arguments after the command's (as a
        login's), its files in the private home only."""
        if self.state != "on":
            return target
        switch = self.switch
        later = {group: without(getattr(target, group), switch.env) for group in LATER_ENV}
        return dataclasses.replace(
            target,
            **later,
            env=target.env | switch.env,
            command=target.command + switch.arguments if target.command else target.command,
            interactive=target.interactive + switch.arguments if target.interactive else target.interactive,
            files=target.files | switch.files,
        )

    def start(self, run: Path) -> None:
        if self.state == "on":
            self.receiver = Receiver(run / FILE).start()
            self.endpoint = self.receiver.url

    def values(self) -> dict[str, str]:
        """`{telemetry}`, the receiver's base URL with the run's token as its path, for the target's placeholders."""
        return {"telemetry": self.receiver.endpoint} if self.receiver else {}

    def secrets(self) -> list[str]:
        """The run's token: masked wherever the run records what the agent was given (its argv, its variables)."""
        return [self.receiver.token] if self.receiver else []

    def stop(self, manifest: dict | None) -> None:
        """After the agent has exited: what it sent on its way out has landed (the exports still being sent are
        waited for, a few seconds at most), and the manifest, if the run got one, says what arrived."""
        if self.receiver is not None:
            self.receiver.stop()
        if manifest is not None:
            manifest.setdefault("account", {})["telemetry"] = self.summary()

    def summary(self) -> dict:
        said: dict = {"state": self.state}
        if self.state != "on":
            said["why"] = self.why
        else:
            said["endpoint"] = self.endpoint
            said["exports"] = self.receiver.exports if self.receiver else 0
            said["records"] = self.receiver.records if self.receiver else 0
            said["dropped"] = self.receiver.totals.dropped if self.receiver else 0
            said["refused"] = self.receiver.refused if self.receiver else 0
        said["overrides"] = self.overrides
        return said


def without(variables: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in variables.items() if name not in names}


def plan_telemetry(target: Target, wanted: bool | None, agent: bool, home: str, environ=None) -> AgentTelemetry:
    """What this run does with the agent's own telemetry, decided before anything starts; the overrides are said
    here in one line, and so is an --agent-telemetry that cannot be. `wanted`: True or False as asked, None where it
    is on by default (probe.capture.options)."""
    planned = planned_telemetry(target, wanted, agent, home, environ)
    if wanted is True and planned.state != "on":
        print(one_line(f"agent telemetry: not recorded in this run: {planned.why}"), file=sys.stderr)
    return planned


def planned_telemetry(target: Target, wanted: bool | None, agent: bool, home: str, environ=None) -> AgentTelemetry:
    switch = target.telemetry
    if not agent:
        return AgentTelemetry("none", "the run has no agent of the target's (--command, or proxies only)")
    if switch is None:
        return AgentTelemetry("none", f"{target.name}'s target file declares no agent.telemetry")
    if switch.none:
        return AgentTelemetry("none", switch.none)
    if wanted is None and switch.off_by_default:  # on by default here, but not for this agent
        return AgentTelemetry("off", f"off by default for {target.name}: {switch.off_by_default}")
    if wanted is None and home == "own":
        # The user's own set-up is used as it is unless they ask: switched on, an agent may also change their home
        # (gemini-cli 0.61.0 then writes ~/.gemini/installation_id).
        return AgentTelemetry("off", "off by default with your own home: --agent-telemetry switches it on")
    if wanted is False:
        return AgentTelemetry("off", "switched off for this run (--no-agent-telemetry, or the default)")
    overrides = overridden(switch, dict(os.environ) if environ is None else environ, home)
    if overrides:
        print(
            one_line(f"agent telemetry: this run sends it to agent-probe instead of {'; '.join(overrides)}"),
            file=sys.stderr,
        )
    return AgentTelemetry("on", switch=switch, overrides=overrides)


def overridden(switch: TelemetrySwitch, environ: dict[str, str], home: str) -> list[str]:
    """What of the user's own set-up already sends the agent's telemetry somewhere and is overridden for this run:
    their variables (either home), their settings files (read only, and only with --home own, the only home where
    the agent reads them)."""
    # Named, not quoted: an endpoint's URL or headers may hold a token.
    found = [f"${name}" for name in switch.user_env if environ.get(name)]
    if home == "own":
        found += [said for said in (settings_said(entry, environ) for entry in switch.user_settings) if said]
    return found


def settings_said(entry: UserSettings, environ: dict[str, str]) -> str | None:
    """`key in file` if the user's file sets it; None if the file (a regular one) or the key is not there."""
    path = Path(entry.file).expanduser()
    if entry.moved_by and environ.get(entry.moved_by):
        path = Path(environ[entry.moved_by]) / path.name
    if not path.is_file():
        return None
    try:
        data = read_at_most(path, MAX_SETTINGS)
    except OSError:
        return None
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
        value = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    for key in entry.key.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return f"{entry.key} in {path}" if value not in (None, False, "", {}) else None
