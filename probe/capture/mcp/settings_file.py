"""MCP servers given through a key of a settings file (agent.mcp style `settings`): merged into the private home's
settings file, or with --home own into a settings file of the run's that the agent takes over the user's own."""

import json
import os
from pathlib import Path

from probe.capture.mcp.servers import McpServer, own_places, read_config
from probe.common.errors import UsageError
from probe.runs.mcp_switch import McpSwitch, SettingsFile

# An own entry's keys that say where its server is: replaced by the relay's command, or by the proxy's URL.
WHERE_KEYS = ("command", "args", "url", "httpUrl", "type", "tcp")
OVERRIDE_FILE = "mcp-settings.json"  # in the agent's private state folder, never the user's home


def own_entries(switch: McpSwitch, workdir: str | None, environ: dict[str, str] | None = None) -> dict[str, dict]:
    """The user's own entries as written (name -> entry), later places winning as in servers.own_servers: their
    other keys (env, cwd, timeout, trust, includeTools…) go on with the wrapped entry, which replaces the whole of
    theirs."""
    found: dict[str, dict] = {}
    for _, data in own_places(switch, workdir, environ):
        found |= {str(name): entry for name, entry in data.items() if isinstance(entry, dict)}
    return found


def entry(server: McpServer, relay: list[str], mcp_urls: dict[str, str], url_key: str, own: dict | None) -> dict:
    """The server's entry in the settings: its stdio command the relay (`relay`, the program first), its HTTP URL
    the proxy's. Over one of the user's own, only those keys change."""
    kept = {key: value for key, value in (own or {}).items() if key not in WHERE_KEYS}
    if server.transport == "http":
        headers = {} if own is not None or not server.headers else {"headers": server.headers}
        return kept | {url_key: mcp_urls[server.name]} | headers
    program, *arguments = relay
    env = {} if own is not None or not server.env else {"env": server.env}
    return kept | {"command": program, "args": arguments} | env


def merged(settings: object, key: tuple[str, ...], entries: dict[str, dict], where: str) -> dict:
    """`settings` with `entries` over the servers found at `key` (made where missing)."""
    settings = dict(settings) if isinstance(settings, dict) else {}
    node = settings
    for index, name in enumerate(key):
        inner = node.get(name, {})
        if not isinstance(inner, dict):
            raise UsageError(f"{where}: {'.'.join(key[: index + 1])} is not a mapping")
        node[name] = dict(inner) | (entries if index == len(key) - 1 else {})
        node = node[name]
    return settings


def write_settings(path: Path, settings: dict) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # one the target's files wrote first keeps its mode otherwise
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(settings, indent=2))
    return path


def into_private_home(place: SettingsFile, home: Path, entries: dict[str, dict]) -> None:
    """The servers merged into the private home's settings file, over what the target's files wrote there."""
    path = home / place.file
    write_settings(path, merged(read_config(path, f"the private home's {place.file}"), place.key, entries, place.file))


def over_own_home(place: SettingsFile, home: Path, entries: dict[str, dict], environ: dict[str, str]) -> dict:
    """--home own: a settings file of the run's, in its private state folder, holding the settings of the one the
    agent would have taken in its place (read, never written) with the servers over them; the variable naming it."""
    if not place.override:
        return {}
    taken = Path(environ.get(place.override) or place.override_default)
    settings = read_config(taken, f"your settings file {taken}") if taken.is_absolute() else None
    written = write_settings(home / OVERRIDE_FILE, merged(settings, place.key, entries, str(taken)))
    return {place.override: str(written)}
