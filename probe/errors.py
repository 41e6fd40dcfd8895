"""The project's user-facing errors and the one place they become an exit code."""

import sys
from collections.abc import Callable


class ProbeError(Exception):
    """A problem the user can fix; its message is the one line they read."""

    exit_code = 2


class TargetError(ProbeError):
    """A target file is missing, unknown or invalid."""


class RunError(ProbeError):
    """A run folder or capture file cannot be found or read."""


class ToolMissing(ProbeError):
    """A program the run needs (mitmdump, npm, the agent) is not available."""


class ProxyError(ProbeError):
    """The proxies could not start or stopped unexpectedly."""


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Call `main(argv)` and turn a ProbeError into one line on stderr plus its exit code."""
    try:
        return main(argv)
    except ProbeError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
