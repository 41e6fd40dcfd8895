"""How a run gives its MCP servers to the target's agent (agent.mcp): each stdio server started through the relay
(probe.capture.mcp.relay), each HTTP one at its proxy of the run's, under the name the agent knows it by; and the
manifest's `mcp` record."""

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from probe.capture.mcp import settings_file
from probe.capture.mcp.servers import OPTION, OWN_HOME, McpServer, given_servers, own_servers
from probe.capture.rules_cache import cache_arguments
from probe.capture.upstreams import is_local
from probe.common.cli import FRESH
from probe.common.errors import UsageError, warn
from probe.redact.secrets import mask_argv, mask_tokens_and_urls
from probe.runs.mcp_switch import SettingsFile
from probe.runs.targets import Target

RECORD = "mcp.jsonl"
RELAY = "probe.capture.mcp.relay"
CONFIG_FILE = "mcp-servers.json"  # in the agent's private state folder, never the user's home


@dataclass
class McpPlan:
    """The run's servers and whether they are wrapped (recorded); `why` says why not."""

    servers: list[McpServer] = field(default_factory=list)
    wrapped: bool = False
    why: str = ""
    style: str = ""
    settings: SettingsFile | None = None  # style settings: the settings file and key the servers go into
    home: str = "private"
    own_entries: dict[str, dict] = field(default_factory=dict)  # style settings, --home own: the user's, as written
    allow: tuple[str, ...] = ()  # the target's agent.mcp.allow
    left_out: list[dict] = field(default_factory=list)  # servers a stand-in run did not give the agent, and why

    def http_upstreams(self) -> dict[str, str]:
        """name -> the server's own URL, for the run's proxies (start_proxies' mcp_upstreams)."""
        return (
            {server.name: server.url for server in self.servers if server.transport == "http"} if self.wrapped else {}
        )

    def arguments(self, run: Path, home: Path, mcp_urls: dict[str, str], prompt_run: bool = False) -> list[str]:
        """What the agent's command gets so that it starts each server wrapped; files it names are written into
        `home`, the run's private state folder (present with either --home), keeping env and headers off argv. A
        `prompt_run` (nobody there to answer) first allows the tools of the servers named for the run."""
        if not self.wrapped or not self.servers or self.style == "settings":
            return []
        if prompt_run:
            return self.allowed() + self.arguments(run, home, mcp_urls)
        if self.style == "claude-code":
            entries = {server.name: claude_entry(server, run, mcp_urls) for server in self.servers}
            path = write_private(home / CONFIG_FILE, json.dumps({"mcpServers": entries}, indent=2))
            # Only these: the user's own servers are among them, wrapped; its other sources would go unrecorded.
            return ["--mcp-config", str(path), "--strict-mcp-config"]
        return [argument for server in self.servers for argument in codex_arguments(server, run, home, mcp_urls)]

    def environment(self, run: Path, home: Path, mcp_urls: dict[str, str], environ: dict[str, str]) -> dict:
        """Style settings: the servers written into the private home's settings file (after the target's files),
        or with --home own into a settings file of the run's that wins over the user's; the variable naming that
        file, for the agent's environment (`environ`: the agent's, to find the one it would have taken)."""
        if not self.wrapped or not self.servers or self.settings is None:
            return {}
        url_key, own = self.settings.url_key, self.own_entries
        entries = {
            server.name: settings_file.entry(
                server,
                relay_command(server, run),
                mcp_urls,
                url_key,
                own.get(server.name) if server.origin == OWN_HOME else None,
            )
            for server in self.servers
        }
        if self.home == "private":
            settings_file.into_private_home(self.settings, home, entries)
            return {}
        return settings_file.over_own_home(self.settings, home, entries, environ)

    def allowed(self) -> list[str]:
        """The target's agent.mcp.allow for each server named for the run; your own servers (--home own) keep the
        permissions your own settings give them."""
        named = [server for server in self.servers if server.origin != OWN_HOME]
        return [argument.replace("{name}", server.name) for server in named for argument in self.allow]

    def manifest(self) -> dict:
        servers = [described(server) for server in self.servers]
        said = {"servers": servers, "wrapped": self.wrapped} | ({} if self.wrapped else {"why": self.why})
        return said | ({"left_out": self.left_out} if self.left_out else {})


def described(server: McpServer) -> dict:
    where = {"command": mask_argv(list(server.command))} if server.transport == "stdio" else {}
    where |= {"url": mask_tokens_and_urls(server.url)} if server.url else {}
    return {"name": server.name, "transport": server.transport, **where, "from": server.origin}


def relay_command(server: McpServer, run: Path, env_file: Path | None = None) -> list[str]:
    """The relay wrapping the server's own command, run by this Python (the capture's), with the capture's cache."""
    chosen = ["--env", str(env_file)] if env_file else []
    record = str((run / RECORD).resolve())
    return [sys.executable, "-m", RELAY, record, server.name, *chosen, *cache_arguments(), "--", *server.command]


def claude_entry(server: McpServer, run: Path, mcp_urls: dict[str, str]) -> dict:
    if server.transport == "http":
        return {"type": "http", "url": mcp_urls[server.name]} | ({"headers": server.headers} if server.headers else {})
    program, *arguments = relay_command(server, run)
    return {"command": program, "args": arguments} | ({"env": server.env} if server.env else {})


