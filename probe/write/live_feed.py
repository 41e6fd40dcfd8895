"""One terminal line per exchange the capture records, printed while the run goes on (`--quiet` turns it off)."""

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from probe.apis.generic import reader as generic
from probe.apis.turns import Reading
from probe.common.errors import TargetError, one_line, warn
from probe.common.paths import display
from probe.read import body_files, traffic
from probe.read.conversation import Turn
from probe.read.follow import Follower
from probe.read.traffic import Exchange
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.importer import import_renderer
from probe.runs.targets import Target

LONG_STREAM = 1 << 20  # characters of a streamed answer past which only its ends are read
MANY_FRAMES = 1 << 10  # WebSocket frames of one exchange past which only its ends are read
ENDS_KEPT = 8  # events (or frames) kept at each end
FILE_ENDS = 4 << 20  # bytes read at each end of a body in its own file (codex's last event holds the whole answer)
FEED_FILE = "live-feed.txt"  # an interactive session's live feed, in its run folder
DRAIN_TIMEOUT = 30.0  # seconds the feed gets, once mitmdump has stopped, to show what it wrote last


def start(traffic_file: Path, target: Target | None, stream: TextIO | None = None) -> Follower | None:
    """Follow the run's traffic.jsonl from now on, writing one line per new exchange to `stream` (stderr)."""
    reader = reader_for(target)
    out = stream or sys.stderr
    try:
        follower = Follower(
            traffic_file,
            lambda raw: show(out, line_for(raw, reader, traffic_file.parent)),
            lambda error: warn(f"live feed stopped: {type(error).__name__}: {error}"),
            traffic.MAX_LINE_BYTES,
        )
    except OSError as error:
        warn(f"no live feed: cannot read {traffic_file.name}: {error.strerror}")
        return None
    return follower.start()


def stop(follower: Follower | None) -> None:
    """Show what the proxies wrote last, then end the feed."""
    if follower is not None:
        follower.stop(DRAIN_TIMEOUT)


def reader_for(target: Target | None) -> Any:
    """The renderer the target names, as analysis imports it, whose reader reads the exchanges of its API (each
    other exchange is read by its own API's reader, as analysis reads it); the generic one when there is no
    target or its renderer cannot be imported."""
    if target is None:
        return generic
    try:
        return import_renderer(target.renderer)
    except TargetError as error:
        warn(f"live feed: {error}; its lines show no model or tokens")
        return generic


def show(stream: TextIO, line: str | None) -> None:
    if line is None:
        return
    try:
        stream.write(line + "\n")  # one write, so that a line printed meanwhile by the run is not cut into it
        stream.flush()
    except (OSError, ValueError):
        pass  # the terminal is gone: the capture goes on without its feed


def line_for(raw: bytes | None, reader: Any, run: Path | None = None) -> str | None:
    """The line for one line of traffic.jsonl; a line that cannot be read says so in one line, never raises."""
    if raw is None:
        return f"{clock(time.time())} (an exchange over {traffic.MAX_LINE_BYTES:,} bytes, not shown)"
    if not raw or raw.isspace():  # (not strip(), which would copy a line of hundreds of megabytes)
        return None
    try:
        exchange = exchange_of(raw, run)
        return describe(exchange, Reading(reader).build(exchange, [])[0])
    except Exception as error:  # a damaged or hostile line costs its own line, not the capture
        why = inert(f"{type(error).__name__}: {error}", 160)
        return f"{clock(time.time())} (an exchange that could not be read: {why})"


def exchange_of(raw: bytes, run: Path | None = None) -> Exchange:
    entry = json.loads(raw)
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    keep_ends(entry, run)
    return traffic.from_entry(entry, 1, 1)


def keep_ends(entry: dict, run: Path | None = None) -> None:
    """Shorten a very long streamed answer to its first and last events, where APIs give the model and the
    usage: reading every event of a 200 MB stream would take seconds, for one line."""
    response = entry.get("response")
    if isinstance(response, dict) and "body_file" in response and response.get("body_format") == "text":
        # A large body in its own file (bodies/): only its ends are read, the events between never.
        try:
            ends = body_files.read_ends(response["body_file"], run, FILE_ENDS, FILE_ENDS)
        except (body_files.Unreadable, OSError, TypeError):
            ends = b""
        response.pop("body_file")
        response["body"] = ends_of_stream(ends.decode("utf-8", "replace"))
    if isinstance(response, dict) and isinstance(response.get("body"), str) and len(response["body"]) > LONG_STREAM:
        response["body"] = ends_of_stream(response["body"])
    messages = entry.get("messages")
    if isinstance(messages, list) and len(messages) > MANY_FRAMES:
        entry["messages"] = messages[: ENDS_KEPT + 1] + messages[-ENDS_KEPT:]  # the request, and the ends


