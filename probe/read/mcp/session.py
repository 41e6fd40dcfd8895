"""One server's messages, as they come, into its session: each request paired with its answer by id in its own
direction, the initialize and tool listings read, progress given to the call it tells of, the rest kept as
notifications. Everything kept is bounded; what is past the bounds is counted."""

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from probe.common.long_names import bounded_name
from probe.read.mcp.model import AGENT, SERVER, McpCall, McpSession, ToolsListing
from probe.read.mcp.values import head_fields, id_text, mapping, name, one_line, text

CALLS_KEPT = 4096  # calls kept per server; past it they are counted (and still paired, for their problems)
PENDING_KEPT = 4096  # requests waiting for their answer, per direction: past it the oldest is given up
NOTIFICATIONS_KEPT = 1024
PROBLEMS_KEPT = 64
LISTINGS_KEPT = 64  # tool listings kept: the first ones and always the last
TOOLS_KEPT = 1024  # tools kept of one listing
PROGRESS_KEPT = 64  # progress notifications kept per call
HTTP_SESSIONS_KEPT = 64
CONTENT_BUDGET = 64 * 1024 * 1024  # bytes of messages whose arguments and results are kept, per server
# An answer can come in the file before its request: the relay writes each direction from its own thread, and a
# quick server answers before the request's line is written. Kept this long for its request, then a stray.
EARLY_KEPT = 256
REORDER_SLACK = 1.0  # seconds an answer may be stamped before its request and still be its answer
META_IDS_KEPT = 4  # text values of a request's _meta kept (an agent's id of the tool call it makes it for)


