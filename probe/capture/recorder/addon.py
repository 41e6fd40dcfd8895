"""mitmproxy addon that records every exchange through the reverse proxies as one JSON line each.

It is loaded with `mitmdump -s` and must also run under a mitmdump installed on its own, so it imports only the
recorder's own modules and those they need of `probe.common` and `probe.redact` (what a record holds, how bodies
are decoded, how secrets are masked), none of which needs more than the standard library and mitmproxy's own
dependencies. It is configured only through its own options, and the environment for the upstream proxy.
"""

import asyncio
import base64
import collections
import concurrent.futures
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mitmproxy import ctx, exceptions, http

if __name__ != "probe.capture.recorder.addon":
    # Loaded by `mitmdump -s` as a file, perhaps under a mitmdump installed on its own: the folder holding the
    # probe package goes first on sys.path, so that the imports below find this project's modules.
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder import spool as capture_spool
from probe.common import decoding
from probe.redact import masking as redaction

SCHEMA_VERSION = 1
# A stream holding one of these has delivered its whole answer, even if the client hung up before
# the final chunk (codex closes the connection as soon as it reads `response.completed`): the Responses and
# Messages APIs' last events, Chat Completions' `data: [DONE]`, and the Gemini API's finishReason, which only
# its last chunk carries.
TERMINAL_EVENT = re.compile(
    rb'"type"\s*:\s*"(?:response\.completed|response\.failed|response\.incomplete|message_stop)"'
    rb"|^event:\s*(?:response\.completed|response\.failed|response\.incomplete|message_stop)\s*$"
    rb"|^data:\s*\[DONE\]\s*$"
    rb'|"finishReason"\s*:\s*"',
    re.MULTILINE,
)
UPSTREAM_PROXY_VARIABLE = "PROBE_UPSTREAM_PROXY"
BACKGROUND_THRESHOLD = 1_000_000  # bytes of body above which an exchange is recorded off the event loop
SPOOL_THRESHOLD = 16 << 20  # bytes of response body above which it is kept on disk, not in memory
SPOOL_BATCH = 1 << 20  # bytes of chunks handed to the spool at a time
SPOOL_BACKLOG = 16  # batches waiting for the spooler before the stream waits for it (memory stays bounded)
TIMINGS_KEPT, TIMING_GAP = 1000, 0.01  # chunk timings kept one by one, then the gap (s) that starts a new entry


class Tee:
    """A `flow.response.stream` callable: passes each chunk on unchanged, keeping the body and when it arrived.

    A body stays in memory until it passes `spool_threshold`; from then on it goes to a spool on disk, written by
    the spooler thread in batches, so that neither memory nor the event loop pays for a large body.
    """

    def __init__(self, spool_threshold: int = 0, spool_folder: str = "", spooler=None) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.timings: list[list[float]] = []  # [arrival time, bytes since the previous entry], thinned
        self.first_arrival: float | None = None
        self.last_arrival: float | None = None
        self.ended_at: float | None = None
        self.spool: capture_spool.Spool | None = None
        self.spool_threshold, self.spool_folder, self.spooler = spool_threshold, spool_folder, spooler
        self.spooling: collections.deque[concurrent.futures.Future] = collections.deque()  # batches handed over
        self.unspooled = 0  # bytes in `chunks` not yet handed to the spool

    def __call__(self, data: bytes) -> bytes:
        now = time.time()
        if not data:
            self.ended_at = now  # mitmproxy signals the end of the body with an empty chunk
            return data
        self.size += len(data)
        self.note_arrival(now, len(data))
        self.chunks.append(data)
        if self.spool is None and self.spool_threshold and self.size > self.spool_threshold:
            self.spool = capture_spool.Spool(self.spool_folder)
        if self.spool is not None:
            self.unspooled += len(data)
            if self.unspooled >= SPOOL_BATCH:
                self.hand_to_spool()
        return data

    def note_arrival(self, now: float, size: int) -> None:
        """Every chunk's time for the first TIMINGS_KEPT; after that a chunk joins the previous entry unless a
        gap has passed, and the gap doubles with every TIMINGS_KEPT entries: a 500 MB stream is not 30,000 entries."""
        if self.first_arrival is None:
            self.first_arrival = now
        self.last_arrival = now
        kept = len(self.timings)
        if kept >= TIMINGS_KEPT and now - self.timings[-1][0] < TIMING_GAP * 2 ** (kept // TIMINGS_KEPT - 1):
            self.timings[-1][0] = now
            self.timings[-1][1] += size
        else:
            self.timings.append([now, size])

    def hand_to_spool(self) -> None:
        """The chunks so far go to the spool: in the spooler thread when there is one, which keeps their hashing
        and writing off the event loop."""
        batch, self.chunks, self.unspooled = self.chunks, [], 0
        if self.spooler is None:
            self.spool.add_all(batch)
            return
        self.spooling.append(self.spooler.submit(self.spool.add_all, batch))
        while self.spooling and self.spooling[0].done():
            self.spooling.popleft()
        if len(self.spooling) > SPOOL_BACKLOG:
            # The disk (or a busy machine) is slower than the stream: the stream waits, rather than memory grow.
            self.spooling.popleft().result()

    def finish(self) -> None:
        if self.spool is not None and self.chunks:
            self.hand_to_spool()

    def wait_for_spool(self) -> None:
        """Every chunk is in the spool (called from the writer thread, before the body is read back)."""
        while self.spooling:
            self.spooling.popleft().result()

    def body(self) -> bytes:
        """The whole body held in memory, joined once (a stream must not be copied again for every use)."""
        if len(self.chunks) > 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0] if self.chunks else b""


