"""What a recording without an agent says as it starts: its proxies, and where it records."""

from pathlib import Path

from probe.common.errors import one_line
from probe.common.paths import display


def announce(proxy_lines: list[str], run: Path) -> None:
    """Each proxy (RunningProxies.describe) on a line of its own, then the run folder; on stdout, for the user."""
    for line in proxy_lines:
        print(one_line(line), flush=True)
    print(f"recording into {display(run)}; Ctrl-C to stop", flush=True)
