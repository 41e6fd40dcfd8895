"""An SSE body's secrets that cross events (probe.redact.stream_pieces), masked as the body is given: whole, or in
segments as a large body streams to its file. The last events are held back until enough of what follows them has
come, and the events already written are kept as they came for a while, so that a secret streamed across the cut
between two segments is found whole and masked as it is in the same body given whole.

Only the standard library is imported (orjson where installed): the capture addon loads this under any mitmdump.
"""

import json
from collections import deque
from dataclasses import dataclass, field

# Optional (the capture addon runs under any mitmdump): parsing every event of a long stream is most of this work.
try:
    import orjson
except ImportError:
    orjson = None

from probe.redact.stream_pieces import Path, event_leaves, piece_changes, put

# Bytes of events held back before they are written, and kept after, around each cut: a secret streamed over no
# more than this (a private key in one-character deltas is about 400 KB of events) is masked as in the whole body.
HOLD = CONTEXT = 512 << 10
WRITE_AT_LEAST = 256 << 10  # events gathered before the held ones are searched again (each search reads them all)
LONGEST_LINE = 8 << 20  # a line without its end past this is passed on as it is: it is masked line by line only


@dataclass
class Line:
    data: bytes  # as it came (masked line by line), with its line end if it has one
    leaves: list[tuple[Path, str]] = field(default_factory=list)  # an event's strings, by place


def line_of(data: bytes) -> Line:
    """A line; a `data:` line holding JSON with its strings."""
    if not data.startswith(b"data:"):
        return Line(data)
    try:
        return Line(data, event_leaves(parsed(data[5:])))
    except (ValueError, RecursionError):
        return Line(data)  # not JSON (`[DONE]`), or cut off: its own masking has seen it


class EventStream:
    """Feed it a body's text in order (`feed`, then `finish`); it gives back the same text with the secrets that cross
    events masked, as soon as what follows each event is known; `whole` holds everything until `finish`."""

    def __init__(self, whole: bool = False) -> None:
        self.hold, self.context_limit = None if whole else HOLD, CONTEXT
        self.context: deque[Line] = deque()  # written already, kept as they came
        self.context_size = 0
        self.held: list[Line] = []
        self.held_size = 0
        self.partial = b""  # the start of a line whose end has not come
        self.in_long_line = False  # passing a line longer than LONGEST_LINE on as it comes
        self.count = 0  # secrets masked in what was written

    def feed(self, data: bytes) -> bytes:
        if self.in_long_line:
            end = data.find(b"\n") + 1
            self.add(Line(data if not end else data[:end]))
            self.in_long_line, data = not end, data[end:] if end else b""
        data = self.partial + data if self.partial else data
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        start = 0
        while start < cut:
            end = data.index(b"\n", start) + 1
            self.add(line_of(data[start:end]))
            start = end
        if len(self.partial) > LONGEST_LINE:
            self.add(Line(self.partial))
            self.partial, self.in_long_line = b"", True
        ready = self.unchanging()
        if self.hold is not None and self.held_size >= self.hold + WRITE_AT_LEAST:
            return ready + self.write(keep=self.hold)
        return ready

    def unchanging(self) -> bytes:
        """The held lines before the first event: nothing changes them (a body with no events is held not at all)."""
        first = next((index for index, line in enumerate(self.held) if line.leaves), len(self.held))
        if not first:
            return b""
        ready = b"".join(line.data for line in self.held[:first])
        del self.held[:first]
        self.held_size -= len(ready)
        return ready

    def finish(self) -> bytes:
        if self.partial:
            self.add(line_of(self.partial))
            self.partial = b""
        return self.write(keep=0)

    def add(self, line: Line) -> None:
        self.held.append(line)
        self.held_size += len(line.data)

    def write(self, keep: int) -> bytes:
        """The held lines but the last `keep` bytes of them, masked: searched with the context before them and every
        held line after."""
        window = [*self.context, *self.held]
        changes = piece_changes([line.leaves for line in window]) if any(line.leaves for line in window) else {}
        written, size = 0, self.held_size
        while written < len(self.held) and size > keep:
            size -= len(self.held[written].data)
            written += 1
        out = []
        for offset, line in enumerate(self.held[:written]):
            change = changes.get(len(self.context) + offset)
            out.append(changed(line.data, change) if change else line.data)
            if change:
                self.count += sum(starts for _, starts in change.values())
        for line in self.held[:written]:
            if line.leaves:  # (only an event's strings can join a secret's next pieces)
                self.context.append(line)
                self.context_size += len(line.data)
        while self.context and self.context_size - len(self.context[0].data) >= self.context_limit:
            self.context_size -= len(self.context.popleft().data)
        del self.held[:written]
        self.held_size = size
        return b"".join(out)


def changed(data: bytes, change: dict) -> bytes:
    """A `data:` line with the strings of `change` put in, written back compact, its line end kept."""
    body, ending = (data[:-1], b"\n") if data.endswith(b"\n") else (data, b"")
    body, ending = (body[:-1], b"\r" + ending) if body.endswith(b"\r") else (body, ending)
    event = parsed(body[5:])
    for path, (new, _) in change.items():
        put(event, path, new)
    prefix = b"data: " if body.startswith(b"data: ") else b"data:"
    written = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return prefix + written + ending


def mask_event_stream(data: bytes) -> tuple[bytes, int]:
    """A whole SSE body's `data:` lines, each JSON, with the secrets that cross events masked; lines that change are
    written back compact."""
    stream = EventStream(whole=True)
    masked = stream.feed(data) + stream.finish()
    return (masked, stream.count) if stream.count else (data, 0)


def parsed(data: bytes):
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # an integer past 64 bits, say: the standard library reads it
    return json.loads(data)
