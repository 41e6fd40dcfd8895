"""The join of a run's MCP record to its model exchanges: each tools/call to the model's tool call that caused it
(the same server and tool by the agent's naming, the same arguments, and a time between the answer that asked and
the request that carried the result back), then to the result the agent sent; each server's share of the requests;
and the turns where the MCP tools offered changed, beside the server's notice and listing before them."""

import re
from typing import Any

import orjson

from probe.analyse.mcp.model import CALL_START, NOT_SENT, UNKNOWN, JoinedCall, McpFacts, ServerShare, ToolsChange
from probe.analyse.mcp.names import server_key
from probe.analyse.mcp.offers import McpTurns, ModelCall
from probe.analyse.mcp.results import compare, compare_within
from probe.read.mcp.model import AGENT, McpCall, McpRecording, McpSession

NAME, TIME = "name", "time"  # how a call was joined: by the model's naming of the tool (or its id), or by time alone
SLACK = 0.05  # seconds: the record's clock and the capture's are one, read by two processes
LIST_CHANGED = "notifications/tools/list_changed"


def join(recording: McpRecording, turns: McpTurns, setup: Any = None) -> McpFacts:
    """The facts; `setup` (probe.analyse.setup.SetUp) tells of servers whose tools were only named (deferred)."""
    facts = McpFacts(recording=recording)
    facts.notes = [f"mcp.jsonl: {note}" for note in recording.notes]
    waiting: dict[tuple[str, str], list[ModelCall]] = {}
    others: list[ModelCall] = []  # calls of the agent's own tools, which may call MCP tools in turn
    for call in turns.calls:
        if call.server:
            waiting.setdefault((server_key(call.server), call.tool), []).append(call)
        else:
            others.append(call)
    for call in recording.calls():
        if call.method != "tools/call" or call.asked_by != AGENT:
            continue
        model = take_match(call, waiting.get((server_key(call.server), call.tool or ""), []))
        by = NAME if model is not None else None
        if model is None and (model := enclosing(call, others)) is not None:
            by = TIME
        facts.unmatched += model is None
        facts.calls.append(joined(call, model))
        facts.calls[-1].matched_by = by
    if turns.more_calls:
        facts.notes.append(f"{turns.more_calls:,} more model calls of MCP tools than the join keeps: not joined")
    facts.servers = shares(recording, turns, setup, facts.calls)
    facts.changes = [placed(change, recording) for change in turns.changes]
    if turns.more_changes:
        facts.notes.append(f"{turns.more_changes:,} more changes of the MCP tools offered, not listed")
    return facts


def take_match(call: McpCall, candidates: list[ModelCall]) -> ModelCall | None:
    """The model's call that caused `call`, taken out of `candidates` (oldest first): the one whose id the request
    carries (Claude Code puts it in its _meta), else one asked before it started and answered after, with the same
    arguments (or, where either side's arguments are not known, the first such)."""
    named = [index for index, model in enumerate(candidates) if model.call_id and model.call_id in call.meta_ids]
    if named:
        return candidates.pop(named[0])
    timely = [index for index, model in enumerate(candidates) if in_time(call, model)]
    known = call.arguments is not None or not call.cut
    same = [index for index in timely if candidates[index].arguments_known and known
            and same_arguments(call.arguments, candidates[index].arguments)]  # fmt: skip
    unknown = [index for index in timely if not candidates[index].arguments_known or not known]
    chosen = (same or unknown or [None])[0]
    return None if chosen is None else candidates.pop(chosen)


def enclosing(call: McpCall, others: list[ModelCall]) -> ModelCall | None:
    """The call of the agent's own tool that was running when `call` started and whose arguments name its tool
    (codex's exec script awaits `tools["mcp__fs__read_file"](…)`), the latest asked where they nest. It may make
    several calls, so it is not taken out."""
    running = [model for model in others if model.asked_from is not None and model.answered_at is not None
               and in_time(call, model) and names_tool(model.arguments, call.tool)]  # fmt: skip
    return max(running, key=lambda model: (model.asked_from, model.asked_in), default=None)


def names_tool(arguments: Any, tool: str | None) -> bool:
    if not tool or arguments is None:
        return False
    text = arguments if isinstance(arguments, str) else orjson.dumps(arguments, default=str).decode()
    return tool in text


def in_time(call: McpCall, model: ModelCall) -> bool:
    begin = model.asked_from if model.asked_from is not None else model.asked_at
    if begin is not None and call.started < begin - SLACK:
        return False
    return model.answered_at is None or call.started <= model.answered_at + SLACK


def same_arguments(first: Any, second: Any) -> bool:
    """Arguments alike; none sent reads as an empty object, as the servers read it."""
    return (first if first is not None else {}) == (second if second is not None else {})


def joined(call: McpCall, model: ModelCall | None) -> JoinedCall:
    error = (call.error or {}).get("message") if call.error is not None else None
    found = JoinedCall(call.server, call.tool or "?", call.request_id, call.started, call.ended, call.seconds,
                       call.is_error, error if isinstance(error, str) else None)  # fmt: skip
    if model is None:
        return found
    found.model_tool, found.call_id, found.agent = model.model_tool, model.call_id, model.agent
    found.asked_in, found.asked_at = model.asked_in, model.asked_at
    found.answered_in, found.answered_at = model.answered_in, model.answered_at
    if model.asked_at is not None and model.answered_at is not None:
        timed(found, call, model.asked_at, model.answered_at)
    found.sent_chars = model.sent.length if model.sent is not None else model.sent_size
    found.result_chars = result_chars(call)
    if model.answered_in is None:
        found.result_sent = NOT_SENT
    elif model.sent is None or (call.cut and call.result is None) or (call.result is None and call.error is None):
        found.result_sent = UNKNOWN
    elif not model.server:  # passed on inside the output of the agent's own tool that called it
        within = compare_within(call.result, call.error if call.result is None else None, model.sent)
        found.result_sent = within or UNKNOWN
    else:
        found.result_sent = compare(call.result, call.error if call.result is None else None, model.sent)
    return found


