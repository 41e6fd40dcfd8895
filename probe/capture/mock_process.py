"""The bundled mock model server (probe.mock) as a run starts it: on a socket bound here first, so that its URL is
known at once and mitmdump, which needs that URL, starts beside it rather than after it."""

import select
import socket
import subprocess
import sys
from dataclasses import dataclass

from probe.capture import processes
from probe.common.errors import ProxyError

READY = "mock listening on "  # the mock's first line on stdout


@dataclass
class StartingMock:
    """A mock whose process is starting: its URL already reaches it (the socket listens), `ready` confirms it."""

    process: subprocess.Popen
    url: str

    def ready(self, timeout: float) -> tuple[subprocess.Popen, str]:
        """Wait until it says it serves, and return it with its URL; a mock that did not start is stopped."""
        try:
            processes.Interrupts.raise_pending()
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            line = self.process.stdout.readline() if ready else ""
        except BaseException:
            processes.stop(self.process)
            raise
        if not line.startswith(READY):
            processes.stop(self.process)
            error = self.process.stderr.read().strip().splitlines()
            raise ProxyError(f"the mock upstream did not start: {error[-1] if error else 'no output'}")
        return self.process, self.url


def spawn_mock(transport: str, finish_command: str | None = None) -> StartingMock:
    """Start our mock model server on a free port of 127.0.0.1, bound and listening here and handed to it, so
    that a connection made before it has started waits for it rather than failing."""
    finishing = [f"--finish-command={finish_command}"] if finish_command else []  # one word: it may start with -
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(socket.SOMAXCONN)
        port = listening.getsockname()[1]
        argv = [sys.executable, "-m", "probe.mock", "--socket-fd", str(listening.fileno()), "--transport", transport]
        process = processes.spawn(
            [*argv, *finishing],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            pass_fds=(listening.fileno(),),
        )
    return StartingMock(process, f"http://127.0.0.1:{port}/")
