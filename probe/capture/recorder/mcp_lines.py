"""The lines of mcp.jsonl an HTTP MCP server's proxy writes: each JSON-RPC message of a body (a batch split, one
line each), masked, and the Server-Sent Events of a streamed answer decoded into messages as they arrive, with memory
bounded by the largest message kept whole.

Loaded beside the capture addon by `mitmdump -s`: it imports nothing of `probe` but its siblings, probe.common and
probe.redact.
"""

import re
import time

from probe.capture.recorder import record as stored
from probe.redact import masking as redaction

MESSAGE_LIMIT = 4 << 20  # bytes of a message kept whole; past that its line holds only its head
HEAD_CHARS = 2000  # characters of a message too big, or of a body that is not JSON, kept (masked)
HEAD_BYTES = HEAD_CHARS * 4  # enough UTF-8 for HEAD_CHARS characters
LINE_END = re.compile(rb"\r\n|\r|\n")  # an event stream's lines end in any of these


def message_lines(data: bytes, size: int, cut: bool, base: dict, policy: stored.Policy) -> list[dict]:
    """The lines for one body or one event's data: `base` (t, server, transport, from, http) with the message, each
    of a batch with its index, or what stands for it (`cut` with its head; `not_json`, also for JSON that is not
    JSON-RPC)."""
    if cut:
        return [base | {"size": size, "message": None, "cut": True, "head": head(data, policy)}]
    text = data.decode("utf-8", "replace")
    parsed = stored.parse_json(text) if text.strip() else redaction.NOT_JSON
    batch = isinstance(parsed, list) and parsed and all(map(is_json_rpc, parsed))
    if not (batch or is_json_rpc(parsed)):
        # Not JSON, or JSON of another kind (an error page, OAuth metadata at a well-known path): its text.
        return [base | {"size": size, "not_json": head(data, policy)}]
    if isinstance(parsed, dict):
        return [base | {"size": size, "message": masked(parsed, policy)}]
    # A batch: `size` is the whole batch's, as sent in one body.
    return [base | {"size": size, "batch": index, "message": masked(each, policy)} for index, each in enumerate(parsed)]


def is_json_rpc(value) -> bool:
    """A JSON-RPC request, notification or answer (its `jsonrpc`, else a method, result or error, says so)."""
    return isinstance(value, dict) and bool({"jsonrpc", "method", "result", "error"} & value.keys())


def masked(message, policy: stored.Policy):
    return redaction.mask_json_scanned(message)[0] if policy.redact else message


def head(data: bytes, policy: stored.Policy) -> str:
    """The first HEAD_CHARS characters, masked before they are cut: a secret across the cut is masked whole."""
    return stored.text(data[:HEAD_BYTES].decode("utf-8", "replace"), policy)[:HEAD_CHARS]


class BoundedBody:
    """A body kept whole up to MESSAGE_LIMIT bytes; past that only its head, and how big it was."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.cut = False

    def add(self, data: bytes, size: int | None = None) -> None:
        """`data`, or of data `size` bytes long, the head that was kept of it."""
        self.size += len(data) if size is None else size
        if self.cut:
            return
        self.chunks.append(data)
        if self.size > MESSAGE_LIMIT or (size is not None and size > len(data)):
            self.chunks, self.cut = [b"".join(self.chunks)[:HEAD_BYTES]], True

    def data(self) -> bytes:
        return b"".join(self.chunks)


class EventStream:
    """Server-Sent Events decoded as their bytes arrive: `feed` returns each event's data that is complete (its
    `data:` lines joined by newlines), as (arrival time, BoundedBody); events without data (a priming event, a
    comment, a retry) are none."""

    def __init__(self) -> None:
        self.pending = b""  # the start of a line not yet ended
        self.long_line: BoundedBody | None = None  # a `data:` line past MESSAGE_LIMIT, counted, not kept
        self.data: BoundedBody | None = None  # the event being read
        self.after_cr = False  # the last chunk ended in CR

    def feed(self, chunk: bytes) -> list[tuple[float, BoundedBody]]:
        now, events = time.time(), []
        if self.after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split between two chunks
        self.after_cr = False
        self.pending += chunk
        start = 0
        for match in LINE_END.finditer(self.pending):
            if match.group() == b"\r" and match.end() == len(self.pending):
                self.after_cr = True  # perhaps a CRLF whose LF is still to come
            self.take_line(self.pending[start : match.start()], events, now)
            start = match.end()
        self.pending = self.pending[start:]
        if len(self.pending) > MESSAGE_LIMIT:
            # One line past the limit: what is kept of it is counted into the event, the rest only counted.
            self.long_line = self.long_line or BoundedBody()
            self.long_line.add(self.pending)
            self.pending = b""
        return events

    def take_line(self, line: bytes, events: list, now: float) -> None:
        size = len(line)
        if self.long_line is not None:
            # The line's head was kept, its length counted: only that much of it goes into the event.
            long_line, self.long_line = self.long_line, None
            long_line.add(line)
            line, size = long_line.data(), long_line.size
        if not line:
            if self.data is not None and self.data.size:  # empty data dispatches nothing (the SSE standard)
                events.append((now, self.data))
            self.data = None
            return
        field, _, value = line.partition(b":")
        if field != b"data":
            return  # id, event, retry, or a comment: no message
        skipped = len(field) + 1 + value.startswith(b" ")
        value = value[1:] if value.startswith(b" ") else value
        if self.data is None:
            self.data = BoundedBody()
        else:
            self.data.add(b"\n")
        self.data.add(value, size - skipped)

    def finish(self) -> list[tuple[float, BoundedBody]]:
        """An event the stream ended inside (no blank line after it) still counts."""
        events: list = []
        if self.pending or self.long_line is not None:
            self.take_line(self.pending, events, time.time())
            self.pending = b""
        self.take_line(b"", events, time.time())
        return events
