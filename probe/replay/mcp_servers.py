"""The stand-ins a replay gives its agent in place of the recorded run's MCP servers (its manifest's `mcp.servers`):
for a stdio server, the command that starts probe.replay.mcp_stand_in under the server's name; for the HTTP ones,
probe.replay.mcp_http_stand_in, started here, and the URL each answers on (the recorded URL's path on its port).
None of the commands or URLs the recording names is run or reached."""

import hashlib
import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from probe.capture import processes
from probe.common.errors import RunError, one_line, warn
from probe.replay.signed_files import refused
from probe.replay.trust import NO_MCP_RECORD

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # what a server's name may be to reach an agent's config
STARTUP_TIMEOUT = 60.0  # seconds the HTTP stand-in gets to read the recording and listen
TOLD = "mcp-told.jsonl"  # in the replay's own folder: what the stand-ins met


@dataclass
class RecordedServer:
    name: str
    transport: str  # stdio | http
    path: str = "/"  # an HTTP server's URL path (and query), kept so the agent posts where it did


def recorded_servers(manifest: dict) -> list[RecordedServer]:
    """The servers the recorded run gave its agent, as its manifest names them; one warning for each entry a
    replay cannot stand in for (a name an agent's config cannot take, a transport not known)."""
    mcp = manifest.get("mcp") if isinstance(manifest.get("mcp"), dict) else {}
    entries = mcp.get("servers") if isinstance(mcp.get("servers"), list) else []
    servers: dict[str, RecordedServer] = {}
    for entry in entries[:100]:
        name = entry.get("name") if isinstance(entry, dict) else None
        transport = entry.get("transport") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not NAME.fullmatch(name) or transport not in ("stdio", "http"):
            warn(f"replay: the recording's MCP server {one_line(repr(entry))[:120]} is not one a replay can stand in "
                 "for: its agent gets no such server")  # fmt: skip
            continue
        servers.setdefault(name, RecordedServer(name, transport, url_path(entry.get("url"))))
    return list(servers.values())


def url_path(url) -> str:
    """The path and query of a recorded URL (never its host: nothing is sent there)."""
    if not isinstance(url, str):
        return "/"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    path = parts.path if parts.path.startswith("/") else "/"
    path += f"?{parts.query}" if parts.query else ""
    return path if path.isascii() and path.isprintable() and " " not in path else "/"


@dataclass
class McpStandIns:
    """The stand-ins of one replay: the command of each stdio server, the URL of each HTTP one, and where they tell
    what they met (a file in a private temp folder of the replay's, read back by probe.replay.mcp_outcome)."""

    commands: dict[str, list[str]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    told: Path | None = None
    process: subprocess.Popen | None = None
    folder: tempfile.TemporaryDirectory | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            processes.stop(self.process, grace=10)

    def remove(self) -> None:
        self.stop()
        if self.folder is not None:
            self.folder.cleanup()


def start_stand_ins(
    recorded: Path, servers: list[RecordedServer], workdir: Path, mcp_sha256: str | None = None
) -> McpStandIns:
    """The stand-ins for `servers` of the run at `recorded`: stdio ones as commands, HTTP ones started. With
    `mcp_sha256` (a run let replay by its signature: probe.replay.trust), its mcp.jsonl must be those bytes, checked
    now and by each stand-in as it reads it."""
    stand_ins = McpStandIns()
    if not servers:
        return stand_ins
    record = recorded / "mcp.jsonl"
    if mcp_sha256 is not None:
        check_signed(record, mcp_sha256)
    stand_ins.folder = tempfile.TemporaryDirectory(prefix="agent-probe-mcp-replay-")
    stand_ins.told = Path(stand_ins.folder.name) / TOLD
    common = ["--recorded", str(record), "--divergence", str(stand_ins.told), "--workdir", str(workdir)]
    common += ["--mcp-sha256", mcp_sha256] if mcp_sha256 is not None else []
    for server in servers:
        if server.transport == "stdio":
            module = ["-m", "probe.replay.mcp_stand_in", "--server", server.name]
            stand_ins.commands[server.name] = [sys.executable, *module, *common]
    http = [server for server in servers if server.transport == "http"]
    if http:
        named = [part for server in http for part in ("--server", server.name)]
        command = [sys.executable, "-m", "probe.replay.mcp_http_stand_in", *named, *common, "--until-stdin-closes"]
        stand_ins.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                             start_new_session=True)  # fmt: skip
        ports = listening(stand_ins)
        stand_ins.urls = {server.name: ports[server.name] + server.path for server in http}
    return stand_ins


def check_signed(record: Path, mcp_sha256: str) -> None:
    """A RunError unless `record` is the MCP record the run was signed with (none, for NO_MCP_RECORD)."""
    found = file_sha256(record) if record.is_file() else NO_MCP_RECORD
    if found != mcp_sha256:
        raise refused(record)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def listening(stand_ins: McpStandIns) -> dict[str, str]:
    """The HTTP stand-in's first line: each server's URL."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(stand_ins.process.stdout.readline()), daemon=True).start()
    try:
        said = json.loads(lines.get(timeout=STARTUP_TIMEOUT))["listening"]
    except (queue.Empty, ValueError, KeyError, TypeError):
        stand_ins.remove()
        raise RunError("the stand-in for the recording's HTTP MCP servers did not start") from None
    return said
