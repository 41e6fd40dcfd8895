"""What MCP servers a run has: --mcp-server NAME=COMMAND|URL, --mcp-config FILE, and with --home own the user's own
MCP configuration, read and never written."""

import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from probe.common.bounded_read import read_at_most
from probe.common.errors import UsageError, one_line
from probe.runs.mcp_switch import McpSwitch, OwnConfig

# A name the agents take as is: Claude Code's tools become mcp__<name>__<tool>, and codex's -c mcp_servers.<name>
# is a bare TOML key.
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
MAX_CONFIG = 4_000_000  # bytes of an MCP configuration read; ~/.claude.json grows with its project history
OPTION, CONFIG, OWN_HOME = "option", "config", "own-home"


@dataclass(frozen=True)
class McpServer:
    """One MCP server of a run, by the name the agent knows it by: a program over stdio, or an HTTP endpoint."""

    name: str
    transport: str  # stdio | http
    command: tuple[str, ...] = ()  # stdio: the program and its arguments
    env: dict[str, str] = field(default_factory=dict)  # stdio: variables added to the server's environment
    url: str | None = None  # http: the server's own URL
    headers: dict[str, str] = field(default_factory=dict)  # http: sent with every request
    origin: str = OPTION  # option (--mcp-server) | config (--mcp-config) | own-home (the user's own configuration)


def server_option(text: str) -> McpServer:
    """--mcp-server NAME=COMMAND (a command line, split as a shell splits it) or NAME=http(s)://…"""
    name, equals, value = text.partition("=")
    where = f"--mcp-server {text}"
    if not equals or not value.strip():
        raise UsageError(f"{where}: expected NAME=COMMAND or NAME=URL")
    check_name(name, where)
    if URL.match(value):
        return McpServer(name, "http", url=value)
    try:
        command = tuple(shlex.split(value))
    except ValueError as error:
        raise UsageError(f"{where}: {error}") from None
    return McpServer(name, "stdio", command=command)


def check_name(name: str, where: str) -> None:
    if not NAME.match(name):
        raise UsageError(f"{where}: server name {name[:80]!r}: expected letters, digits, _ or - (64 at most)")


def config_file_servers(path: str) -> list[McpServer]:
    """The servers of a Claude-style `{"mcpServers": {NAME: {...}}}` file given with --mcp-config."""
    where = f"--mcp-config {path}"
    data = read_config(Path(path), where)
    if data is None:
        raise UsageError(f"{where}: no such file")
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise UsageError(f'{where}: expected {{"mcpServers": {{NAME: {{"command": …}} | {{"url": …}}}}}}')
    return [server for name, entry in servers.items() if (server := entry_server(name, entry, CONFIG, where))]


def read_config(path: Path, where: str):
    """The parsed JSON (or TOML, for a .toml file) of a configuration file; None if there is no regular file."""
    if not path.is_file():
        return None
    try:
        data = read_at_most(path, MAX_CONFIG)
    except OSError as error:
        raise UsageError(f"{where}: cannot read: {error.strerror}") from None
    if data is None:
        raise UsageError(f"{where}: over the {MAX_CONFIG:,}-byte limit for an MCP configuration")
    try:
        text = data.decode("utf-8")
        return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text") from None
    except ValueError as error:
        raise UsageError(one_line(f"{where}: not valid {path.suffix[1:].upper()}: {error}")) from None


def entry_server(name: object, entry: object, origin: str, where: str) -> McpServer | None:
    """One entry of a configuration's servers (Claude Code's and codex's alike: command, args, env; url, headers or
    http_headers); None for one its agent has switched off (codex's `enabled = false`)."""
    place = f"{where}: server {str(name)[:80]!r}"
    check_name(str(name), where)
    if not isinstance(entry, dict):
        raise UsageError(f"{place}: expected a mapping")
    if entry.get("enabled", True) is False or entry.get("disabled") is True:
        return None
    # gemini-cli and Qwen Code name a streamable HTTP server's URL httpUrl.
    kind = entry.get("type", "http" if "url" in entry or "httpUrl" in entry else "stdio")
    if kind in ("http", "streamable-http", "streamableHttp"):
        url, headers = entry.get("httpUrl", entry.get("url")), entry.get("headers", entry.get("http_headers", {}))
        if not isinstance(url, str) or not URL.match(url):
            raise UsageError(f"{place}: expected its url, http(s)://…")
        return McpServer(name, "http", url=url, headers=strings(headers, f"{place}: headers"), origin=origin)
    if kind != "stdio":
        raise UsageError(f"{place}: its transport {str(kind)[:40]!r} is not recorded (stdio and http are)")
    command, args = entry.get("command"), entry.get("args", [])
    if not isinstance(command, str) or not command:
        raise UsageError(f"{place}: expected its command")
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise UsageError(f"{place}: expected its args as a list of strings")
    env = strings(entry.get("env", {}), f"{place}: env")
    return McpServer(name, "stdio", command=(command, *args), env=env, origin=origin)


def strings(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise UsageError(f"{where}: expected a mapping of strings")
    return dict(value)


def given_servers(options: list[str], config_files: list[str]) -> list[McpServer]:
    """The servers given on agent-probe's side, in order; a name given twice is a one-line error."""
    servers = [server_option(text) for text in options]
    servers += [server for path in config_files for server in config_file_servers(path)]
    seen: set[str] = set()
    for server in servers:
        if server.name in seen:
            raise UsageError(f"MCP server {server.name!r} is given twice (--mcp-server, --mcp-config)")
        seen.add(server.name)
    return servers


def own_servers(switch: McpSwitch, workdir: str | None, environ: dict[str, str] | None = None) -> list[McpServer]:
    """The servers of the user's own configuration (switch.own), a later place winning for a name given twice, as
    the agent's own scopes do. A place under {workdir} is left out without a working folder known now (a fresh one)."""
    found: dict[str, McpServer] = {}
    for path, data in own_places(switch, workdir, environ):
        where = f"{path} (--no-mcp leaves it alone)"
        found |= {
            name: server for name, entry in data.items() if (server := entry_server(name, entry, OWN_HOME, where))
        }
    return list(found.values())


def own_places(switch: McpSwitch, workdir: str | None, environ: dict[str, str] | None = None):
    """Each place of the user's own configuration that holds a mapping of servers, as (its file, that mapping), in
    the order of switch.own; a place under {workdir} is left out without a working folder known now."""
    environ = dict(os.environ) if environ is None else environ
    for place in switch.own:
        if "{workdir}" in place.file + "".join(place.key) and workdir is None:
            continue
        path = own_path(place, workdir, environ)
        data = read_config(path, f"your MCP configuration {path} (--no-mcp leaves it alone)")
        for key in place.key:
            data = data.get(key.replace("{workdir}", workdir or "")) if isinstance(data, dict) else None
        if isinstance(data, dict):
            yield path, data


def own_path(place: OwnConfig, workdir: str | None, environ: dict[str, str]) -> Path:
    path = Path(place.file.replace("{workdir}", workdir or "")).expanduser()
    if place.moved_by and environ.get(place.moved_by):
        path = Path(environ[place.moved_by]) / path.name
    return path
