"""What a run's MCP record says: per server, its session (initialize, tool listings), each request paired with its
answer, the notifications, and the problems met; in words no one server or agent owns."""

from dataclasses import asdict, dataclass, field
from typing import Any

AGENT, SERVER = "agent", "server"  # who sent a message, or who asked a request


@dataclass
class McpCall:
    """One JSON-RPC request and its answer, in either direction."""

    server: str
    request_id: str  # the JSON-RPC id, as JSON text (1 and "1" differ)
    method: str  # tools/call, resources/read, prompts/get, sampling/createMessage, elicitation/create…
    asked_by: str  # "agent" (client to server) or "server" (server to client: sampling, elicitation, roots)
    tool: str | None = None  # params.name of a tools/call
    arguments: Any = None  # params.arguments (masked) of a tools/call, or the params of other methods
    result: Any = None  # the answer's result (masked), or None
    error: dict | None = None  # the JSON-RPC error, or {"message": "no answer"} when none came
    is_error: bool = False  # result.isError of a tools/call
    started: float = 0.0
    ended: float | None = None
    progress: list[dict] = field(default_factory=list)  # its notifications/progress: t, progress, total, message
    request_size: int = 0
    answer_size: int | None = None
    cut: bool = False  # the request or its answer was too big to record whole: its content is not known
    http_session: str | None = None  # the Mcp-Session-Id it was sent under (HTTP servers)
    meta_ids: list[str] = field(default_factory=list)  # text values of its params._meta (an agent's tool-call id)

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else round(self.ended - self.started, 6)

    def to_json(self) -> dict:
        return asdict(self) | {"seconds": self.seconds}


@dataclass
class ToolsListing:
    """One tools/list answer, its pages joined."""

    at: float
    tools: list[dict] = field(default_factory=list)  # name, description, inputSchema as the server sent them
    more: int = 0  # tools past those kept

    def names(self) -> list[str]:
        return [tool["name"] for tool in self.tools if isinstance(tool.get("name"), str)]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class McpSession:
    """One server in one run, from its start to its end."""

    server: str
    transport: str = "stdio"
    command: list[str] | None = None
    url: str | None = None
    protocol_version: str | None = None
    server_info: dict | None = None
    capabilities: dict | None = None
    instructions: str | None = None
    started: float | None = None
    ended: float | None = None
    exit: str | None = None  # "exit code 1", "killed by SIGTERM", "failed: …"
    listings: list[ToolsListing] = field(default_factory=list)
    calls: list[McpCall] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)  # t, from, method, params
    problems: list[str] = field(default_factory=list)  # one line each: non-JSON output, a failed start, a stray answer
    http_sessions: list[str] = field(default_factory=list)
    client_info: dict | None = None  # the agent's clientInfo in its initialize
    client_capabilities: dict | None = None
    more_calls: int = 0  # calls past those kept
    more_notifications: int = 0
    more_problems: int = 0
    messages: int = 0  # messages read for this server, both ways
    bytes_in: int = 0  # bytes the agent sent it
    bytes_out: int = 0  # bytes it sent the agent
    reordered: int = 0  # answers the record holds before their request (each direction is written by its own thread)

    def tools(self) -> list[dict]:
        """The tools its last listing offered."""
        return self.listings[-1].tools if self.listings else []

    def to_json(self) -> dict:
        found = asdict(self)
        found["calls"] = [call.to_json() for call in self.calls]
        return found


@dataclass
class McpRecording:
    """Every server of a run, by name, and what reading the record met."""

    sessions: dict[str, McpSession] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # lines cut, too big, unreadable
    lines: int = 0
    more_servers: int = 0  # servers past those kept

    def calls(self) -> list[McpCall]:
        """Every call of every server, in the order they started."""
        return sorted((call for session in self.sessions.values() for call in session.calls),
                      key=lambda call: call.started)  # fmt: skip

    def to_json(self) -> dict:
        return {"sessions": [session.to_json() for session in self.sessions.values()], "notes": self.notes,
                "lines": self.lines, "more_servers": self.more_servers}  # fmt: skip