@dataclass
class SessionReader:
    """Fed each message line of one server; `finish` closes the requests no answer came for."""

    session: McpSession
    pending: dict[tuple[str, str], McpCall] = field(default_factory=dict)  # (asked_by, id) -> call, oldest first
    by_token: dict[str, McpCall] = field(default_factory=dict)  # progress token -> call waiting for its answer
    listing_open: bool = False  # the last listing has a next page to come
    content_kept: int = 0  # bytes of the messages whose content is kept
    last: float | None = None  # the time of its last line
    early: OrderedDict = field(default_factory=OrderedDict)  # (asked_by, id) -> an answer met before its request

    def problem(self, line: str) -> None:
        if len(self.session.problems) < PROBLEMS_KEPT:
            self.session.problems.append(line)
        else:
            self.session.more_problems += 1

    def message(self, at: float, sender: str, message: Any, size: int, http_session: str | None) -> None:
        """A JSON-RPC message `sender` sent: a request, an answer or a notification."""
        session = self.session
        session.messages += 1
        if sender == AGENT:
            session.bytes_in += size
        else:
            session.bytes_out += size
        known = http_session is None or http_session in session.http_sessions
        if not known and len(session.http_sessions) < HTTP_SESSIONS_KEPT:
            session.http_sessions.append(http_session)
        if not isinstance(message, dict):
            self.problem(f"a message from the {sender} that is no JSON-RPC object: {one_line(message, 80)}")
            return
        method = name(message.get("method"))
        if "method" in message and method is None:
            self.problem(f"a message from the {sender} whose method is no name: {one_line(message.get('method'), 80)}")
            return
        if method is not None and "id" in message:
            self.request(at, sender, method, message, size, http_session)
        elif method is not None:
            self.notification(at, sender, method, message.get("params"), size)
        elif "id" in message and ("result" in message or "error" in message):
            self.answer(at, sender, id_text(message.get("id")), message, size)
        else:
            self.problem(f"a message from the {sender} that is neither request, answer nor notification")

    def request(self, at: float, sender: str, method: str, message: dict, size: int, http: str | None) -> None:
        request_id = id_text(message.get("id"))
        if request_id is None:
            self.problem(f"a {method} request from the {sender} with an id of the wrong type")
            return
        params = message.get("params")
        call = McpCall(self.session.server, request_id, method, sender, started=at, request_size=size,
                       http_session=http)  # fmt: skip
        if method == "tools/call" and isinstance(params, dict):
            call.tool = name(params.get("name"))
            call.arguments = self.kept(params.get("arguments"), size, call)
        else:
            call.arguments = self.kept(params, size, call)
        if method == "initialize" and isinstance(params, dict):
            self.session.client_info = mapping(params.get("clientInfo"))
            self.session.client_capabilities = mapping(params.get("capabilities"))
        self.open(call)
        meta = mapping(params.get("_meta")) if isinstance(params, dict) else None
        token = id_text(meta.get("progressToken")) if meta else None
        if token is not None and len(self.by_token) < PENDING_KEPT:
            self.by_token[token] = call
        if meta:
            texts = [value for key, value in meta.items() if key != "progressToken" and isinstance(value, str)]
            call.meta_ids = [bounded_name(value) for value in texts[:META_IDS_KEPT]]
        early = self.early.pop((sender, request_id), None)
        if early is not None:
            answered_at, answer_sender, answer, answer_size = early
            if answered_at < at - REORDER_SLACK:
                self.problem(f"an answer from the {answer_sender} to no request: id {request_id}")
                return
            self.pending.pop((sender, request_id), None)
            self.session.reordered += 1
            self.answered(call, max(answered_at, at), answer, answer_size)

    def open(self, call: McpCall) -> None:
        """Keep a request until its answer comes; an id asked again while waiting gives the older up."""
        key = (call.asked_by, call.request_id)
        older = self.pending.pop(key, None)
        if older is not None:
            self.problem(f"{call.asked_by} request {call.request_id} ({older.method}) asked again before its answer")
            self.give_up(older, "asked again before its answer")
        self.pending[key] = call
        if len(self.pending) > PENDING_KEPT:
            self.give_up(self.pending.pop(next(iter(self.pending))), "no answer")
        if len(self.session.calls) < CALLS_KEPT:
            self.session.calls.append(call)
        else:
            self.session.more_calls += 1

    def give_up(self, call: McpCall, why: str) -> None:
        call.error = {"message": why}
        for token in [token for token, waiting in self.by_token.items() if waiting is call]:
            del self.by_token[token]

    def answer(self, at: float, sender: str, request_id: str | None, message: dict, size: int) -> None:
        asked_by = SERVER if sender == AGENT else AGENT  # an answer goes the other way
        call = self.pending.pop((asked_by, request_id), None) if request_id is not None else None
        if call is None and request_id is not None:  # perhaps its request's line is still to come
            self.early[(asked_by, request_id)] = (at, sender, message, size)
            if len(self.early) > EARLY_KEPT:
                (_, stray), (_, stray_sender, _, _) = self.early.popitem(last=False)
                self.problem(f"an answer from the {stray_sender} to no request: id {stray}")
            return
        if call is None:
            self.problem(f"an answer from the {sender} to no request: id {one_line(message.get('id'))}")
            return
        self.answered(call, at, message, size)

    def answered(self, call: McpCall, at: float, message: dict, size: int) -> None:
        call.ended, call.answer_size = at, size
        self.forget_token(call)
        error = message.get("error")
        if "error" in message:
            if not isinstance(error, dict):
                call.error = {"message": one_line(error)}
            else:  # past the budget, its message at least: an error must not read as a success
                call.error = self.kept(error, size, call) or {"code": error.get("code"),
                                                              "message": text(error.get("message"), 200)}  # fmt: skip
            return
        result = message.get("result")
        call.result = self.kept(result, size, call)
        if isinstance(result, dict):
            call.is_error = call.method == "tools/call" and result.get("isError") is True
            self.read_result(at, call, result)

    def forget_token(self, call: McpCall) -> None:
        for token in [token for token, waiting in self.by_token.items() if waiting is call]:
            del self.by_token[token]

    def read_result(self, at: float, call: McpCall, result: dict) -> None:
        """What a session's answers say of the server: its initialize, its tool listings."""
        session = self.session
        if call.method == "initialize" and call.asked_by == AGENT:
            session.protocol_version = text(result.get("protocolVersion"), 80)
            session.server_info = mapping(result.get("serverInfo"))
            session.capabilities = mapping(result.get("capabilities"))
            session.instructions = text(result.get("instructions"))
        elif call.method == "tools/list" and call.asked_by == AGENT:
            paged = isinstance(call.arguments, dict) and call.arguments.get("cursor") is not None
            if not (paged and self.listing_open and session.listings):
                self.new_listing(at)
            listing = session.listings[-1]
            listing.at = at
            tools = result.get("tools")
            for tool in tools if isinstance(tools, list) else []:
                if not isinstance(tool, dict) or name(tool.get("name")) is None:
                    self.problem(f"a tool in a tools/list answer with no name: {one_line(tool, 80)}")
                elif len(listing.tools) < TOOLS_KEPT:
                    listing.tools.append(tool)
                else:
                    listing.more += 1
            if not isinstance(tools, list):
                self.problem(f"a tools/list answer (request {call.request_id}) with no list of tools")
            self.listing_open = result.get("nextCursor") is not None

    def new_listing(self, at: float) -> None:
        listings = self.session.listings
        if len(listings) >= LISTINGS_KEPT:
            del listings[1]  # the first shows what the server offered from the start, the last what it offers now
        listings.append(ToolsListing(at))

    def notification(self, at: float, sender: str, method: str, params: Any, size: int) -> None:
        if method == "notifications/progress" and isinstance(params, dict):
            call = self.by_token.get(id_text(params.get("progressToken")) or "")
            if call is not None:
                if len(call.progress) < PROGRESS_KEPT:
                    call.progress.append({"t": at, "progress": params.get("progress"), "total": params.get("total"),
                                          "message": text(params.get("message"), 200)})  # fmt: skip
                return
        if method == "notifications/cancelled" and isinstance(params, dict):
            asked_by = SERVER if sender == SERVER else AGENT  # the side that asked cancels its own request
            call = self.pending.pop((asked_by, id_text(params.get("requestId")) or ""), None)
            if call is not None:
                call.ended = at
                self.give_up(call, f"cancelled: {one_line(params.get('reason') or 'no reason given')}")
        notifications = self.session.notifications
        if len(notifications) < NOTIFICATIONS_KEPT:
            notifications.append({"t": at, "from": sender, "method": method, "params": self.kept(params, size)})
        else:
            self.session.more_notifications += 1

    def cut(self, at: float, sender: str, head: Any, size: int) -> None:
        """A message too big to record: its head may show the request it was, or the answer to one."""
        found_id, method = head_fields(head)
        self.session.messages += 1
        if sender == AGENT:
            self.session.bytes_in += size
        else:
            self.session.bytes_out += size
        if found_id is not None and method is not None:
            call = McpCall(self.session.server, found_id, method, sender, started=at, request_size=size, cut=True)
            self.open(call)
        elif found_id is not None and (call := self.pending.pop((SERVER if sender == AGENT else AGENT, found_id),
                                                                None)) is not None:  # fmt: skip
            call.ended, call.answer_size, call.cut = at, size, True
            self.forget_token(call)
        else:
            self.problem(f"a message of {size:,} bytes from the {sender}, too big to record, of no known request")

    def kept(self, value: Any, size: int, call: McpCall | None = None) -> Any:
        """`value`, while the server's budget for content holds; None past it (the call's `cut` says so)."""
        if self.content_kept + size > CONTENT_BUDGET:
            if call is not None and value is not None:
                call.cut = True
            return None
        self.content_kept += size
        return value

    def finish(self) -> None:
        """The requests no answer came for, the answers no request; the session's end, where no exit said it, at its
        last line."""
        for (_, request_id), (_, sender, _, _) in self.early.items():
            self.problem(f"an answer from the {sender} to no request: id {request_id}")
        self.early.clear()
        for (asked_by, request_id), call in self.pending.items():
            self.give_up(call, "no answer")
            self.problem(f"{asked_by} request {request_id} ({call.method}) never answered")
        self.pending.clear()
        self.by_token.clear()
        if self.session.ended is None:
            self.session.ended = self.last
