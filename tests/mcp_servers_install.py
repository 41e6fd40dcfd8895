"""The MCP reference servers the MCP tests run for real, installed pinned from npm into .agents/mcp-servers on first
use (CI installs them ahead, with `python tests/mcp_servers_install.py`): `server-filesystem` over stdio and
`server-everything`, which also serves streamable HTTP."""

import fcntl
import sys
from pathlib import Path

from probe.capture import npm
from probe.common.errors import ToolMissing

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / ".agents" / "mcp-servers"
VERSION = "2026.8.31"
SERVERS = {
    "filesystem": ("@modelcontextprotocol/server-filesystem", "mcp-server-filesystem"),
    "everything": ("@modelcontextprotocol/server-everything", "mcp-server-everything"),
}


def server_program(name: str) -> Path:
    """The program of reference server `name` (filesystem, everything), installed first if it is missing; test
    workers wait for one another's install."""
    package, program = SERVERS[name]
    found = FOLDER / name / "node_modules" / ".bin" / program
    if found.exists():
        return found
    FOLDER.mkdir(parents=True, exist_ok=True)
    with (FOLDER / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not found.exists():
            npm.install(package, VERSION, FOLDER / name)
    if not found.exists():
        raise ToolMissing(f"{package}@{VERSION} installed without its program {program}")
    return found


if __name__ == "__main__":
    try:
        for each in SERVERS:
            print(f"MCP server {each}: {server_program(each).relative_to(PROJECT_ROOT)}")
    except ToolMissing as error:
        sys.exit(f"error: {error}")
