"""insight.jsonl's records of a run's MCP servers (docs/formats.md): one `mcp_server` record per server, with what it
offered the model and what it cost in the requests, and one `mcp_call` record per request between the agent and a
server, beside the model's tool call it was joined to; the SQL view `mcp_calls`, the Perfetto and OTLP exports and the
viewer read them."""

from collections.abc import Iterator
from typing import Any

from probe.analyse.mcp.model import JoinedCall, McpFacts, ServerShare, ToolsChange
from probe.analyse.tool_calls import short
from probe.common.fastjson import strict_text
from probe.read.mcp.model import McpCall, McpRecording, McpSession

TOOLS_NAMED = 200  # tool names a server's record lists; the rest are counted
ERROR_SHOWN = 500  # characters of a JSON-RPC error's message kept: a server may send a whole stack trace


def mcp_records(recording: McpRecording | None, facts: McpFacts | None, schema: int) -> Iterator[dict]:
    """The records of every server, then of every call in the order they started."""
    recording = recording or McpRecording()
    facts = facts or McpFacts()
    shares = {share.server: share for share in facts.servers}
    changes: dict[str, list[ToolsChange]] = {}
    for change in facts.changes:
        changes.setdefault(change.server, []).append(change)
    for name in [*recording.sessions, *(name for name in shares if name not in recording.sessions)]:
        session = recording.sessions.get(name)
        yield {"record": "mcp_server", "schema": schema,
               **server_fields(name, session, shares.get(name), changes.get(name, []))}  # fmt: skip
    joined = {(call.server, call.request_id): call for call in facts.calls}
    for call in recording.calls():
        yield {"record": "mcp_call", "schema": schema, **call_fields(call, joined.get((call.server, call.request_id)))}


def server_fields(name: str, session: McpSession | None, share: ServerShare | None, changes: list) -> dict:
    """A server as its session (None: not recorded, only its tools seen in the requests) and the requests show it."""
    listed = [] if session is None or not session.listings else session.listings[-1].names()
    info = session.server_info if session is not None and isinstance(session.server_info, dict) else {}
    return {
        "server": name,
        "transport": None if session is None else session.transport,
        "command": None if session is None else session.command,
        "url": None if session is None else session.url,
        "protocol_version": None if session is None else session.protocol_version,
        "server_name": text_or_none(info.get("name")),
        "server_version": text_or_none(info.get("version")),
        "start": None if session is None else session.started,
        "end": None if session is None else session.ended,
        "exit": None if session is None else session.exit,
        "tools": listed[:TOOLS_NAMED],
        "tools_left_out": max(0, len(listed) - TOOLS_NAMED),
        "listings": 0 if session is None else len(session.listings),
        "calls": 0 if session is None else len(session.calls) + session.more_calls,
        "offered": None if share is None else without(share.to_json(), "server", "names"),
        "offered_tools": [] if share is None else share.names[:TOOLS_NAMED],
        "changes": [without(change.to_json(), "server") for change in changes],
        "problems": [] if session is None else session.problems,
    }


def call_fields(call: McpCall, joined: JoinedCall | None) -> dict:
    """A call as the relay recorded it, with what the join found of it (None: no model tool call was found)."""
    return {
        "server": call.server,
        "request_id": call.request_id,
        "method": call.method,
        "asked_by": call.asked_by,
        "tool": call.tool,
        "model_tool": None if joined is None else joined.model_tool,
        "arguments": None if call.arguments is None else short(call.arguments),
        "start": call.started,
        "end": call.ended,
        "seconds": call.seconds,
        "server_seconds": call.seconds if joined is None else joined.server_s,
        "agent_wait_seconds": None if joined is None else joined.agent_wait_s,
        "agent_own_seconds": None if joined is None else joined.agent_own_s,
        "agent_wait_from": None if joined is None else joined.wait_from,
        "answer_stamped_late_seconds": None if joined is None else joined.stamped_late_s,
        "call_id": None if joined is None else joined.call_id,
        "asked_in": None if joined is None else joined.asked_in,
        "answered_in": None if joined is None else joined.answered_in,
        "agent": None if joined is None else joined.agent,
        "result_sent": None if joined is None else joined.result_sent,
        "matched_by": None if joined is None else joined.matched_by,
        "is_error": call.is_error or call.error is not None,
        "error": error_text(call.error),
        "progress": len(call.progress),
        "request_size": call.request_size,
        "answer_size": call.answer_size,
        "cut": call.cut,
        "http_session": call.http_session,
    }


def error_text(error: Any) -> str | None:
    """A JSON-RPC error's message on one line (with its code where it has one)."""
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    message = message if isinstance(message, str) else strict_text(error, default=str)
    message = " ".join(message[: ERROR_SHOWN * 2].split())
    message = message if len(message) <= ERROR_SHOWN else message[: ERROR_SHOWN - 1] + "…"
    code = error.get("code")
    return f"{message} (code {code})" if isinstance(code, int) and not isinstance(code, bool) else message


def without(fields: dict, *names: str) -> dict:
    return {key: value for key, value in fields.items() if key not in names}


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
