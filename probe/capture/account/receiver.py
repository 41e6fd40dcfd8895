"""An OTLP/HTTP receiver on 127.0.0.1 (logs, metrics, traces; protobuf or JSON, gzip or not) that appends every
record the run's agent sends it, masked, to the run's telemetry.jsonl, one line at a time. Only exports to the
run's endpoint, whose path holds a random token, are taken; what one export and the run may write is bounded."""

import contextlib
import hmac
import http.server
import os
import secrets
import socket
import threading
import time
from pathlib import Path

from probe.capture.account.export_body import BodyError, read_body, unpacked
from probe.capture.account.telemetry_bounds import MAX_EXPORT, Bounds, RunTotals, fitting
from probe.capture.account.telemetry_lines import line_of
from probe.common.otlp_reading import read_export
from probe.common.otlp_records import PATHS
from probe.redact.masking import mask_json_scanned
from probe.redact.replacing import secrets_seen
from probe.redact.stream_pieces import mask_pieces

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# Seconds stop() waits for the exports still being sent when the agent has exited; a connection that still holds
# one after that is cut, and its export is one line saying so.
GRACE = 3.0
CUT = 1.0  # seconds then given to the cut exports to write that line


class Receiver:
    """The run's receiver: started with `start()`, its endpoint (with the run's token) in `endpoint`; `stop()` lets
    what is in flight land, for a while."""

    def __init__(self, path: Path, limit: int = MAX_EXPORT, bounds: Bounds | None = None, grace: float = GRACE):
        self.path = path
        self.limit = limit
        self.grace = grace
        self.token = secrets.token_hex(16)
        self.exports = 0  # export requests with the run's token, read or not
        self.refused = 0  # requests without it: not read
        self.totals = RunTotals(bounds or Bounds())
        self.last_received: float | None = None
        self.lock = threading.Lock()  # the file and the counts
        self.parsing = threading.Lock()  # one export parsed at a time: memory is bounded per export, not per client
        self.in_flight = threading.Condition()
        self.taking = 0  # exports being read, parsed or written
        self.closed = False
        # Like every run file, readable by its owner only; never through a link put in its place.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        self.file = open(os.open(path, flags, 0o600), "a", encoding="utf-8")  # noqa: SIM115 (closed by stop)
        os.fchmod(self.file.fileno(), 0o600)
        self.server = Server(("127.0.0.1", 0), handler_for(self))
        # Polled often, so that stopping it after the agent's exit costs the run a few milliseconds, not half a second.
        serve = lambda: self.server.serve_forever(poll_interval=0.02)  # noqa: E731
        self.thread = threading.Thread(target=serve, name="otlp-receiver", daemon=True)

    @property
    def url(self) -> str:
        """Where it listens, without the token: what the manifest says."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def endpoint(self) -> str:
        """The base URL the agent is given: each signal's path comes after the token."""
        return f"{self.url}/{self.token}"

    @property
    def records(self) -> int:
        return self.totals.records

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        """No new connection is taken; the exports in flight are waited for (`grace` seconds at most); then every
        connection still open is cut, idle or not, and the file closed."""
        self.server.shutdown()
        self.thread.join()
        self.wait_for_exports(self.grace)
        self.server.cut_connections()
        self.wait_for_exports(CUT)
        with self.lock:
            self.closed = True
            self.file.close()
        self.server.server_close()

    @contextlib.contextmanager
    def export_in_flight(self):
        with self.in_flight:
            self.taking += 1
        try:
            yield
        finally:
            with self.in_flight:
                self.taking -= 1
                self.in_flight.notify_all()

    def wait_for_exports(self, seconds: float) -> None:
        with self.in_flight:
            self.in_flight.wait_for(lambda: self.taking == 0, timeout=seconds)

    def authorised(self, path: str) -> str | None:
        """The signal's path after the run's token, or None where the path does not start with it."""
        token, slash, rest = path.split("?", 1)[0].removeprefix("/").partition("/")
        if not slash or not hmac.compare_digest(token.encode("latin-1", "replace"), self.token.encode()):
            return None
        return "/" + rest

    def number(self) -> int:
        with self.lock:
            self.exports += 1
            return self.exports - 1

    def take(self, signal: str, encoding: str, body: bytes, stamp: dict) -> None:
        """One export's records, as many as the bounds let in, or one line saying why it cannot be read."""
        with self.parsing:
            budget = self.totals.budget()
            run_left = budget.records < self.totals.bounds.records_per_export  # the run's records bound the export's
            try:
                reading = read_export(body, encoding, signal, budget)
                lines = [line_of(record | stamp) for record in masked_records(reading.records)]
            except Exception as error:  # whatever a hostile export trips over is one line, not a dead thread
                return self.unreadable(signal, stamp, f"{type(error).__name__}: {error}", len(body))
        bound = "run" if budget.full == "records" and run_left else budget.full
        self.keep(signal, stamp, lines, reading.dropped, bound=bound)

    def unreadable(self, signal: str, stamp: dict, why: str, size: int) -> None:
        why = " ".join(why.split())[:300]
        self.keep(signal, stamp, [line_of({"signal": signal, **stamp, "unreadable": why, "size": size})], records=False)

    def keep(
        self, signal: str, stamp: dict, lines: list[str], dropped: int = 0, records: bool = True, bound: str = ""
    ) -> None:
        """An export's lines, those that fit; past a bound (`bound`: which, if one was met while reading), one line
        saying how many records were left out. Past the run's bound, that line once, and nothing after it: the
        manifest counts what is left out."""
        with self.lock:
            if self.closed or self.totals.said_full:
                self.totals.dropped += dropped + (len(lines) if records else 0)
                return
            room = self.totals.room()
            kept, size = fitting(lines, room)
            if len(kept) < len(lines):
                bound = "run" if room < self.totals.bounds.bytes_per_export else "bytes"
            dropped += len(lines) - len(kept) if records else 0
            self.totals.dropped += dropped
            note = []
            if dropped or bound == "run":
                after = "; what comes after it is counted in the manifest, not kept" if bound == "run" else ""
                why = f"{dropped:,} records left out past {self.totals.bound(bound)}: the first {len(kept):,} were kept"
                note = [line_of({"signal": signal, **stamp, "dropped": dropped, "why": why + after})]
                self.totals.said_full = bound == "run"
            self.write(kept + note, len(kept) if records else 0, size + sum(len(line.encode()) for line in note))

    def write(self, lines: list[str], records: int, size: int) -> None:
        """Flushed at once: a run killed later keeps what arrived. (Under the lock.)"""
        if lines:
            self.file.write("".join(lines))
            self.file.flush()
        self.totals.records += records
        self.totals.bytes += size
        self.last_received = time.time()


