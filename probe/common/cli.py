"""The argument parser every script uses: a bad argument is one `error:` line, like every other error."""

import argparse
import math
import re
import sys
from pathlib import Path

from probe.common import npm_names, pypi_names
from probe.common.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse would print its usage too, then exit: one line, through run_main, is what every error gets.
        raise UsageError(f"{message} (see {self.prog} --help)")


class OneWay(argparse.BooleanOptionalAction):
    """--X or --no-X, not both: argparse would take the last, and the run would do what one of them did not ask."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.said: dict[int, str] = {}  # by the namespace being filled in: the form given first

    def __call__(self, parser, namespace, values, option_string=None):
        first = self.said.setdefault(id(namespace), option_string or "")
        if option_string != first:
            parser.error(f"{first} and {option_string} ask for opposite things: give one of them")
        super().__call__(parser, namespace, values, option_string)


def seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse's float takes nan, inf and -1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def port(text: str) -> int:
    """A TCP port number, 0-65535 (0: any free port)."""
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number between 0 and 65535, got {text!r}")
    return int(text)


def delay(text: str) -> float:
    """A finite number, zero or more (argparse's float takes nan, inf and -1)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number, zero or more, got {text!r}")
    return value


def not_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


# A release scenario's name (the scenarios file's `name`, a run manifest's `scenario`): part of run folders' names.
SCENARIO_NAME = re.compile(r"[A-Za-z0-9-]{1,40}", re.ASCII)


def scenario_name(text: str) -> str:
    if not SCENARIO_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a scenario's name, 1 to 40 letters, digits or -, got {text!r}")
    return text


def agent_version(text: str) -> str:
    """A plain version such as 0.166.0: it goes to npm (or pip), which would take a tag, a range, a URL or a path
    too. Which of the two registries' plain versions it must be is checked once the target is known."""
    if not npm_names.is_plain_version(text) and not pypi_names.is_plain_version(text):
        raise argparse.ArgumentTypeError(f"expected a plain version such as 0.166.0, got {text!r}")
    return text


FRESH = "fresh"  # --workdir fresh: a new empty folder for the agent, made and removed by the run


def workdir(text: str) -> str:
    """`fresh`, or an existing folder, made absolute (the agent starts there, whatever this process's folder)."""
    return text if text == FRESH else folder(text)


def folder(text: str) -> str:
    """An existing folder, made absolute."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return str(path.resolve())


MEMORY_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
MEMORY_UNITS |= {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
MEMORY_FLOOR = 128 * 1000**2  # DuckDB's JSON reader alone takes buffers of 32 MiB and more


def memory_size(text: str) -> str:
    """An amount of memory as DuckDB writes it (`2GB`, `512MiB`), at least MEMORY_FLOOR."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*", text)
    unit = MEMORY_UNITS.get(found.group(2).lower()) if found else None
    if unit is None:
        raise argparse.ArgumentTypeError(f"expected an amount of memory such as 2GB or 512MiB, got {text!r}")
    if float(found.group(1)) * unit < MEMORY_FLOOR:
        raise argparse.ArgumentTypeError(f"expected at least 128MB, got {text!r}")
    return found.group(1) + found.group(2)


def request_number(text: str) -> int:
    """A request's number in a run, counted from 1."""
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a request number, 1 or more, got {text!r}")
    return int(text)


INPUT_LIMIT = 16 * 1024 * 1024  # bytes of a file handed to a script (rows, a list): more is no such file


def read_input(name: str) -> str:
    """The text of the file `name` (`-`: standard input), read up to INPUT_LIMIT; a fault is a UsageError in one
    line."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(INPUT_LIMIT + 1)
        else:
            with open(name, "rb") as file:
                data = file.read(INPUT_LIMIT + 1)
    except OSError as error:
        raise UsageError(f"{name}: {error.strerror}") from None
    if len(data) > INPUT_LIMIT:
        raise UsageError(f"{name}: over {INPUT_LIMIT // (1024 * 1024)} MiB")
    return data.decode("utf-8", errors="replace")
