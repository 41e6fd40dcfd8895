"""A login's needs (probe.runs.login_needs) checked against the agent's environment and the user's files."""

import os

from probe.common.errors import UsageError
from probe.runs.login_needs import HOMES


def check_requires(target, home: str, agent_env: dict[str, str], environ=None) -> None:
    """The chosen login's `requires` (else the agent's) against the agent's environment and the user's files: a
    login nothing satisfies is one line naming what to set, for the run's home and for the other one."""
    requires = target.login.requires if target.login is not None and target.login.requires else target.requires
    given = dict(environ if environ is not None else os.environ) | agent_env
    ways = [way for way in requires if way.applies(home)]
    if not requires or any(way.met(given) for way in ways):
        return
    who = f"{target.name} --login {target.login.name}" if target.login is not None else target.name
    other = next(name for name in HOMES if name != home)
    elsewhere = " or ".join(way.describe() for way in requires if way.home == other and way.applies(other))
    if ways:
        line = f"{who} needs " + " or ".join(way.describe() for way in ways)
        line += f"; or --home {other}, with {elsewhere}" if elsewhere else ""
    else:
        line = f"{who} cannot sign in with --home {home}: use --home {other}, with {elsewhere}"
    raise UsageError(line)