def ends_of_stream(text: str, keep: int = ENDS_KEPT) -> str:
    """The first and last `keep` events of an event stream (events end with a blank line); the text itself
    when it has too few to shorten."""
    head = 0
    for _ in range(keep):
        found = text.find("\n\n", head)
        if found < 0:
            return text
        head = found + 2
    tail = len(text) - 2 if text.endswith("\n\n") else len(text)
    for _ in range(keep):
        tail = text.rfind("\n\n", head, tail)
        if tail < 0:
            return text
    return text[:head] + text[tail + 2 :]


def describe(exchange: Exchange, turn: Turn) -> str:
    """`13:45:02 api POST /v1/chat 200 model-x in 1,234 out 56 ttfb 120 ms 1.8 s`: when it started, where,
    what, the model and its tokens when the reader found them, time to first byte and duration."""
    parts = [clock(exchange.timing.get("start")), inert(exchange.proxy, 40)]
    if exchange.kind == "websocket":
        parts.append("WebSocket")
    parts += [inert(exchange.method, 16), inert(exchange.path, 200), status(exchange.status)]
    if turn.model:
        parts.append(inert(turn.model, 60))
    if turn.usage is not None:
        parts += ["in", count(turn.usage.input), "out", count(turn.usage.output)]
    if exchange.ttfb_ms is not None:
        parts += ["ttfb", duration(exchange.ttfb_ms)]
    if exchange.duration_ms is not None:
        parts.append(duration(exchange.duration_ms))
    if not exchange.complete:
        # No answer at all (an unreachable upstream), or one that ended before its last event.
        parts.append("failed" if exchange.status is None else "cut off")
        parts[-1] += f": {inert(exchange.error, 160)}" if exchange.error else ""
    return " ".join(parts)


def inert(text: str, limit: int) -> str:
    """Captured text safe to print: secrets masked, at most `limit` characters, and every character a terminal
    would obey (an ANSI escape, a line break, a bidirectional override) shown as its escape."""
    text = mask_tokens_and_urls(text)
    if len(text) > limit:
        text = text[:limit] + "…"
    return one_line(text) or "-"


def clock(epoch: Any) -> str:
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        return "--:--:--"  # (localtime would take None for now)
    try:
        return time.strftime("%H:%M:%S", time.localtime(epoch))
    except (TypeError, ValueError, OverflowError, OSError):
        return "--:--:--"


def status(code: int | None) -> str:
    return "---" if code is None else inert(str(code), 6)


def count(tokens: int | None) -> str:
    return f"{tokens:,}" if tokens is not None and 0 <= tokens < 10**15 else "?"


def duration(milliseconds: float) -> str:
    if not (math.isfinite(milliseconds) and 0 <= milliseconds < 1e10):
        return "?"
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:,.1f} s"


def beside(target: Target, quiet: bool, feed: str | None = None, interactive: bool = False):
    """What the capture starts once the run folder exists: one line per recorded exchange, on stderr, or in the file
    `feed` names; an interactive session's goes to live-feed.txt in its run folder by default, since the agent's
    screen is the terminal's."""
    if quiet:
        return None

    def watch(traffic: Path) -> Callable[[], None]:
        path = Path(feed) if feed else traffic.parent / FEED_FILE if interactive else None
        stream = None
        if path is not None:
            try:
                stream = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 (closed by stop_feed)
            except OSError as error:
                warn(f"no live feed: cannot write {path}: {error.strerror}")
                return lambda: None
            print(f"live feed: {display(path)} (tail -f it in another terminal)", file=sys.stderr)
        follower = start(traffic, target, stream)

        def stop_feed() -> None:
            stop(follower)
            if stream is not None:
                stream.close()

        return stop_feed

    return watch
