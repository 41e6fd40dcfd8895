"""Recorded mcp.jsonl files written by hand, as the capture writes them, for the replay's MCP stand-in tests."""

import json
from pathlib import Path

SERVER = "fs"
TOOLS = [
    {
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    }
    for name, description in (("read_file", "Reads a file"), ("list_directory", "Lists a folder"))
]
INITIALIZED = {
    "protocolVersion": "2025-06-18",
    "capabilities": {"tools": {"listChanged": True}},
    "serverInfo": {"name": "recorded-filesystem", "version": "9.9.9"},
    "instructions": "Recorded instructions of the filesystem server.",
}


def text_result(text: str) -> dict:
    return {"content": [{"type": "text", "text": text}], "isError": False}


def exchange(server: str, transport: str, request_id, method: str, params, result, sse: bool = False) -> list[dict]:
    """One request of the agent's and the server's answer, as two lines (HTTP lines with their `http` record)."""
    request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
    lines = [
        {"t": 1.0, "server": server, "transport": transport, "from": "agent", "size": 10, "message": request},
        {"t": 1.1, "server": server, "transport": transport, "from": "server", "size": 10, "message": answer},
    ]
    if transport == "http":
        content_type = "text/event-stream" if sse else "application/json"
        lines[0]["http"] = {"method": "POST", "status": None, "content_type": "application/json", "session": None}
        lines[1]["http"] = {"method": "POST", "status": 200, "content_type": content_type, "session": "s-1"}
    return lines


def recorded_lines(server: str = SERVER, transport: str = "stdio", sse: bool = False) -> list[dict]:
    """A session of the SDK's client: initialize, tools/list, two read_file calls and a listing; the server
    started, and one line of its stdout that was not JSON."""
    started = {"t": 0.5, "server": server, "transport": transport, "event": "started"}
    started |= {"command": ["npx", "server-filesystem", "/work"], "pid": 4242} if transport == "stdio" else {}
    started |= {"url": "http://127.0.0.1:9/mcp"} if transport == "http" else {}
    initialize_params = {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "recording-client", "version": "0.1"}}  # fmt: skip
    lines = [started]
    lines += exchange(server, transport, 0, "initialize", initialize_params, INITIALIZED, sse)
    lines.append({"t": 1.2, "server": server, "transport": transport, "from": "agent", "size": 5,
                  "message": {"jsonrpc": "2.0", "method": "notifications/initialized"}})  # fmt: skip
    lines.append({"t": 1.3, "server": server, "transport": transport, "from": "server", "not_json": "hello", "size": 5})
    lines += exchange(server, transport, 1, "tools/list", {}, {"tools": TOOLS}, sse)
    lines += exchange(server, transport, 2, "tools/call", {"name": "read_file", "arguments": {"path": "notes.txt"}},
                      text_result("recorded notes: 42"), sse)  # fmt: skip
    lines += exchange(server, transport, 3, "tools/call", {"name": "read_file", "arguments": {"path": "todo.txt"}},
                      text_result("recorded todo: buy milk"), sse)  # fmt: skip
    lines += exchange(server, transport, 4, "tools/call", {"name": "list_directory", "arguments": {"path": "."}},
                      text_result("[FILE] notes.txt\n[FILE] todo.txt"), sse)  # fmt: skip
    return lines


def write_recording(run: Path, lines: list[dict], extra: bytes = b"") -> Path:
    """`lines` as run/mcp.jsonl (with `extra` bytes appended as they are), and a manifest naming the servers."""
    run.mkdir(parents=True, exist_ok=True)
    path = run / "mcp.jsonl"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + extra)
    return path
