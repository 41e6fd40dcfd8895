"""Which recorded answer each JSON-RPC request an agent sends a stand-in MCP server gets: the first recorded call
not yet served with the same method and params (ids and `_meta` aside; `initialize` by its method alone), else one
equal once volatile values are normalised as the model-side replay normalises them; a request none fits is a
divergence, answered with a JSON-RPC error that names it."""

import json
from dataclasses import dataclass
from typing import Any

from probe.analyse.volatile import Place, Volatile
from probe.common import markdown as md
from probe.common.errors import one_line
from probe.replay.mcp_recorded import RecordedCall, Recording
from probe.write.value_diff import shown_changes

BY_METHOD_ALONE = frozenset({"initialize"})  # its params are the agent's version and capabilities, not a call
DIVERGED = -32000  # the JSON-RPC error code the agent gets for a call the recording does not hold
INVALID = -32600  # JSON-RPC's code for what is no request
MAX_BATCH = 1000  # of a batch, the messages answered
DIFF_ROWS = 12  # of a divergence's diff, the rows kept: the manifest says where a call differs, not all of it


@dataclass
class McpDivergence:
    """A request no recorded call fits: its number among the requests the stand-in got, and the recorded call
    it most likely stands for (the next one not served with its method), with their difference."""

    server: str
    request: int
    method: str
    params: Any
    expected: RecordedCall | None

    def summary(self) -> str:
        expected = f"recorded call #{self.expected.number}" if self.expected else "nothing recorded"
        return (
            f"MCP server {self.server!r}: call {self.request} ({one_line(self.method)[:80]}{tool_named(self.params)}) "
            f"matches no recorded call; expected {expected}"
        )

    def diff(self) -> str:
        """Markdown: the recorded and the actual call, path by path, as `invoke diff` shows a changed JSON value."""
        expected = {"method": self.expected.method, "params": compared(self.expected.params)} if self.expected else {}
        rows = shown_changes(expected, {"method": self.method, "params": compared(self.params)}, cells=True)
        shown = rows[:DIFF_ROWS]
        if len(rows) > DIFF_ROWS:
            shown.append([md.Markdown(f"({len(rows) - DIFF_ROWS} more)"), "", ""])
        return str(md.table(["Path", "Expected (recorded)", "Actual (this run)"], shown))

    def event(self) -> dict:
        return {"event": "diverged", "server": self.server, "request": self.request, "method": self.method,
                "summary": self.summary(), "diff": self.diff()}  # fmt: skip


def tool_named(params: Any) -> str:
    name = params.get("name") if isinstance(params, dict) else None
    return f" {one_line(name)[:80]}" if isinstance(name, str) else ""


