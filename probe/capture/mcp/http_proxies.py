"""The reverse proxies of a run's HTTP MCP servers: each server's URL checked, a free port of the run's mitmdump for
it, the `--mode` that serves it there, and the local URL the agent is given in its place (path and query kept)."""

import json
import re
import urllib.parse

from probe.capture.ports import free_port
from probe.common.errors import ProxyError
from probe.redact.urls_and_headers import mask_url

# How the capture addon learns each MCP proxy's server and upstream URL: never an option, which would show in
# mitmdump's argv (every user can read it), and a URL's query may hold a key.
MCP_PROXIES_VARIABLE = "PROBE_MCP_PROXIES"
SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_mcp_upstreams(upstreams: dict[str, str]) -> None:
    """Refuse a server name or URL the proxies cannot serve, in one line that shows no secret of the URL."""
    for name, url in upstreams.items():
        if not SERVER_NAME.fullmatch(name):
            raise ProxyError(f"MCP server name {name!r}: expected letters, digits, '.', '_' or '-' (at most 64)")
        parts = urllib.parse.urlsplit(url)
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number or past 65535)
        except ValueError:
            raise ProxyError(f"MCP server {name}: {mask_url(url)[0]}: its port is not one of 0-65535") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
            raise ProxyError(
                f"MCP server {name}: {mask_url(url)[0]}: expected http(s)://host[:port]/path, without user:password"
            )


def choose_mcp_ports(upstreams: dict[str, str]) -> dict[str, int]:
    """A free loopback port for each server's proxy (picked again on each attempt to start mitmdump)."""
    return {name: free_port() for name in upstreams}


def mode_arguments(upstreams: dict[str, str], ports: dict[str, int]) -> list[str]:
    """mitmdump's `--mode reverse:…@PORT` for each server: only its scheme, host and port, as the agent's request
    keeps its own path and query (a reverse proxy replaces only where the request goes)."""
    argv = []
    for name, url in upstreams.items():
        parts = urllib.parse.urlsplit(url)
        argv += ["--mode", f"reverse:{parts.scheme}://{parts.netloc}@{ports[name]}"]
    return argv


def local_urls(upstreams: dict[str, str], ports: dict[str, int]) -> dict[str, str]:
    """The URL the agent is given for each server: its proxy's, with the upstream's path and query."""
    urls = {}
    for name, url in upstreams.items():
        parts = urllib.parse.urlsplit(url)
        urls[name] = urllib.parse.urlunsplit(("http", f"127.0.0.1:{ports[name]}", parts.path, parts.query, ""))
    return urls


def addon_variable(upstreams: dict[str, str], ports: dict[str, int]) -> str:
    """The value of $PROBE_MCP_PROXIES: {port: {name, url}}, read by the capture addon."""
    return json.dumps({str(ports[name]): {"name": name, "url": url} for name, url in upstreams.items()})


def describe(upstreams: dict[str, str], urls: dict[str, str]) -> list[str]:
    """One line per server for the run's listing of its proxies, secrets of the URLs masked."""
    return [f"mcp {name}  {mask_url(urls[name])[0]} -> {mask_url(url)[0]}" for name, url in upstreams.items()]
