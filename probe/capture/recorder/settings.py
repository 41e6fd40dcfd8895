"""The addon's settings and surroundings: the proxies' names and ports, the upstream proxy, the proxy server."""

import base64
import logging
import urllib.parse

from mitmproxy import ctx, exceptions, http

UPSTREAM_PROXY_VARIABLE = "PROBE_UPSTREAM_PROXY"  # how probe.capture.upstreams hands the addon the proxy


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


def listening_ports() -> list[int]:
    """The ports mitmproxy's servers are bound to (with port 0 asked for, the ones the system gave)."""
    proxyserver = ctx.master.addons.get("proxyserver")
    servers = proxyserver.servers if proxyserver is not None else []
    return sorted({address[1] for server in servers for address in server.listen_addrs})


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
