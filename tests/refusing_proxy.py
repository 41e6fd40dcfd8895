"""An upstream proxy that records and refuses everything: what a test points HTTPS_PROXY, HTTP_PROXY and ALL_PROXY
at to prove that a process reaches no host beyond this machine (it must get no request)."""

import socket
import threading

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


class RefusingProxy:
    """Listens on loopback, keeps the first line of whatever connects (a CONNECT, a GET), and answers 403."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.seen: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                try:
                    self.seen.append(connection.recv(4096).split(b"\r\n")[0])
                    connection.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                except OSError:
                    self.seen.append(b"(a connection that sent nothing)")

    def environment(self, environ: dict[str, str]) -> dict[str, str]:
        """`environ` with every proxy variable (both cases) pointing here, and no NO_PROXY of its own."""
        environ = {name: value for name, value in environ.items() if name.lower() != "no_proxy"}
        for name in PROXY_VARIABLES:
            environ[name] = environ[name.lower()] = self.url
        return environ

    def close(self) -> None:
        self.server.close()