def compared(params: Any) -> Any:
    """Params as calls are compared: `_meta` (a progress token, a trace id the agent mints) left out, and none the
    same as empty ones."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return {key: value for key, value in params.items() if key != "_meta"}
    return params


def exact_key(method: str, params: Any) -> str:
    if method in BY_METHOD_ALONE:
        return method
    return method + "\n" + json.dumps(compared(params), sort_keys=True, default=str)


class McpMatcher:
    """Hands out one server's recorded answers to the agent's requests as they come. `recorded_places` and
    `places` are the folders of the recording and of this run, compared as one (probe.analyse.volatile)."""

    def __init__(self, recording: Recording, recorded_places: list[Place] | None = None,
                 places: list[Place] | None = None) -> None:  # fmt: skip
        self.server = recording.server
        self.calls = recording.calls
        self.recorded_volatile, self.volatile = Volatile(recorded_places), Volatile(places)
        self.exact: dict[str, list[RecordedCall]] = {}
        self.loose: dict[str, list[RecordedCall]] = {}
        for call in self.calls:
            self.exact.setdefault(exact_key(call.method, call.params), []).append(call)
            self.loose.setdefault(self.loose_key(call.method, call.params, self.recorded_volatile), []).append(call)
        self.served: set[int] = set()
        self.requests = 0
        self.repeated = 0  # requests answered with a call already served: asked more often than recorded
        self.divergences: list[McpDivergence] = []
        self.on_divergence = lambda divergence: None  # told each divergence as it happens
        self.last: RecordedCall | None = None  # the recorded call the last request was served (its framing over HTTP)

    def loose_key(self, method: str, params: Any, volatile: Volatile) -> str:
        if method in BY_METHOD_ALONE:
            return method
        return method + "\n" + json.dumps(volatile.value(compared(params)), sort_keys=True, default=str)

    def find(self, method: str, params: Any) -> RecordedCall | McpDivergence:
        """The recorded call a request of the agent's is served, or its divergence."""
        self.requests += 1
        self.last = None
        fitting = self.exact.get(exact_key(method, params)) or []
        fresh = next((call for call in fitting if call.number not in self.served), None)
        if fresh is None:  # the same call, but for values that differ in every run (its folder, a date)
            loose = self.loose.get(self.loose_key(method, params, self.volatile)) or []
            fitting = fitting or loose
            fresh = next((call for call in loose if call.number not in self.served), None)
        if fresh is not None:
            self.served.add(fresh.number)
            self.last = fresh
            return fresh
        if fitting:  # asked again (a retry, a second listing): the same answer, counted
            self.repeated += 1
            self.last = fitting[-1]
            return fitting[-1]
        divergence = McpDivergence(self.server, self.requests, method, params, self.expected(method))
        self.divergences.append(divergence)
        self.on_divergence(divergence)
        return divergence

    def expected(self, method: str) -> RecordedCall | None:
        """The recorded call a request that fits none most likely stands for: the first not served with its method,
        else the first not served."""
        waiting = [call for call in self.calls if call.number not in self.served]
        return next((call for call in waiting if call.method == method), waiting[0] if waiting else None)

    def reply(self, message: Any) -> dict | list | None:
        """What the agent gets for one JSON-RPC message it sent (a batch: a list of them): a response for each
        request; nothing for a notification, nor for an answer (the stand-in never asks the agent anything)."""
        if isinstance(message, list):
            replies = [self.reply(each) for each in message[:MAX_BATCH]]
            return [each for each in replies if each is not None] or None
        if not isinstance(message, dict) or ("method" in message and not isinstance(message["method"], str)):
            return error(None, "agent-probe replay: not a JSON-RPC message", INVALID)
        if "method" not in message or "id" not in message:
            return None
        return self.answer(message)

    def answer(self, request: dict) -> dict:
        """The JSON-RPC response to one request of the agent's, with the agent's own id."""
        method, params = request["method"], request.get("params")
        if method == "ping":  # the transport's keep-alive, at times of its own: always answered, never a call
            self.last = None
            return {"jsonrpc": "2.0", "id": request["id"], "result": {}}
        found = self.find(method, params)
        if isinstance(found, McpDivergence):
            return error(request["id"], f"agent-probe replay: {found.summary()}")
        if found.answer_cut:
            return error(request["id"], "agent-probe replay: the recorded answer was too big to have been kept")
        if found.answer is None:
            return error(request["id"], "agent-probe replay: the recording holds no answer to this call")
        answer = {key: value for key, value in found.answer.items() if key in ("jsonrpc", "result", "error")}
        return {"jsonrpc": "2.0", **answer, "id": request["id"]}

    def not_asked(self) -> list[int]:
        """Recorded calls no request asked for."""
        return [call.number for call in self.calls if call.number not in self.served]

    def summary(self) -> dict:
        counts = {"requests": self.requests, "served": len(self.served), "repeated": self.repeated}
        return {"event": "stopped", "server": self.server, **counts, "diverged": len(self.divergences),
                "not_asked": self.not_asked()}  # fmt: skip


def error(request_id: Any, message: str, code: int = DIVERGED) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