def masked_records(records: list[dict]) -> list[dict]:
    """Each record masked alone (secrets at any depth), then across the records as a stream's events are
    (probe.redact.stream_pieces): `export ANTHROPIC_API_KEY=` in one log record's body and the key in the next one's.
    (Here, not in a module of its own: the masking stands where the receiver's imports may still reach it.)"""
    with secrets_seen() as made:
        masked = [mask_json_scanned(record)[0] for record in records]
    if len(masked) > 1:
        mask_pieces(masked, set(made))
    return masked


class Server(http.server.ThreadingHTTPServer):
    """Keeps its connections, so that the run's end can cut those still open; prints nothing of a client's
    errors: the agent's screen is not ours to write on."""

    daemon_threads = True  # a connection the run's end has cut is not waited for again

    def __init__(self, address, handler):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        pass  # a client gone mid-request (or cut at the run's end): its export already has its line, if any


def handler_for(receiver: Receiver) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:
            pass  # the agent's screen is not ours to write on

        def do_POST(self) -> None:
            path = receiver.authorised(self.path)
            if path is None:
                # Not the run's agent: nothing of it is read, and nothing of it reaches the run.
                with receiver.lock:
                    receiver.refused += 1
                self.close_connection = True
                return self.answer(401, JSON, b'{"message":"not this run\'s endpoint"}')
            with receiver.export_in_flight():
                self.export(PATHS.get(path))

        def export(self, signal: str | None) -> None:
            if signal is None:
                return self.answer(404, JSON, b'{"message":"not an OTLP/HTTP path"}')
            stamp = {"received": time.time()}
            kind = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            stamp["encoding"] = "json" if kind == JSON else "protobuf"
            answer_type = JSON if stamp["encoding"] == "json" else PROTOBUF
            stamp["export"] = receiver.number()
            try:
                body = read_body(self.rfile, self.headers, receiver.limit)
            except (BodyError, OSError) as error:
                self.close_connection = True  # the rest of what was sent on this connection is not read
                receiver.unreadable(signal, stamp, str(error) or type(error).__name__, 0)
                return self.answer(413 if getattr(error, "too_large", False) else 400, answer_type, b"")
            if kind not in (JSON, PROTOBUF):
                receiver.unreadable(signal, stamp, f"content type {kind or 'none'}", len(body))
                return self.answer(415, answer_type, b"")
            try:
                data = unpacked(body, self.headers.get("content-encoding", ""), receiver.limit)
            except BodyError as error:
                receiver.unreadable(signal, stamp, str(error), len(body))
                return self.answer(413 if error.too_large else 400, answer_type, b"")
            receiver.take(signal, stamp["encoding"], data, stamp)
            # The empty Export*ServiceResponse, in the request's encoding: all records accepted, those past a
            # bound too (a partial success would have the agent's SDK log it on the agent's screen).
            self.answer(200, answer_type, b"{}" if stamp["encoding"] == "json" else b"")

        def answer(self, status: int, content_type: str, body: bytes) -> None:
            with contextlib.suppress(OSError):  # a client gone: nobody to answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    return Handler
