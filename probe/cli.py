"""The argument parser every script uses: a bad argument is one `error:` line, like every other error."""

import argparse
import math

from probe.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse would print its usage too, then exit: one line, through run_main, is what every error gets.
        raise UsageError(f"{message} (see {self.prog} --help)")


def seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse's float takes nan, inf and -1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def not_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text