def codex_arguments(server: McpServer, run: Path, home: Path, mcp_urls: dict[str, str]) -> list[str]:
    """-c mcp_servers.<name>.…: over the user's own entry only what wraps it (codex itself gives the relay the env of
    an own-home entry, which the relay passes on); a server given here gets its env through a private file, and is
    required: codex 0.169.0 otherwise sends its first request while the server is still starting, without its tools
    (a server 2 s slow to start was never called; one required was, measured), and one that cannot start ends the
    run with codex's own error rather than going on without it."""
    key = f"mcp_servers.{server.name}"
    required = ["-c", f"{key}.required=true"] if server.origin != OWN_HOME else []
    if server.transport == "http":
        said = ["-c", f"{key}.url={json.dumps(mcp_urls[server.name])}", *required]
        if server.headers and server.origin != OWN_HOME:
            table = ", ".join(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in server.headers.items())
            said += ["-c", f"{key}.http_headers={{{table}}}"]
        return said
    env_file = None
    if server.env and server.origin != OWN_HOME:
        env_file = write_private(home / f"mcp-env-{server.name}.json", json.dumps(server.env))
    program, *arguments = relay_command(server, run, env_file)
    return ["-c", f"{key}.command={json.dumps(program)}", "-c", f"{key}.args={json.dumps(arguments)}", *required]


def write_private(path: Path, text: str) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def plan_mcp(
    target: Target,
    options: list[str] | tuple = (),
    config_files: list[str] | tuple = (),
    no_mcp: bool = False,
    agent: bool = True,
    home: str = "private",
    workdir: str | None = None,
    environ: dict[str, str] | None = None,
    http: bool = False,
    stand_in: bool = False,
) -> McpPlan:
    """The run's MCP servers, decided before anything starts: bad input is a one-line error now. `agent`: the
    run starts the target's agent (not a --command); `workdir`: --workdir (None: the current folder; `fresh`: a
    new one, where no project of the user's configuration can be). `http`: the run's proxies can stand before an
    HTTP server (start_proxies takes mcp_upstreams). `stand_in`: the model is stood in for (the mock, a replay),
    and no HTTP server off this machine is reached (see elsewhere_left_out)."""
    workdir = None if workdir == FRESH else str(Path(workdir or os.getcwd()).resolve())
    asked = bool(options or config_files)
    if asked and no_mcp:
        raise UsageError("--no-mcp leaves the agent's MCP servers as they are: it does not go with --mcp-server")
    if not agent:
        if asked:
            raise UsageError("--mcp-server and --mcp-config go to the target's agent; this run starts none")
        return McpPlan(why="the run has no agent of the target's (--command, or proxies only)")
    switch = target.mcp
    if switch is None or switch.none:
        why = switch.none if switch else f"{target.name}'s target file declares no agent.mcp"
        if asked:
            raise UsageError(f"{target.name}'s agent is not given MCP servers by agent-probe: {why}")
        return McpPlan(why=why)
    given = given_servers(list(options), list(config_files))
    if any(server.transport == "http" for server in given) and not http:
        raise UsageError("HTTP MCP servers are not recorded by this version of agent-probe: give stdio ones")
    if home == "own" and no_mcp:
        return McpPlan(why="--no-mcp: the agent starts the servers of your own configuration itself, unrecorded")
    own = own_servers(switch, workdir, environ) if home == "own" else []
    own_entries = settings_file.own_entries(switch, workdir, environ) if home == "own" and switch.settings else {}
    named = {server.name for server in given}
    servers = [server for server in own if server.name not in named] + given  # given here wins over your own
    if any(server.transport == "http" for server in servers) and not http:
        raise UsageError("your MCP configuration has HTTP servers, which this version does not record: --no-mcp")
    servers, left_out = elsewhere_left_out(servers) if stand_in else (servers, [])
    if not servers:
        return McpPlan(why="no MCP server in this run", style=switch.style, left_out=left_out)
    if home == "own" and switch.settings and not switch.settings.override:
        why = f"your own servers are started by the agent itself, unrecorded: {switch.settings.no_override}"
        if given:
            raise UsageError(f"--mcp-server and --mcp-config with --home own: {why}")
        return McpPlan(servers, False, why, switch.style, left_out=left_out)
    return McpPlan(servers, True, style=switch.style, settings=switch.settings, home=home, own_entries=own_entries,
                   allow=switch.allow, left_out=left_out)  # fmt: skip


def elsewhere_left_out(servers: list[McpServer]) -> tuple[list[McpServer], list[dict]]:
    """A run against a stand-in model never reaches a real service with your login: an HTTP server off this machine
    (your own, with your headers, reached through the run's proxy) is left out with a warning, and one given with
    --mcp-server is a one-line error."""
    kept, left_out = [], []
    for server in servers:
        if server.transport != "http" or is_local(server.url):
            kept.append(server)
            continue
        why = "an HTTP server off this machine is not reached in a run against the mock or a replay"
        if server.origin == OPTION:
            raise UsageError(f"--mcp-server {server.name}: {why} (give one on 127.0.0.1, or --upstream a real API)")
        warn(f"MCP server {server.name} ({mask_tokens_and_urls(server.url)}) left out: {why}")
        left_out.append({**described(server), "why": why})
    return kept, left_out
