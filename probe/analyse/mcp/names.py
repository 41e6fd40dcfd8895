"""An MCP server's or tool's name as the model's tool calls give it, by the agents' naming (probe.analyse.setup),
and a server's name as the record and the agent's naming both come to."""

import re

from probe.apis.agent_setup import NAMESPACE_NAMING, mcp_name

# The characters an agent keeps of a server's name in its tools' names; others it writes as "_" (Claude Code).
NOT_KEPT = re.compile(r"[^A-Za-z0-9_-]")


def called_tool(name: str) -> tuple[str, str] | None:
    """The server and tool a model's tool call names: `mcp__<server>__<tool>` (Claude Code, codex, Qwen Code),
    `mcp_<server>_<tool>` (gemini-cli), or `<namespace>.<tool>` in a namespace `mcp__<server>` (codex)."""
    namespace, dot, tool = name.rpartition(".")
    if dot and namespace and tool:
        match = NAMESPACE_NAMING.fullmatch(namespace)
        if match:
            return match.group("server").rstrip("_"), tool
    return mcp_name(name)


def server_key(server: str) -> str:
    """A server's name as the agents write it into their tools' names, to match the record's name with it."""
    return NOT_KEPT.sub("_", server)
