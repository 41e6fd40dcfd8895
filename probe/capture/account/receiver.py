"""An OTLP/HTTP receiver on 127.0.0.1 (logs, metrics, traces; protobuf or JSON, gzip or not) that appends every
record it is sent, masked, to the run's telemetry.jsonl, one line at a time."""

import http.server
import json
import threading
import time
from pathlib import Path

from probe.common.decoding import decode_body
from probe.common.otlp_records import PATHS, export_from_protobuf, records
from probe.redact.masking import mask_json_scanned

MAX_EXPORT = 16 * 1024 * 1024  # bytes of one export, as sent and once unpacked: more is refused with 413
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class Receiver:
    """The run's receiver: started with `start()`, its base URL in `url`; `stop()` lets what is in flight land."""

    def __init__(self, path: Path, limit: int = MAX_EXPORT):
        self.path = path
        self.limit = limit
        self.exports = 0  # export requests taken, read or not
        self.records = 0
        self.last_received: float | None = None
        self.lock = threading.Lock()
        self.file = path.open("a", encoding="utf-8")
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self.server.block_on_close = True  # server_close() waits for the exports still being read
        # Polled often, so that stopping it after the agent's exit costs the run a few milliseconds, not half a second.
        serve = lambda: self.server.serve_forever(poll_interval=0.02)  # noqa: E731
        self.thread = threading.Thread(target=serve, name="otlp-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        with self.lock:
            self.file.close()

    def number(self) -> int:
        with self.lock:
            self.exports += 1
            return self.exports - 1

    def write(self, lines: list[dict]) -> None:
        """Each line masked (secrets at any depth) and flushed at once: a run killed later keeps what arrived."""
        with self.lock:
            for line in lines:
                masked, _ = mask_json_scanned(line)
                self.file.write(json.dumps(masked, ensure_ascii=False, separators=(",", ":")) + "\n")
                self.file.flush()
            self.records += sum(1 for line in lines if "unreadable" not in line)
            self.last_received = time.time()

    def take(self, signal: str, encoding: str, body: bytes, received: float, export: int) -> None:
        """One export's records, or one line saying why it cannot be read."""
        try:
            value = export_from_protobuf(body, signal) if encoding == "protobuf" else json.loads(body)
            found = records(value, signal)
        except (ValueError, UnicodeDecodeError, TypeError, AttributeError, RecursionError) as error:
            self.unreadable(signal, encoding, export, received, f"{type(error).__name__}: {error}", len(body))
            return
        self.write([record | {"received": received, "encoding": encoding, "export": export} for record in found])

    def unreadable(self, signal: str, encoding: str, export: int, received: float, why: str, size: int) -> None:
        why = " ".join(why.split())[:300]
        line = {"signal": signal, "received": received, "encoding": encoding, "export": export}
        self.write([line | {"unreadable": why, "size": size}])


def handler_for(receiver: Receiver) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:
            pass  # the agent's screen is not ours to write on

        def do_POST(self) -> None:
            received = time.time()
            signal = PATHS.get(self.path.split("?", 1)[0])
            if signal is None:
                return self.answer(404, JSON, b'{"message":"not an OTLP/HTTP path"}')
            kind = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            encoding = "json" if kind == JSON else "protobuf"
            answer_type = JSON if encoding == "json" else PROTOBUF
            export = receiver.number()
            try:
                body = self.body(receiver.limit)
            except ValueError as error:
                self.close_connection = True  # the rest of what was sent on this connection is not read
                receiver.unreadable(signal, encoding, export, received, str(error), 0)
                return self.answer(413 if "limit" in str(error) else 400, answer_type, b"")
            size = len(body)
            if kind not in (JSON, PROTOBUF):
                receiver.unreadable(signal, encoding, export, received, f"content type {kind or 'none'}", size)
                return self.answer(415, answer_type, b"")
            try:
                body = unpacked(body, self.headers.get("content-encoding", ""), receiver.limit)
            except ValueError as error:
                receiver.unreadable(signal, encoding, export, received, str(error), size)
                return self.answer(413 if "limit" in str(error) else 400, answer_type, b"")
            receiver.take(signal, encoding, body, received, export)
            # The empty Export*ServiceResponse, in the request's encoding: all records accepted.
            self.answer(200, answer_type, b"{}" if encoding == "json" else b"")

        def body(self, limit: int) -> bytes:
            """The request's body, by its Content-Length or in chunks (Node's exporters send chunks), never more
            than `limit` bytes."""
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                return read_chunks(self.rfile, limit)
            length = self.headers.get("content-length", "")
            if not length.isdigit():
                raise ValueError("neither a Content-Length nor chunks")
            if int(length) > limit:
                raise ValueError(f"{int(length):,} bytes, over the {limit:,}-byte limit")
            return self.rfile.read(int(length))

        def answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def read_chunks(stream, limit: int) -> bytes:
    """A chunked body, its chunks joined; over `limit` bytes, or not chunks at all, is a ValueError."""
    parts, size = [], 0
    while True:
        line = stream.readline(1024)
        try:
            length = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ValueError("a chunk without its size") from None
        if length == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers, unused
            return b"".join(parts)
        size += length
        if size > limit:
            raise ValueError(f"over the {limit:,}-byte limit")
        parts.append(stream.read(length))
        stream.readline(8)  # the chunk's CRLF


def unpacked(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body as sent, its Content-Encoding undone by the project's bounded decoding (probe.common.decoding),
    never past `limit` bytes: a small bomb stays small."""
    decoded = decode_body(body, content_encoding, limit)
    if decoded.too_large:
        raise ValueError(f"over the {limit:,}-byte limit once unpacked")
    if not decoded.complete:
        raise ValueError(decoded.note or f"{content_encoding[:40]}: not decoded")
    return decoded.data
