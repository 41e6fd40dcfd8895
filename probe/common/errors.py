"""The project's user-facing errors and the one place they become an exit code."""

import re
import signal
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


class UsageError(ProbeError):
    """The command line itself is wrong."""


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Text safe to print as one terminal line: control characters (a newline, an escape sequence that would
    recolour or rewrite the terminal) are shown as escapes. Messages quote names and values from files and
    captures, which anyone may have written."""
    return CONTROL.sub(lambda match: match.group(0).encode("unicode_escape").decode("ascii"), text)


def warn(message: str) -> None:
    print(f"warning: {one_line(message)}", file=sys.stderr)


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Call `main(argv)` and turn a ProbeError into one line on stderr plus its exit code."""
    # A shell starts a background job with Ctrl-C ignored, and Python keeps that: a capture takes the signal
    # back once it runs, but a Ctrl-C before then (while an agent is installed, say) would be lost. Taken here,
    # as early as a script can.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return main(argv)
    except ProbeError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
