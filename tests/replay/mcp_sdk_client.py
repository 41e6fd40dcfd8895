"""The official MCP Python SDK (mcp 2.3.0) as the client of the replay's stand-ins: a session that lists the tools
and makes calls, and what it got. The SDK is imported only when a session starts: it is installed beside mitmproxy
12 only (it needs h11 0.16), and the tests that use it are marked `mcp_sdk`."""

import sys
from pathlib import Path

from conftest import PROJECT_ROOT
from mcp_recordings import SERVER


def stdio_stand_in(recorded: Path, divergence: Path, server: str = SERVER):
    """The SDK's parameters that start the stdio stand-in as an agent would."""
    from mcp import StdioServerParameters

    args = ["-m", "probe.replay.mcp_stand_in", "--recorded", str(recorded), "--server", server]
    return StdioServerParameters(command=sys.executable, args=args + ["--divergence", str(divergence)],
                                 cwd=str(PROJECT_ROOT))  # fmt: skip


def stdio_command(command: list[str]):
    from mcp import StdioServerParameters

    return StdioServerParameters(command=command[0], args=command[1:])


async def called(client, name: str, arguments: dict) -> tuple:
    """A tool's result (its error flag and texts), or the JSON-RPC error the call got (its code and message)."""
    from mcp.shared.exceptions import MCPError

    try:
        result = await client.call_tool(name, arguments)
    except MCPError as error:
        return ("error", error.code, error.message)
    return (result.is_error, [block.text for block in result.content])


async def a_session(server, calls: list[tuple[str, dict]]) -> dict:
    """`server`: stdio parameters, or an HTTP URL."""
    from mcp import Client

    async with Client(server, mode="legacy") as client:
        listed = await client.list_tools()
        return {
            "server": client.server_info,
            "instructions": client.instructions,
            "tools": [tool.name for tool in listed.tools],
            "results": [await called(client, name, arguments) for name, arguments in calls],
        }
