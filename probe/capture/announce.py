"""What a recording says as it starts: the agent's program, and for a recording without an agent its proxies."""

import sys
from pathlib import Path

from probe.capture import agents
from probe.capture.proxies import RunningProxies
from probe.common.errors import one_line, warn
from probe.common.paths import display
from probe.runs.targets import Target


def announce_agent(target: Target, chosen: agents.Agent) -> None:
    """The agent's program in one line, with a warning when the one on PATH is not the version the target pins."""
    problem = agents.path_warning(target, chosen)
    if problem:
        warn(problem)
    print(chosen.describe(), file=sys.stderr)


def announce(proxies: RunningProxies, run: Path) -> None:
    for line in proxies.describe():
        print(one_line(line), flush=True)
    print(f"recording into {display(run)}; Ctrl-C to stop", flush=True)
