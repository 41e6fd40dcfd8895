"""Which port each proxy listens on: a free one, unless the user fixed it, and what to say when a fixed one is busy."""

import re
import socket

from probe.common.errors import ProxyError
from probe.common.paths import display
from probe.runs.targets import Target


class PortTaken(ProxyError):
    """mitmdump could not bind a port: another process took it between our check and mitmdump's bind."""

    def __init__(self, port: int, message: str):
        super().__init__(message)
        self.port = port


def parse_port_overrides(specs: list[str], target: Target) -> dict[str, int]:
    """--port NAME=PORT options as {name: port}."""
    names = [proxy.name for proxy in target.proxies]
    overrides = {}
    for spec in specs:
        name, sep, port = spec.partition("=")
        # ASCII digits only: str.isdigit() also takes "٣" and "²".
        if not sep or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
            raise ProxyError(
                f"--port {spec}: expected NAME=PORT with PORT from 0 to 65535, for example --port {names[0]}=18080"
            )
        if name not in names:
            raise ProxyError(f"--port {spec}: target {target.name} has no proxy {name!r} (it has {', '.join(names)})")
        overrides[name] = int(port)
    return overrides


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


def requested_ports(target: Target, overrides: dict[str, int], listen_from_target: bool) -> dict[str, int]:
    """Each proxy's fixed port, or 0 for a free one: the --port given for it, else with `listen_from_target` (the
    `proxies` command) its `listen:` in the target file."""
    return {
        proxy.name: overrides.get(proxy.name, proxy.listen if listen_from_target else 0) for proxy in target.proxies
    }


def choose_ports(target: Target, requested: dict[str, int], overrides: dict[str, int]) -> dict[str, int]:
    """Each proxy's port: a fixed one checked free before anything starts, else a free one picked now."""
    ports = {}
    for name, port in requested.items():
        if not port:
            ports[name] = free_port()
            continue
        with socket.socket() as probe_socket:
            try:
                probe_socket.bind(("127.0.0.1", port))
            except OSError:
                raise ProxyError(busy(target, name, port, overrides)) from None
        ports[name] = port
    return ports


def busy(target: Target, name: str, port: int, overrides: dict[str, int]) -> str:
    """The one line saying a fixed port is taken, and how to choose another."""
    if name in overrides:
        return f"port {port} for proxy {name!r} is busy; choose another with --port {name}=PORT (0 picks a free one)"
    source = display(target.path) if target.path else "the target file"
    return (
        f"port {port} for proxy {name!r} is busy; choose another with --port {name}=PORT "
        f"(0 picks a free one) or change its listen: in {source}"
    )


BIND_FAILED = re.compile(r"failed to listen on \S*:(\d+) ")


def port_taken(log_text: str) -> int | None:
    """The port mitmdump said it failed to listen on, if its log says so."""
    match = BIND_FAILED.search(log_text)
    return int(match.group(1)) if match else None