@dataclass
class Socket:
    """An open WebSocket: its flow, how many exchanges were written, and the one in progress."""

    flow: http.HTTPFlow
    next_seq: int = 0
    pending: list[dict] | None = None  # frames of the exchange in progress
    terminal: bool = False


class Capture:
    """Tees every response, and writes each finished exchange to traffic.jsonl."""

    def __init__(self) -> None:
        self.traffic_fd: int | None = None
        self.status_fd: int | None = None
        self.run_lock: int | None = None
        self.proxy_names: dict[int, str] = {}
        self.policy = stored.Policy()
        self.in_flight: dict[str, http.HTTPFlow] = {}
        self.tees: dict[str, Tee] = {}
        self.sockets: dict[str, Socket] = {}
        self.no_proxy: list[str] = []
        self.stalled: dict[str, float] = {}  # flow id -> seconds of silence when it was cut off
        self.watchdog: asyncio.Task | None = None
        self.stall_timeout = 0.0
        self.background: concurrent.futures.ThreadPoolExecutor | None = None
        # Large bodies are hashed and written to their spools in a thread of their own, so that a slow record
        # being written never holds up the next body (which would then wait in memory).
        self.spooler: concurrent.futures.ThreadPoolExecutor | None = None
        self.traffic_lock = threading.Lock()  # the event loop and the writer thread both append lines
        self.spool_threshold = SPOOL_THRESHOLD
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: threading.Thread | None = None
        self.deferred: dict[str, tuple] = {}  # flow id -> an exchange to record once its last chunk has gone
        # The upstream proxy comes from the environment, not an option: options show in mitmdump's argv,
        # which every user can read, and the URL may carry credentials.
        self.upstream_proxy, self.proxy_authorization = parse_upstream_proxy(
            os.environ.get(UPSTREAM_PROXY_VARIABLE, "")
        )

    def load(self, loader) -> None:
        loader.add_option("probe_traffic", str, "", "Append one JSON line per exchange to this file.")
        loader.add_option(
            "probe_spool_threshold",
            int,
            SPOOL_THRESHOLD,
            "Bytes of response body above which it is kept on disk while it streams (0: never).",
        )
        loader.add_option("probe_proxy_names", str, "", "Comma-separated PORT=NAME pairs naming each listener.")
        loader.add_option("probe_redact_headers", str, "", "Comma-separated header names to redact as well.")
        loader.add_option("probe_keep_secrets", bool, False, "Store every secret unredacted (unsafe).")
        loader.add_option(
            "probe_decode_cap",
            int,
            stored.Policy.decode_cap,
            "Bytes a compressed body may decode to; past that its wire bytes are kept as sent, with a note.",
        )
        loader.add_option(
            "probe_no_proxy",
            str,
            "",
            f"Comma-separated hosts (or .suffixes) that bypass the upstream proxy given in ${UPSTREAM_PROXY_VARIABLE}.",
        )
        loader.add_option(
            "probe_status_fd",
            int,
            -1,
            "An inherited file descriptor (a pipe) on which to report each recording problem as one line.",
        )
        # A string, because mitmproxy options have no float type.
        loader.add_option(
            "probe_stall_timeout", str, "0", "Cut off an upstream that sends nothing for this many seconds (0: never)."
        )

    def configure(self, updated) -> None:
        if "probe_proxy_names" in updated:
            self.proxy_names = parse_proxy_names(ctx.options.probe_proxy_names)
        if {"probe_redact_headers", "probe_keep_secrets", "probe_decode_cap"} & set(updated):
            extra = {name.strip().lower() for name in ctx.options.probe_redact_headers.split(",") if name.strip()}
            self.policy = stored.Policy(
                not ctx.options.probe_keep_secrets, frozenset(extra), max(ctx.options.probe_decode_cap, 0)
            )
        if "probe_keep_secrets" in updated and ctx.options.probe_keep_secrets:
            logging.warning("probe: --keep-secrets is on, so secrets are stored unredacted")
        if "probe_status_fd" in updated and ctx.options.probe_status_fd >= 0:
            self.status_fd = ctx.options.probe_status_fd
        if "probe_no_proxy" in updated:
            self.no_proxy = [host.strip().lower() for host in ctx.options.probe_no_proxy.split(",") if host.strip()]
        if "probe_stall_timeout" in updated:
            try:
                self.stall_timeout = float(ctx.options.probe_stall_timeout)
            except ValueError:
                self.stall_timeout = -1.0
            if not self.stall_timeout >= 0:
                raise exceptions.OptionsError("probe_stall_timeout: expected 0 (never) or a number of seconds")
        if "probe_traffic" in updated and ctx.options.probe_traffic:
            self.traffic_fd = open_private(ctx.options.probe_traffic)
            self.run_lock = self.run_lock or lock_run_folder(ctx.options.probe_traffic)
        if "probe_spool_threshold" in updated:
            self.spool_threshold = max(ctx.options.probe_spool_threshold, 0)

    def running(self) -> None:
        # mitmproxy's log lines go to proxies.log in the run folder and may quote URLs: mask them there too.
        for handler in logging.getLogger().handlers:
            if not any(isinstance(existing, MaskingFilter) for existing in handler.filters):
                handler.addFilter(MaskingFilter(self))
        # One worker, so lines keep the order in which their exchanges ended.
        self.background = self.background or concurrent.futures.ThreadPoolExecutor(
            1, "probe-writer", initializer=lower_priority
        )
        self.spooler = self.spooler or concurrent.futures.ThreadPoolExecutor(1, "probe-spooler")
        self.loop, self.loop_thread = asyncio.get_running_loop(), threading.current_thread()
        if self.stall_timeout > 0 and self.watchdog is None:
            self.watchdog = asyncio.get_running_loop().create_task(self.watch_for_stalls())

    # HTTP -----------------------------------------------------------------------------------

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        with self.recording("requestheaders", flow):
            self.track(flow)

    def track(self, flow: http.HTTPFlow) -> None:
        self.in_flight[flow.id] = flow
        if self.upstream_proxy and not self.bypasses_proxy(flow.request.host):
            flow.server_conn.via = ("http", self.upstream_proxy)

    def http_connect_upstream(self, flow: http.HTTPFlow) -> None:
        """The CONNECT sent to the upstream proxy carries its credentials; the agent's own headers are untouched."""
        if self.proxy_authorization:
            flow.request.headers["Proxy-Authorization"] = self.proxy_authorization

    def bypasses_proxy(self, host: str) -> bool:
        host = host.lower()
        return any(host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")) for entry in self.no_proxy)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response.status_code == 101:
            return  # a WebSocket handshake: frames are captured by the websocket hooks
        with self.recording("responseheaders", flow):
            tee = Tee(self.spool_threshold, os.path.dirname(ctx.options.probe_traffic or "."), self.spooler)
            self.tees[flow.id] = tee
            flow.response.stream = tee

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            with self.recording("response", flow):
                self.finish_http(flow, error=None, deferred=True)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is not None and flow.response is not None and flow.response.status_code == 101:
            return  # the socket's end is handled by websocket_end
        with self.recording("error", flow):
            message = flow.error.msg if flow.error else "unknown error"
            if flow.id in self.stalled:
                message = f"upstream stalled: nothing received for {self.stalled.pop(flow.id):.0f} s, so it was cut off"
            self.finish_http(flow, error=message)

    async def watch_for_stalls(self) -> None:
        timeout = self.stall_timeout
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            now = time.time()
            for flow in list(self.in_flight.values()):
                if flow.request.timestamp_end is None or flow.id in self.stalled:
                    continue  # still receiving the request from the client: not the upstream's fault
                tee = self.tees.get(flow.id)
                last = max(
                    flow.request.timestamp_end,
                    (tee.last_arrival if tee else None) or 0,
                    flow.response.timestamp_start if flow.response else 0,
                )
                if now - last > timeout:
                    self.stalled[flow.id] = now - last
                    close_upstream(flow)

    def finish_http(self, flow: http.HTTPFlow, error: str | None, deferred: bool = False) -> None:
        """Record a finished exchange: a small one at once, or `deferred` until mitmproxy has sent the answer's last
        chunk (which it does only after this hook returns); a large one in the writer thread, in order."""
        if self.in_flight.pop(flow.id, None) is None and flow.id not in self.tees:
            return  # already written
        tee = self.tees.pop(flow.id, None)
        if tee is not None:
            tee.finish()
        size = len(flow.request.raw_content or b"") + (tee.size if tee else 0)
        if self.background is not None and (size >= BACKGROUND_THRESHOLD or (tee and tee.spool)):
            self.background.submit(self.record_in_background, flow, tee, error)
        elif deferred and self.loop is not None:
            self.deferred[flow.id] = (flow, tee, error)
            self.loop.call_soon(self.record_deferred, flow.id)
        else:
            self.record_http(flow, tee, error)

    def record_deferred(self, flow_id: str) -> None:
        flow, tee, error = self.deferred.pop(flow_id, (None, None, None))
        if flow is not None:
            with self.recording("response", flow):
                self.record_http(flow, tee, error)

    def record_in_background(self, flow: http.HTTPFlow, tee: Tee | None, error: str | None) -> None:
        with self.recording("background writer", flow):
            self.record_http(flow, tee, error)

    def record_http(self, flow: http.HTTPFlow, tee: Tee | None, error: str | None) -> None:
        """Write the exchange's line. One that ended in an error is complete if its stream holds a terminal event."""
        request, response = flow.request, flow.response
        policy = self.policy
        start = request.timestamp_start
        request_body = stored.store_body(
            request.raw_content,
            request.headers.get("content-encoding", ""),
            request.headers.get("content-type", ""),
            policy,
        )
        spool = tee.spool if tee is not None else None
        if spool is not None:
            tee.wait_for_spool()
        content_encoding = response.headers.get("content-encoding", "").strip().lower() if response else ""
        if spool is not None and content_encoding not in ("", "identity"):
            # A large compressed body is decoded whole, in memory: the decoders work on whole bodies.
            tee.chunks, tee.spool, spool = [spool.read_all()], None, None
        complete = error is None or (response is not None and self.ends_with_terminal_event(flow, tee))
        record = {
            "schema": SCHEMA_VERSION,
            "kind": "http",
            "id": flow.id,
            "proxy": self.proxy_name(flow),
            "complete": complete,
            "error": stored.text(error, policy) if error else error,
            "timing": {"start": start, "request_end": request.timestamp_end},
            "request": self.message_fields(request)
            | {
                "method": stored.text(request.method, policy),
                "url": stored.url(request.url, policy),
                "path": stored.url(request.path, policy),
                "http_version": request.http_version,
                **request_body.fields,
            },
            "response": None,
        }
        if response is not None:
            record["response"] = self.message_fields(response) | {
                "status": response.status_code,
                "reason": stored.text(response.reason, policy),
                "http_version": response.http_version,
            }
            end = (tee.ended_at or tee.last_arrival) if tee else None
            record["timing"].update(
                response_headers=response.timestamp_start,
                first_byte=(tee.first_arrival if tee else None) or response.timestamp_start,
                end=end or response.timestamp_end or time.time(),
            )
            if tee is not None:
                record["response"]["chunks"] = [
                    [round((arrival - start) * 1000, 3), size] for arrival, size in tee.timings
                ]
            if spool is not None:
                try:
                    spool.finish()
                    # The body goes last in its response object, streamed from the spool into its place in the line.
                    record["response"] |= spooled_body_fields(spool)
                    self.append(capture_line.spooled_line(record, spool, policy.redact), "traffic.jsonl")
                finally:
                    spool.close()
                return
            raw = tee.body() if tee is not None else response.raw_content
            record["response"] |= stored.store_body(
                raw, content_encoding, response.headers.get("content-type", ""), policy
            ).fields
        else:
            record["timing"]["end"] = time.time()
        self.append([capture_line.line(record)], "traffic.jsonl")
        if tee is not None:
            tee.chunks = []  # the body may be hundreds of megabytes: let it go now

    def ends_with_terminal_event(self, flow: http.HTTPFlow, tee: Tee | None) -> bool:
        if tee is not None and tee.spool is not None:
            return bool(TERMINAL_EVENT.search(tee.spool.tail()))
        body = tee.body() if tee is not None else flow.response.raw_content or b""
        content_encoding = flow.response.headers.get("content-encoding", "")
        if content_encoding:
            body = decoding.decode_body(body, content_encoding, self.policy.decode_cap).data
        return bool(TERMINAL_EVENT.search(body))

    # WebSocket ------------------------------------------------------------------------------

    def websocket_start(self, flow: http.HTTPFlow) -> None:
        self.in_flight.pop(flow.id, None)
        self.sockets[flow.id] = Socket(flow)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        with self.recording("websocket_message", flow):
            self.take_frame(flow)

    def take_frame(self, flow: http.HTTPFlow) -> None:
        socket = self.sockets.setdefault(flow.id, Socket(flow))
        message = flow.websocket.messages[-1]
        frame = {
            "from": "client" if message.from_client else "server",
            "t": message.timestamp,
            "type": "text" if message.is_text else "binary",
            "size": len(message.content),
            "sha256": hashlib.sha256(message.content).hexdigest(),
        }
        frame.update(stored.websocket_content(message.content, message.is_text, self.policy))
        if message.from_client and socket.pending is not None:
            self.finish_websocket_exchange(socket, "next-client-message")
        if socket.pending is None:
            socket.pending, socket.terminal = [], False
        socket.pending.append(frame)
        if not message.from_client and TERMINAL_EVENT.search(message.content):
            socket.terminal = True
            # Written at once, so a kill with the socket still open loses no completed exchange.
            self.finish_websocket_exchange(socket, "terminal-event")

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        with self.recording("websocket_end", flow):
            self.end_socket(flow)

    def end_socket(self, flow: http.HTTPFlow) -> None:
        socket = self.sockets.pop(flow.id, None) or Socket(flow)
        if socket.pending is not None or socket.next_seq == 0:
            # The last unanswered frames, or a handshake-only socket, still get their line.
            self.finish_websocket_exchange(socket, "socket-closed")

    def finish_websocket_exchange(self, socket: Socket, ended_by: str) -> None:
        flow, messages = socket.flow, socket.pending or []
        seq = socket.next_seq
        socket.next_seq, socket.pending = seq + 1, None
        server_times = [frame["t"] for frame in messages if frame["from"] == "server"]
        start = messages[0]["t"] if messages else flow.request.timestamp_start
        # Only a terminal event proves the whole answer arrived: a client that sends its next request
        # without waiting for one (or a socket that closes) leaves this exchange incomplete.
        complete = socket.terminal
        close_code = flow.websocket.close_code if flow.websocket else None
        record = {
            "schema": SCHEMA_VERSION,
            "kind": "websocket",
            "id": f"{flow.id}:{seq}",
            "flow_id": flow.id,
            "seq": seq,
            "proxy": self.proxy_name(flow),
            "complete": complete,
            "ended_by": ended_by,
            "error": None if complete else f"{ended_by} before a terminal event (close code {close_code})",
            "timing": {
                "start": start,
                "first_byte": server_times[0] if server_times else None,
                "end": messages[-1]["t"] if messages else start,
            },
            "request": self.message_fields(flow.request)
            | {
                "method": stored.text(flow.request.method, self.policy),
                "url": stored.url(flow.request.url, self.policy),
                "path": stored.url(flow.request.path, self.policy),
                "http_version": flow.request.http_version,
            },
            "response": None
            if flow.response is None
            else (self.message_fields(flow.response) | {"status": flow.response.status_code}),
            "messages": messages,
        }
        self.append([capture_line.line(record)], "traffic.jsonl")

    # Shutdown -------------------------------------------------------------------------------

    def done(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        for socket in list(self.sockets.values()):
            if socket.pending:
                with self.recording("shutdown", socket.flow):
                    self.finish_websocket_exchange(socket, "proxy-stopped")
        for flow_id in list(self.deferred):
            self.record_deferred(flow_id)
        for flow in list(self.in_flight.values()):
            # Unanswered requests too: what the agent sent is worth keeping even without a reply.
            with self.recording("shutdown", flow):
                self.finish_http(flow, error="proxy stopped before the exchange ended")
        for name in ("background", "spooler"):  # the writer first: its records wait for their spools
            if getattr(self, name) is not None:
                getattr(self, name).shutdown(wait=True)  # every queued exchange reaches the disk before we close
                setattr(self, name, None)
        for name in ("traffic_fd", "status_fd", "run_lock"):
            if getattr(self, name) is not None:
                os.close(getattr(self, name))
                setattr(self, name, None)

    # Problems -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def recording(self, what: str, flow: http.HTTPFlow):
        """Run a hook's work; a failure is reported, never lost (mitmproxy would only log it and go on)."""
        try:
            yield
        except RecordingStopped as error:
            self.report("fatal", str(error))
        except Exception as error:
            where = stored.url(flow.request.url, self.policy) if flow.request else "?"
            self.report("recording-error", f"{what} of {where}: {type(error).__name__}: {error}")

    def report(self, kind: str, message: str) -> None:
        """Tell proxies.log and the capture process, which counts it in the manifest (recording_errors)."""
        line = " ".join(stored.text(message, self.policy).split())
        logging.error(f"probe: recording error: {line}")
        if self.status_fd is not None:
            try:
                os.write(self.status_fd, f"{kind} {line}\n".encode("utf-8", "replace"))
            except OSError:
                self.status_fd = None  # the capture process is gone; the log still has it

    # Helpers --------------------------------------------------------------------------------

    def proxy_name(self, flow: http.HTTPFlow) -> str:
        sockname = flow.client_conn.sockname
        port = sockname[1] if sockname else 0
        return self.proxy_names.get(port, f"port-{port}")

    def message_fields(self, message: http.Message) -> dict:
        fields = {"headers": [list(pair) for pair in stored.headers(stored.header_pairs(message), self.policy)]}
        if message.trailers is not None:
            fields["trailers"] = [
                list(pair) for pair in stored.headers(stored.header_pairs(message, "trailers"), self.policy)
            ]
        return fields

    def append(self, pieces: Iterable[bytes], name: str) -> None:
        """Append one line, given in pieces, to traffic.jsonl. The event loop never waits for a large line the
        writer thread is appending: its own line is then queued behind it."""
        if self.traffic_fd is None:
            return
        on_loop = self.loop_thread is not None and threading.current_thread() is self.loop_thread
        if not self.traffic_lock.acquire(blocking=not on_loop):
            self.background.submit(self.append_in_background, list(pieces), name)
            return
        try:
            fcntl.flock(self.traffic_fd, fcntl.LOCK_EX)
            try:
                append_whole(self.traffic_fd, pieces, name)
            finally:
                fcntl.flock(self.traffic_fd, fcntl.LOCK_UN)
        finally:
            self.traffic_lock.release()

    def append_in_background(self, pieces: list[bytes], name: str) -> None:
        try:
            self.append(pieces, name)
        except RecordingStopped as error:
            self.report("fatal", str(error))
        except Exception as error:
            self.report("recording-error", f"writing {name}: {type(error).__name__}: {error}")


def spooled_body_fields(spool: capture_spool.Spool) -> dict:
    """A spooled body's fields, `body` last: a stand-in for the body itself, which is written in its place."""
    if spool.failed is not None:  # the spool could not be written: the body cannot be stored
        if spool.failed.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RecordingStopped(f"recording stopped: {spool.failed.strerror} while spooling a response body")
        raise spool.failed
    return {
        "body_size": spool.size,
        "body_sha256": spool.sha256.hexdigest(),
        "body_format": "text" if spool.is_utf8 else "base64",
        "body": capture_line.PLACEHOLDER,
    }


def lower_priority() -> None:
    """The calling thread yields the processor to the event loop (and to the agent and the model's server, on the
    same machine): a large body's line is written when there is time, its body waiting on disk meanwhile."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class RecordingStopped(Exception):
    """Nothing more can be recorded (the disk is full): the capture process stops the run."""


def append_whole(fd: int, pieces: Iterable[bytes], name: str) -> None:
    """Append all of the pieces or none of them: a write that fails half-way (or a piece that cannot be made) is
    cut back off the file, so the next record is never glued to a partial one. A full disk stops the recording;
    other failures are one lost record."""
    size = os.fstat(fd).st_size
    try:
        for data in pieces:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RecordingStopped(f"recording stopped: {error.strerror} while writing {name}") from None
        raise


class MaskingFilter(logging.Filter):
    """Masks secrets in every log line before mitmproxy writes it (to proxies.log, in the run folder)."""

    def __init__(self, addon: "Capture"):
        super().__init__()
        self.addon = addon

    def filter(self, record: logging.LogRecord) -> bool:
        if self.addon.policy.redact:
            record.msg = redaction.mask_text(record.getMessage())[0]
            record.args = ()
        return True


def close_upstream(flow: http.HTTPFlow) -> None:
    """Close a flow's server connection, so mitmproxy ends the flow with an error (a 502 if no answer began).

    mitmproxy cannot kill a flow in transit (its issue 4711), so this reaches into the proxy server's
    connection table; if that ever changes shape, stalls are logged instead of cut off.
    """
    try:
        handler = ctx.master.addons.get("proxyserver").connections[flow.client_conn.id]
        handler.transports[flow.server_conn].writer.close()
    except (AttributeError, KeyError, TypeError) as error:
        logging.warning(
            f"probe: cannot cut off stalled upstream of {flow.request.url}: {error!r}"
        )  # masked by the filter


def parse_upstream_proxy(url: str) -> tuple[tuple[str, int] | None, str | None]:
    """("host", port) and the Proxy-Authorization value (or None) for http://[user:pass@]host:port."""
    if not url:
        return None, None
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 8080
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None:
        # The value is not repeated: it may hold credentials, and this message goes to the log.
        raise exceptions.OptionsError(f"${UPSTREAM_PROXY_VARIABLE}: expected http://[user:pass@]host:port")
    authorization = None
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
    return (parts.hostname, port), authorization


def parse_proxy_names(spec: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        port, sep, name = pair.partition("=")
        if not sep or not port.isdigit() or not name:
            raise exceptions.OptionsError(f"probe_proxy_names: expected PORT=NAME, got {pair!r}")
        names[int(port)] = name
    return names


def lock_run_folder(traffic: str) -> int | None:
    """A shared lock on the folder holding traffic.jsonl, kept while the proxies run, so that the analyzer knows
    a `running` run is still being written (probe.runs.folders.being_recorded takes the same lock exclusively to
    test)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(traffic)), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # only a hint for the analyzer: recording goes on without it
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def open_private(path: str) -> int:
    """Open for appending, readable by the owner only."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as error:
        raise exceptions.OptionsError(f"cannot open {path}: {error.strerror}") from None


addons = [Capture()]
