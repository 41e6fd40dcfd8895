"""The run's MCP calls as OTLP spans, read from its insight.jsonl (mcp_server and mcp_call records): a client span per
call, as the MCP semantic conventions describe one (`mcp.method.name`, `jsonrpc.request.id`, `mcp.session.id`…),
under the `execute_tool` span of the model's tool call it was joined to, else under the run's span."""

from typing import Any

from probe.write.otlp_values import attribute

TRANSPORTS = {"stdio": "pipe", "http": "tcp"}  # the conventions' network.transport for each of MCP's transports
TOOLS_CALL = "tools/call"


def span_name(call: dict) -> str:
    """`{mcp.method.name} {target}`, the target the tool's name where there is one."""
    tool = call.get("tool")
    return f"{call.get('method')} {tool}" if isinstance(tool, str) else str(call.get("method"))


def mcp_attributes(call: dict, server: dict) -> dict[str, Any]:
    """A call's attributes: the conventions' where they name it, agent-probe's own for the join's findings."""
    attributes: dict[str, Any] = {"mcp.method.name": str(call.get("method"))}
    if call.get("method") == TOOLS_CALL:
        attributes["gen_ai.operation.name"] = "execute_tool"
        if isinstance(call.get("tool"), str):
            attributes["gen_ai.tool.name"] = call["tool"]
    for name, value in (
        ("jsonrpc.request.id", call.get("request_id")),
        ("mcp.session.id", call.get("http_session")),
        ("mcp.protocol.version", server.get("protocol_version")),
        ("network.transport", TRANSPORTS.get(server.get("transport"))),
        ("gen_ai.tool.call.id", call.get("call_id")),
        ("agent_probe.mcp.server", call.get("server")),
        ("agent_probe.mcp.asked_by", call.get("asked_by")),
        ("agent_probe.mcp.model_tool", call.get("model_tool")),
        ("agent_probe.mcp.server_seconds", call.get("server_seconds")),
        ("agent_probe.mcp.agent_wait_seconds", call.get("agent_wait_seconds")),
        ("agent_probe.mcp.result_sent", call.get("result_sent")),
        ("agent_probe.asked_in", call.get("asked_in")),
    ):
        if value is not None and not isinstance(value, dict | list):
            attributes[name] = attribute(value)
    if call.get("is_error") is True:
        # The conventions' error.type: the JSON-RPC error where there was one, else a tool's own error (isError).
        attributes["error.type"] = "tool_error" if call.get("error") is None else str(call["error"])
    return attributes


def mcp_spans(records: list[dict]) -> list[tuple[dict, dict]]:
    """Each mcp_call record with its server's record (empty where none was written)."""
    servers = {r.get("server"): r for r in records if r["record"] == "mcp_server"}
    return [(r, servers.get(r.get("server"), {})) for r in records if r["record"] == "mcp_call"]
