"""mitmproxy addon that records every exchange through the proxies (reverse, and forward) as one JSON line each.

It is loaded with `mitmdump -s` and must also run under a mitmdump installed on its own, so it imports only the
recorder's own modules and those they need of `probe.common` and `probe.redact` (what a record holds, how bodies
are decoded, how secrets are masked), none of which needs more than the standard library and mitmproxy's own
dependencies. It is configured only through its own options, and the environment for the upstream proxy and the
forward proxy's credentials.
"""

import asyncio
import concurrent.futures
import contextlib
import fcntl
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from mitmproxy import ctx, exceptions, http

if __name__ != "probe.capture.recorder.addon":
    # Loaded by `mitmdump -s` as a file, perhaps under a mitmdump installed on its own: the folder holding the
    # probe package goes first on sys.path, so that the imports below find this project's modules.
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from probe.capture.recorder import record as stored
from probe.capture.recorder.body_file import BodyFile
from probe.capture.recorder.exchanges import HttpRecording
from probe.capture.recorder.files import (
    RecordingStopped,
    append_whole,
    lock_run_folder,
    lower_priority,
    open_private,
)
from probe.capture.recorder.forward import ForwardRecording
from probe.capture.recorder.mcp_http import McpHttpRecording
from probe.capture.recorder.settings import (
    UPSTREAM_PROXY_VARIABLE,
    close_upstream,
    listening_ports,
    parse_proxy_names,
    parse_upstream_proxy,
)
from probe.capture.recorder.sockets import Socket, WebSocketRecording
from probe.capture.recorder.tee import SPOOL_THRESHOLD, Tee
from probe.redact import maintained
from probe.redact import masking as redaction

BACKGROUND_THRESHOLD = 1_000_000  # bytes of body above which an exchange is recorded off the event loop


