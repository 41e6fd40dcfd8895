"""The numbers of a capture's lines that outputs print, sum or turn into dates (times, statuses, sizes), read as
absent where they hold what no recorder writes: a capture may come from anyone, and a time past any date, a status
of 10**20 or a size of -5 would stop an output or mislead it."""

from typing import Any

LATEST = 253_402_300_799  # seconds since the epoch to 9999-12-31 23:59:59 UTC, the last second a date can name
MOST_BYTES = 2**53  # past any body, and any sum of them, that a double holds exactly


def moment(value: Any) -> int | float | None:
    """A time in seconds since the epoch, as the recorder writes it: a number from 0 to LATEST (so not NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if 0 <= value <= LATEST else None


def status(value: Any) -> int | None:
    """An HTTP status: a whole number of three digits."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 999 else None


def byte_count(value: Any) -> int | None:
    """A size in bytes: a whole number from 0 to MOST_BYTES."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_BYTES else None
