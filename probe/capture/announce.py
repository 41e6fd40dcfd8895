"""What a recording says as it starts: its agent's program, or, without an agent, its proxies and where it records."""

import sys
from pathlib import Path

from probe.common.errors import one_line, warn
from probe.common.paths import display


def announce(proxy_lines: list[str], run: Path) -> None:
    """Each proxy (RunningProxies.describe) on a line of its own, then the run folder; on stdout, for the user."""
    for line in proxy_lines:
        print(one_line(line), flush=True)
    print(f"recording into {display(run)}; Ctrl-C to stop", flush=True)


def announce_agent(described: str, problem: str | None) -> None:
    """The agent's program in one line (probe.capture.agents.Agent.describe), after a warning when the one on PATH
    is not the version the target pins (agents.path_warning)."""
    if problem:
        warn(problem)
    print(described, file=sys.stderr)
