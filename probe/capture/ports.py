"""Which port each proxy listens on: the ones asked for, checked free, or free ones picked at start."""

import re
import socket

from probe.common.errors import ProxyError
from probe.common.paths import display
from probe.runs.targets import Target


def parse_port_overrides(specs: list[str], target: Target) -> dict[str, int]:
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


def choose_ports(target: Target, overrides: dict[str, int]) -> dict[str, int]:
    """Each proxy's port, checked free before anything starts."""
    ports = {}
    for proxy in target.proxies:
        port = overrides.get(proxy.name, proxy.listen) or free_port()
        with socket.socket() as probe_socket:
            try:
                probe_socket.bind(("127.0.0.1", port))
            except OSError:
                source = display(target.path) if target.path else "the target file"
                raise ProxyError(
                    f"port {port} for proxy {proxy.name!r} is busy; choose another with "
                    f"--port {proxy.name}=PORT (0 picks a free one) or change its listen: in {source}"
                ) from None
        ports[proxy.name] = port
    return ports