class Capture(HttpRecording, WebSocketRecording, McpHttpRecording, ForwardRecording):
    """Tees every response, and writes each finished exchange to traffic.jsonl (an MCP server's, to mcp.jsonl)."""

    def __init__(self) -> None:
        McpHttpRecording.__init__(self)
        self.traffic_fd: int | None = None
        self.status_fd: int | None = None
        self.run_lock: int | None = None
        self.proxy_names: dict[int, str] = {}
        self.policy = stored.Policy()
        self.in_flight: dict[str, http.HTTPFlow] = {}
        self.tees: dict[str, Tee] = {}
        self.sockets: dict[str, Socket] = {}
        self.no_proxy: list[str] = []
        self.refused: dict[str, str] = {}  # flow id -> why the forward proxy answered it 403 itself
        self.forward_offline = False  # a run against a stand-in model: the forward proxy records and refuses all
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
        loader.add_option("probe_mcp", str, "", "Append one JSON line per MCP message through an MCP proxy here.")
        loader.add_option(
            "probe_spool_threshold",
            int,
            SPOOL_THRESHOLD,
            "Bytes of response body above which it is kept on disk while it streams (0: never).",
        )
        loader.add_option("probe_proxy_names", str, "", "Comma-separated PORT=NAME pairs naming each listener.")
        loader.add_option("probe_redact_headers", str, "", "Comma-separated header names to redact as well.")
        loader.add_option("probe_keep_secrets", bool, False, "Store every secret unredacted (unsafe).")
        loader.add_option("probe_forward_offline", bool, False, "Record what reaches the forward proxy, forward none.")
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
        if "probe_forward_offline" in updated:
            self.forward_offline = ctx.options.probe_forward_offline
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
        if "probe_mcp" in updated and ctx.options.probe_mcp:
            self.open_mcp(ctx.options.probe_mcp)
            self.mcp_started()
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
        if self.spooler is None:
            self.spooler = concurrent.futures.ThreadPoolExecutor(1, "probe-spooler")
            # The maintained rules are loaded and compiled (and their prefilter read from the cache) before the
            # first body needs them, not while it streams.
            self.spooler.submit(maintained.warm)
        self.loop, self.loop_thread = asyncio.get_running_loop(), threading.current_thread()
        if self.stall_timeout > 0 and self.watchdog is None:
            self.watchdog = asyncio.get_running_loop().create_task(self.watch_for_stalls())
        self.prepare_forward()
        # mitmproxy binds its servers before `running`, and exits instead if one cannot bind: this line is how
        # the capture knows that the ports are this mitmdump's, not another run's that holds them.
        if self.status_fd is not None:
            self.tell("listening", " ".join(map(str, listening_ports())))

    # HTTP -----------------------------------------------------------------------------------

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        with self.recording("requestheaders", flow):
            self.track(flow)

    def track(self, flow: http.HTTPFlow) -> None:
        if self.mcp_server(flow) is None:  # an MCP flow is recorded apart, and a stream of its may idle for long
            self.in_flight[flow.id] = flow
        # A server of the run's on this machine is reached directly: an upstream proxy elsewhere cannot reach it.
        if self.upstream_proxy and not self.bypasses_proxy(flow.request.host) and not self.mcp_direct(flow):
            flow.server_conn.via = ("http", self.upstream_proxy)

    def http_connect_upstream(self, flow: http.HTTPFlow) -> None:
        """The CONNECT sent to the upstream proxy carries its credentials; the agent's own headers are untouched."""
        if self.proxy_authorization:
            flow.request.headers["Proxy-Authorization"] = self.proxy_authorization

    def bypasses_proxy(self, host: str) -> bool:
        host = host.lower()
        return any(host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")) for entry in self.no_proxy)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response.status_code == 101 or flow.id in self.refused:
            return  # a WebSocket handshake (its frames are captured by the websocket hooks), or our own refusal
        with self.recording("responseheaders", flow):
            if self.mcp_server(flow) is not None:
                self.mcp_responseheaders(flow)
                return
            folder = os.path.dirname(ctx.options.probe_traffic or ".")
            encoding = flow.response.headers.get("content-encoding", "").strip().lower()
            # A body as it travelled is stored in a file of its own; a compressed one is decoded whole, in the line.
            body_file = (
                functools.partial(BodyFile, folder, self.policy.redact) if encoding in ("", "identity") else None
            )
            tee = Tee(self.spool_threshold, folder, self.spooler, body_file)
            self.tees[flow.id] = tee
            flow.response.stream = tee

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            with self.recording("response", flow):
                if self.mcp_server(flow) is not None:
                    self.mcp_response(flow)
                    return
                self.finish_http(flow, error=self.refused.pop(flow.id, None), deferred=True)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is not None and flow.response is not None and flow.response.status_code == 101:
            return  # the socket's end is handled by websocket_end
        with self.recording("error", flow):
            message = flow.error.msg if flow.error else "unknown error"
            if self.mcp_server(flow) is not None:
                self.mcp_response(flow, message)
                return
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
        # Read now, not when the record is written (later, in the writer thread): by then either side may be gone.
        agent_hung_up = error is not None and not flow.client_conn.connected
        tee = self.tees.pop(flow.id, None)
        if tee is not None:
            tee.finish()
        size = len(flow.request.raw_content or b"") + (tee.size if tee else 0)
        if self.background is not None and (size >= BACKGROUND_THRESHOLD or (tee and tee.spool)):
            self.background.submit(self.record_in_background, flow, tee, error, agent_hung_up)
        elif deferred and self.loop is not None:
            self.deferred[flow.id] = (flow, tee, error)
            self.loop.call_soon(self.record_deferred, flow.id)
        else:
            self.record_http(flow, tee, error, agent_hung_up)

    def record_deferred(self, flow_id: str) -> None:
        flow, tee, error = self.deferred.pop(flow_id, (None, None, None))
        if flow is not None:
            with self.recording("response", flow):
                self.record_http(flow, tee, error, agent_hung_up=False)

    def record_in_background(
        self, flow: http.HTTPFlow, tee: Tee | None, error: str | None, agent_hung_up: bool
    ) -> None:
        with self.recording("background writer", flow):
            self.record_http(flow, tee, error, agent_hung_up)

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
        self.mcp_done()
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
        self.tell(kind, line)

    def tell(self, kind: str, line: str) -> None:
        """One line on the status pipe to the capture process (probe.capture.status), if it gave one."""
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


addons = [Capture()]
