"""The project's user-facing errors, the one place they become an exit code, and how text is made safe to print.

Messages, reports and outputs quote names and values from captures, run folders and target files, which an agent,
a model, an upstream or an attacker may have written. Printed as they are, an ESC (or a C1 control such as CSI,
`\\x9b`) starts a sequence that recolours the terminal, clears the screen, sets the window title or makes a
hyperlink (OSC 8); BEL rings; a carriage return or a backspace overwrites what was printed before; a bidirectional
override or isolate reorders the rest of the line, so that `gnp.exe` reads as `exe.png`; a zero-width or tag
character hides text. `one_line` and `inert_lines` write each of these as Python writes it in a string literal
(`\\x1b`, `\\u202e`), visible and inert (the rest of a sequence is plain text then), and `inert_json` as JSON's own
escape. Joiners (U+200C, U+200D) are kept: emoji and several scripts need them, and they hide nothing. (This lives
here, not in a module of its own, because the errors are printed with it and stand at the bottom of every import.)
"""

import os
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


# C0 controls but the tab, the newline and the carriage return, which `inert_lines` keeps; DEL and the C1 controls;
# the line and paragraph separators; lone surrogates (which no terminal can show).
CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
# Bidirectional marks, embeddings, overrides and isolates: the Arabic letter mark, LRM and RLM, LRE to RLO, LRI to
# PDI (with the word joiner, the invisible operators and the deprecated format characters of the same block).
BIDIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2060-\u206f"
# Characters that show nothing: the zero-width space, the byte order mark, interlinear annotation marks, tags.
INVISIBLE = "\u200b\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f"

UNSAFE = re.compile(f"[\t\n\r{CONTROLS}{BIDIRECTIONAL}{INVISIBLE}]")
UNSAFE_IN_LINES = re.compile(f"\r(?!\n)|[{CONTROLS}{BIDIRECTIONAL}{INVISIBLE}]")


def one_line(text: str) -> str:
    """Text safe to print as one line (a field, a cell, a message): every unsafe character, line breaks and tabs
    too, shown as its escape."""
    return UNSAFE.sub(escaped, text) if UNSAFE.search(text) else text


def inert_lines(text: str) -> str:
    """Text safe to print whole (a diff, a CSV value, a report): every unsafe character shown as its escape, but
    for newlines, tabs and CRLF line endings."""
    return UNSAFE_IN_LINES.sub(escaped, text) if UNSAFE_IN_LINES.search(text) else text


def escaped(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def inert_json(text: str) -> str:
    """JSON text with every unsafe character written as a JSON escape (`\\u202e`): the same JSON, safe to print."""
    return UNSAFE.sub(json_escaped, text) if UNSAFE.search(text) else text


def json_escaped(match: re.Match) -> str:
    units = match.group().encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[index : index + 2], 'big'):04x}" for index in range(0, len(units), 2))


def warn(message: str) -> None:
    print(f"warning: {one_line(message)}", file=sys.stderr)


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Call `main(argv)` and turn a ProbeError into one line on stderr plus its exit code."""
    # A shell starts a background job with Ctrl-C ignored, and Python keeps that: a capture takes the signal
    # back once it runs, but a Ctrl-C before then (while an agent is installed, say) would be lost. Taken here,
    # as early as a script can.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # JSON is read down to 1,024 levels (probe.common.fastjson.DEPTH_LIMIT, orjson's own limit), and a walk of it
    # takes a few frames a level: Python's default of 1,000 frames would stop a walk of a hostile capture half-way.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 8192))
    try:
        return main(argv)
    except ProbeError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output (head, less, grep -q) stopped reading: it has what it wanted, so this is no error
        # to show. Standard output points at /dev/null from here, or Python's flush at exit would fail once more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE  # what a shell reports of a program the closed pipe stopped
