"""What the join of a run's MCP record to its model exchanges found: each call beside the model's tool call that
caused it, each server's share of the requests, and the turns where the tools offered changed."""

from dataclasses import asdict, dataclass, field
from typing import Any

# What became of a server's result on its way to the model (unknown: its answer was not recorded whole).
SAME, CHANGED, CUT, NOT_SENT, UNKNOWN = "same", "changed", "cut", "not sent", "unknown"
ANSWER_END, CALL_START = "answer", "call"  # where the agent's wait for a call starts


@dataclass
class JoinedCall:
    """One tools/call beside the model's tool call that caused it and the request that carried its result."""

    server: str
    tool: str  # the server's name for the tool
    request_id: str  # the JSON-RPC id, as JSON text
    started: float
    ended: float | None  # when its answer came (None: it never did)
    server_s: float | None  # the server's own time: request to answer
    is_error: bool = False
    error: str | None = None  # the JSON-RPC error's message, or "no answer"
    model_tool: str | None = None  # the name the model called it by (mcp__fs__read_file)
    call_id: str | None = None  # the model's tool-call id
    asked_in: int | None = None  # the turn whose answer asked for it
    asked_at: float | None = None  # when that answer ended
    answered_at: float | None = None  # when the request carrying its result started
    answered_in: int | None = None  # the turn whose request carried its result
    agent_wait_s: float | None = None  # the model's tool call ended → the request carrying its result started
    agent_own_s: float | None = None  # of that wait, what was not the server's: agent_wait_s - server_s
    # Where the wait starts: "answer" (the answer that asked ended) or "call" (the server's call started before it
    # ended: the agent started the tool while the answer still streamed).
    wait_from: str = ANSWER_END
    # Seconds by which mcp.jsonl stamped the server's answer after the request that carried its result on (its line
    # was written late); server_s is then bounded by that request.
    stamped_late_s: float | None = None
    result_sent: str = NOT_SENT  # same | changed | cut | not sent | unknown
    result_chars: int | None = None  # characters of the server's result text
    sent_chars: int | None = None  # characters of the result the agent sent
    agent: str | None = None  # the agent (main or sub-agent) whose call it was
    # How it was joined: "name" (the tool's MCP name, arguments and time, or the call's id in its _meta), "time"
    # (a call of the agent's own tool running then, which called it: codex's exec script), None: not joined.
    matched_by: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ServerShare:
    """One server's tools as the requests offered them."""

    server: str
    tools: int = 0  # tools the requests offered of it, in full or only named
    names: list[str] = field(default_factory=list)  # those tools, by the server's names
    deferred: bool = False  # some or all only named, their definitions left for a tool search
    deferred_tools: int = 0  # of them, those never sent in full
    tools_listed: int | None = None  # tools its tools/list answered with, where recorded
    # Only the server named to the model, its tools left for the model to list (codex's deferred tool namespaces):
    # tokens of the line naming it (counted, not scaled) and the first turn whose request sent it.
    named_tokens: int | None = None
    named_in: int | None = None
    # Its tools as the model listed them through a tool of the agent's own (codex's exec): how many of its listed
    # tools that tool's result named, the tool, and the turn whose request carried that result.
    listed_to_model: int = 0
    listed_through: str | None = None
    listed_in: int | None = None
    tokens: int = 0  # tokens of its tools' definitions in a request (the largest of any request)
    share: float | None = None  # of that request's input tokens, 0..1
    requests: int = 0  # requests that offered its tools
    every_request: bool = False  # all the run's requests offered them
    calls: int = 0  # tools/call requests to it
    failed: int = 0
    server_s: float = 0.0  # its calls' time, summed

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ToolsChange:
    """A turn whose request offered the model other MCP tools than the request before it."""

    turn: int
    server: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    turn_at: float | None = None  # when that request started
    previous: int | None = None  # the agent's request before it, which offered the tools as they were
    previous_at: float | None = None
    # The server's notifications/tools/list_changed and tools/list answer between the two requests; none where the
    # agent changed the offer itself (a tool search loading a deferred tool's definition).
    notified_at: float | None = None
    listed_at: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class McpFacts:
    """The join's findings for one run."""

    calls: list[JoinedCall] = field(default_factory=list)
    servers: list[ServerShare] = field(default_factory=list)
    changes: list[ToolsChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmatched: int = 0  # calls no model tool call was found for
    recording: Any = None  # the probe.read.mcp McpRecording it joined (sessions, listings, problems): not written

    def empty(self) -> bool:
        return not self.calls and not self.servers and not self.changes

    def to_json(self) -> dict:
        return {"calls": [call.to_json() for call in self.calls],
                "servers": [server.to_json() for server in self.servers],
                "changes": [change.to_json() for change in self.changes], "notes": self.notes,
                "unmatched": self.unmatched}  # fmt: skip
