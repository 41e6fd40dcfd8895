"""A tiny MCP server over stdio (newline-delimited JSON-RPC), offering three tools, for the tests that check what
an agent sends of its MCP set-up. Standard library only: the agents start it with the Python running the tests."""

import json
import sys

TOOLS = [
    {
        "name": "lookup_order",
        "description": "Look up a parcel order by its number and say where it is.",
        "inputSchema": {
            "type": "object",
            "properties": {"order": {"type": "string", "description": "The order number, such as A-1234."}},
            "required": ["order"],
        },
    },
    {
        "name": "add_numbers",
        "description": "Add two whole numbers.",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
    {
        "name": "echo_text",
        "description": "Say the text back.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
]


def answer(message: dict) -> dict | None:
    method, params = message.get("method"), message.get("params") or {}
    if method == "initialize":
        result = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "parcels", "version": "1.0.0"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        text = json.dumps(params.get("arguments") or {})
        result = {"content": [{"type": "text", "text": f"{params.get('name')}: {text}"}]}
    elif method == "ping":
        result = {}
    elif "id" in message:
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"no method {method}"}}
    else:
        return None  # a notification: nothing to answer
    return {"jsonrpc": "2.0", "id": message.get("id"), "result": result}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = answer(json.loads(line))
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