def timed(found: JoinedCall, call: McpCall, asked_at: float, answered_at: float) -> None:
    """The agent's wait and own time, so that the server's time is within the wait: the wait starts where the
    answer that asked ended, or where the call started if the agent started it while that answer still streamed;
    and an answer the record stamped after the request that carried its result on (its line written late) took
    the server no longer than until that request."""
    begin = asked_at
    if call.started < asked_at:
        begin, found.wait_from = call.started, CALL_START
    found.agent_wait_s = round(max(answered_at - begin, 0.0), 6)
    if call.seconds is None:
        return
    if call.ended is not None and call.ended > answered_at:
        found.stamped_late_s = round(call.ended - answered_at, 6)
        found.server_s = round(max(answered_at - call.started, 0.0), 6)
    found.agent_own_s = round(max(found.agent_wait_s - found.server_s, 0.0), 6)


def result_chars(call: McpCall) -> int | None:
    """Characters of the text contents of the server's result."""
    content = call.result.get("content") if isinstance(call.result, dict) else None
    if not isinstance(content, list):
        return None
    texts = [block.get("text") for block in content if isinstance(block, dict)]
    return sum(len(text) for text in texts if isinstance(text, str))


def shares(recording: McpRecording, turns: McpTurns, setup: Any, calls: list[JoinedCall]) -> list[ServerShare]:
    """Each server the record or the requests know: its tools as offered and their cost, and its calls."""
    named: dict[str, str] = {}  # key -> the name shown: the record's, else the agent's
    for server in list(recording.sessions) + list(turns.servers):
        named.setdefault(server_key(server), server)
    offered = {server_key(server): offer for server, offer in turns.servers.items()}
    declared = {server_key(name): server for name, server in (getattr(setup, "servers", None) or {}).items()}
    sessions = {server_key(name): session for name, session in recording.sessions.items()}
    named_only = {server_key(server): naming for server, naming in turns.named.items()}
    for server in turns.named:
        named.setdefault(server_key(server), server)
    found = []
    for key, name in named.items():
        share = ServerShare(name)
        offer, server, session = offered.get(key), declared.get(key), sessions.get(key)
        if offer is not None:
            share.tools, share.names, share.tokens = offer.most_tools, offer.names, offer.tokens
            share.share, share.requests = offer.share, offer.requests
            share.every_request = 0 < offer.requests == turns.requests
        if server is not None:  # the tools the agent named only (probe.analyse.setup): deferred
            only_named = [tool for tool, tokens in server.tools.items() if tokens is None and tool not in share.names]
            share.deferred = server.deferred or bool(only_named)
            share.deferred_tools = len(only_named)
            share.names = sorted(share.names + only_named)
            share.tools = max(share.tools, len(share.names))
        if key in named_only:
            share.named_tokens, share.named_in = named_only[key]
            share.deferred = True
        if session is not None:
            share.tools_listed = len(session.listings[-1].tools) if session.listings else None
            if share.deferred and not share.tools and session.listings:
                listed_to_model(share, key, session.listings[-1].names(), turns.calls)
        mine = [call for call in calls if server_key(call.server) == key]
        share.calls, share.failed = len(mine), sum(call.is_error or call.error is not None for call in mine)
        share.server_s = round(sum(call.server_s or 0.0 for call in mine), 6)
        found.append(share)
    return found


def listed_to_model(share: ServerShare, key: str, listed: list[str], calls: list[ModelCall]) -> None:
    """The first result of a tool of the agent's own that named the server's tools by the agent's naming
    (mcp__fs__read_file): the model listed them through it (codex's exec script filters ALL_TOOLS)."""
    prefix = f"mcp__{key}__"
    tools = set(listed)
    for call in calls:
        if call.server or call.sent is None or prefix not in call.sent.text:
            continue
        named = set(re.findall(re.escape(prefix) + r"([A-Za-z0-9_.-]+)", call.sent.text))
        if named & tools:
            share.listed_to_model, share.listed_through = len(named & tools), call.model_tool
            share.listed_in = call.answered_in
            return


def placed(change: ToolsChange, recording: McpRecording) -> ToolsChange:
    """A change of the tools offered, with the server's list_changed notice and listing between the agent's request
    before and this one."""
    session = next((found for name, found in recording.sessions.items()
                    if server_key(name) == server_key(change.server)), None)  # fmt: skip
    if session is None or change.turn_at is None:
        return change
    since = change.previous_at if change.previous_at is not None else float("-inf")
    change.notified_at = last_between(notices(session), since, change.turn_at)
    if change.notified_at is not None:
        change.listed_at = last_between([listing.at for listing in session.listings], since, change.turn_at)
    return change


def notices(session: McpSession) -> list[float]:
    return [note["t"] for note in session.notifications if note.get("method") == LIST_CHANGED]


def last_between(times: list[float], since: float, until: float) -> float | None:
    return max((moment for moment in times if since < moment <= until), default=None)
