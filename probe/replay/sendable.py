"""What of a recorded answer the stand-in may put on the wire. A run folder may come from anyone, so each line's
answer is vetted as it is read: a status HTTP has (an integer from 100 to 599), header names that are HTTP tokens,
header values and a reason that are strings without CR, LF, NUL or another control character, chunks that are
[milliseconds, bytes], WebSocket message times that are numbers. A bad field is left out, with one warning for
the line; an HTTP answer with a status it cannot send cannot be served at all, which is an error. No answer is
paced over more than its own recorded duration, nor over MAX_PACE seconds."""

import math
import re
import reprlib

from probe.common.counting import counted
from probe.common.errors import RunError

MAX_PACE = 300.0  # seconds: the longest one answer takes to send at its recorded pace (as long as a capture waits
# for a silent upstream by default); a chunk recorded later is sent then
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # in a header value or a reason: all but the tab
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110): no colon, space or control
# A bad value as a warning quotes it: cut short, whatever its size (printed inert by whoever prints the warning).
SHOWN = reprlib.Repr()
SHOWN.maxstring = SHOWN.maxother = SHOWN.maxlong = 60
SHOWN.maxlist = SHOWN.maxdict = 4
SHOWN.maxlevel = 3


def vet(entry: dict, line: int, warnings: list[str]) -> None:
    """Take out of one line of a capture (its JSON object, changed in place) what of its answer cannot be sent."""
    response = entry.get("response")
    if isinstance(response, dict):
        current = "schema" in entry and "kind" in entry  # else the original tool's line (probe.read.traffic)
        if entry.get("kind") != "websocket":  # a WebSocket's 101 is the stand-in's own
            check_status(response.get("status" if current else "status_code"), line)
        left_out = reason_left_out(response) + headers_left_out(response) + chunks_left_out(response)
        if left_out:
            warnings.append(f"line {line}: its recorded answer's {', '.join(left_out)}, left out")
    times = message_times_left_out(entry.get("messages"))
    if times:
        warnings.append(f"line {line}: {times} of its WebSocket messages have a time that is not a number, left out")


def check_status(status: object, line: int) -> None:
    """An answer's status must be one HTTP has; None is an exchange that got no answer (it is not served)."""
    if status is None or (isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599):
        return
    raise RunError(
        f"line {line} of the capture: its recorded status {shown(status)} is not an HTTP status (an integer from 100 "
        "to 599): the answer cannot be served"
    )


def reason_left_out(response: dict) -> list[str]:
    reason = response.get("reason")
    if reason is None or (isinstance(reason, str) and not CONTROL.search(reason)):
        return []
    del response["reason"]
    return [f"reason {shown(reason)} (not a string without CR, LF or other control characters)"]


def headers_left_out(response: dict) -> list[str]:
    """Header pairs that are not a token and a string without controls: their count and the first one."""
    headers = response.get("headers")
    if headers is None:
        return []
    pairs = list(headers.items()) if isinstance(headers, dict) else headers if isinstance(headers, list) else None
    if pairs is None:
        del response["headers"]
        return [f"headers {shown(headers)} (not a list of pairs)"]
    kept = [pair for pair in pairs if sendable_header(pair)]
    if len(kept) == len(pairs):
        return []
    bad = next(pair for pair in pairs if not sendable_header(pair))
    response["headers"] = kept
    count = len(pairs) - len(kept)
    return [f"{count} header{'s' if count > 1 else ''} (the first: {shown(bad)}: not a name and a value HTTP can send)"]


def sendable_header(pair: object) -> bool:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        return False
    name, value = pair
    return (
        isinstance(name, str) and isinstance(value, str) and TOKEN.fullmatch(name) is not None
    ) and not CONTROL.search(value)


def chunks_left_out(response: dict) -> list[str]:
    """Chunk entries that are not [milliseconds from 0, bytes from 0] (their bytes are sent with the next)."""
    chunks = response.get("chunks")
    if chunks is None:
        return []
    if not isinstance(chunks, list):
        del response["chunks"]
        return [f"chunks {shown(chunks)} (not a list)"]
    kept = [chunk for chunk in chunks if sendable_chunk(chunk)]
    if len(kept) == len(chunks):
        return []
    bad = next(chunk for chunk in chunks if not sendable_chunk(chunk))
    response["chunks"] = kept
    count = len(chunks) - len(kept)
    return [f"{count} of {counted(len(chunks), 'chunk')} (the first: {shown(bad)}: not [milliseconds, bytes])"]


def sendable_chunk(chunk: object) -> bool:
    if not isinstance(chunk, list) or len(chunk) != 2:
        return False
    at, size = chunk
    return is_time(at) and isinstance(size, int) and not isinstance(size, bool) and size >= 0


def message_times_left_out(messages: object) -> int:
    """How many WebSocket messages had a time (`t`) that is not a number, now taken out (sent at once)."""
    count = 0
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and "t" in message and not is_time(message["t"], negative=True):
            del message["t"]
            count += 1
    return count


def is_time(value: object, negative: bool = False) -> bool:
    """A finite number (not a boolean), zero or more unless `negative` (a clock's reading may be anything)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (negative or value >= 0)
    )


def pace_limit(timing: dict) -> float:
    """Seconds an answer may take to send at its pace: its recorded duration, at most MAX_PACE."""
    start, end = timing.get("start"), timing.get("end")
    if is_time(start, negative=True) and is_time(end, negative=True) and math.isfinite(end - start) and end >= start:
        return min(end - start, MAX_PACE)
    return MAX_PACE


def paced(times: list[float], limit: float, line: int, warnings: list[str]) -> list[float]:
    """The times (seconds after the request) at which to send an answer's parts: none later than `limit`."""
    latest = max(times, default=0.0)
    if latest <= limit + 0.001:  # the capture rounds chunk times to the microsecond
        return times
    warnings.append(
        f"line {line}: its answer is recorded as coming over {latest:,.3f} s, past the {limit:,.3f} s it may take "
        f"(its recorded duration, at most {MAX_PACE:,.0f} s): what came later is sent then"
    )
    return [min(at, limit) for at in times]


def shown(value: object) -> str:
    return SHOWN.repr(value)
