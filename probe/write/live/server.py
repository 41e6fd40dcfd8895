"""Serves a live run's viewer from 127.0.0.1 only, to whoever holds the random token in its address: the page
itself, and what the run added since what the page holds."""

import hmac
import secrets
import socketserver
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from probe.common.errors import warn
from probe.write.live.run_data import LiveData
from probe.write.viewer.page import policy, write_page

HOST = "127.0.0.1"  # nothing else: the page holds a run's traffic
PAGE_IN_MEMORY = 8 * 1024 * 1024  # bytes of a page built in memory before it spills to disk
NEWS_WAIT = 15.0  # seconds a question waits for news before it is answered with none (the page asks again)
# On every answer: nothing is cached, nothing guessed from the content, no address leaves in a Referer, and nothing
# may frame or embed it.
SAFE_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
NOTHING_ALLOWED = "default-src 'none'; frame-ancestors 'none'"


class LiveServer(ThreadingHTTPServer):
    """The server, bound to 127.0.0.1 on a free port; `url` holds its token."""

    daemon_threads = True

    def __init__(self, data: LiveData) -> None:
        self.data = data
        self.token = secrets.token_urlsafe(32)
        super().__init__((HOST, 0), Handler)
        self.port = self.server_address[1]
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}  # any other name: DNS rebinding
        self.thread = threading.Thread(target=self.serve_forever, name="probe-live-viewer", daemon=True)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # (HTTPServer's would look the host's name up: no need)
        self.server_name, self.server_port = HOST, self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{self.token}/"

    def start(self) -> "LiveServer":
        self.thread.start()
        return self

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address) -> None:
        """A page closed before its answer was sent is nothing to report; anything else is one line, never a
        traceback in the run's terminal."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            warn(f"live viewer: a request failed: {type(error).__name__}: {error}")


class Handler(BaseHTTPRequestHandler):
    server: LiveServer
    server_version, sys_version = "agent-probe", ""
    protocol_version = "HTTP/1.1"  # the page's questions reuse one connection
    timeout = 60  # seconds an idle connection is kept

    def do_GET(self) -> None:
        route = self.route()
        if route is None:
            return
        if route == "":
            self.send_page()
        elif route == "since":
            self.send_news()
        else:
            self.answer(404, b"not found\n", "text/plain; charset=utf-8")

    def route(self) -> str | None:
        """What the request asks for under the token; None once it has been refused."""
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].lower() not in self.server.hosts:
            self.answer(403, b"forbidden: ask for this viewer by the address it printed\n", "text/plain; charset=utf-8")
            return None
        path = self.path.partition("?")[0]
        token, slash, rest = path.removeprefix("/").partition("/")
        given = token.encode("latin-1", "replace")  # (http.server decodes the request line as latin-1)
        if not (path.startswith("/") and slash and hmac.compare_digest(given, self.server.token.encode("ascii"))):
            self.answer(403, b"forbidden: this viewer's address holds a token\n", "text/plain; charset=utf-8")
            return None
        return rest

    def send_page(self) -> None:
        data = self.server.data
        snapshot = data.snapshot()
        with tempfile.SpooledTemporaryFile(PAGE_IN_MEMORY, "w+b") as page:
            generated = time.strftime("%Y-%m-%d %H:%M:%S %z")
            write_page(page, lambda out: data.write_page_data(out, snapshot), generated, live=True)
            size = page.tell()
            page.seek(0)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Security-Policy", policy(live=True) + "; frame-ancestors 'none'")
            self.end_headers()
            while chunk := page.read(1 << 20):
                self.wfile.write(chunk)

    def send_news(self) -> None:
        query = parse_qs(self.path.partition("?")[2])
        try:
            values, turns, version = (int(query[name][0]) for name in ("values", "turns", "version"))
        except (KeyError, ValueError):
            self.answer(400, b"ask with values, turns and version\n", "text/plain; charset=utf-8")
            return
        self.server.data.wait((values, turns), version, NEWS_WAIT)
        news = self.server.data.news((values, turns), version)
        if news is None:
            self.answer(400, b"more values or turns than the run holds\n", "text/plain; charset=utf-8")
            return
        self.answer(200, news, "application/json")

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", NOTHING_ALLOWED)
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals (a malformed request, a method other than GET) as plain text, with the headers
        every answer has."""
        self.close_connection = True
        phrase = self.responses.get(code, ("error",))[0]
        self.answer(code, f"{code} {phrase}\n".encode("ascii", "replace"), "text/plain; charset=utf-8")

    def end_headers(self) -> None:
        for name, value in SAFE_HEADERS:  # on every answer, http.server's own errors too
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        """Quiet: each request's line would print the token, and the run's terminal has better to show."""
