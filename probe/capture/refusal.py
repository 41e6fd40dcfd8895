"""The proxy a run against a stand-in model (the mock, a replay) hands its agent, and every agent asked its version: a
listener of the capture's own on loopback that refuses every connection, so that whatever the agent's home, login or
settings name (a telemetry host, a plugin index, a login's profile, an MCP server), it reaches nothing beyond this
machine, nor the user's own proxy."""

import socket
import threading

from probe.capture.forward import LOOPBACK, PROXY_VARIABLES

REFUSED = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
EVERY_PROXY_VARIABLE = (*PROXY_VARIABLES, "ALL_PROXY", "all_proxy")
_listener: str | None = None
_lock = threading.Lock()


def refuse(server: socket.socket) -> None:
    while True:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(2)
            try:
                connection.recv(4096)
                connection.sendall(REFUSED)
            except OSError:
                pass


def refusing_url() -> str:
    """The URL of this process's refusing listener, started at its first use (one for every run of the process)."""
    global _listener
    with _lock:
        if _listener is None:
            server = socket.create_server(("127.0.0.1", 0))
            threading.Thread(target=refuse, args=(server,), daemon=True, name="refusing-proxy").start()
            _listener = f"http://127.0.0.1:{server.getsockname()[1]}"
        return _listener


def refusing_environment(stand_in: bool) -> dict[str, str]:
    """For a run against a stand-in model, every proxy variable at the refusing listener, with only the run's loopback
    proxies reached directly; nothing for another run."""
    if not stand_in:
        return {}
    url = refusing_url()
    return {name: url for name in EVERY_PROXY_VARIABLE} | {"NO_PROXY": LOOPBACK, "no_proxy": LOOPBACK}
