"""Builds the conversation model's turns from captured exchanges, with an API's reader, and writes turns.jsonl."""

import json
from typing import Any

from probe.conversation import SCHEMA, Carried, Item, Timing, Turn
from probe.dedupe import History, RecentResponses
from probe.redaction import mask_body
from probe.traffic import Exchange


def item_key(item: Item) -> Any:
    """An item as compared for carried-over history, unless the reader knows better: what it says, not the
    metadata an agent adds when it sends an earlier answer back (codex stamps each item it re-sends)."""
    return (item.type, item.role, item.id, item.parts)


class TurnBuilder:
    """Turns exchanges into turns one at a time, remembering just enough to say what each one carries over."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.key = getattr(reader, "history_key", item_key)
        self.history = History()  # re-sent histories, matched by prefix
        self.contexts = RecentResponses()  # response id -> (exchange number, the whole context after it)
        self.contexts_of: dict[int, list[Item]] = {}  # the turn being built: its whole context, input included
        self.last_context: tuple[int, list[Item]] | None = None

    def build(self, exchange: Exchange, warnings: list[str]) -> Turn:
        turn = Turn(number=exchange.number, line=exchange.line, kind=exchange.kind, proxy=exchange.proxy,
                    method=exchange.method, path=exchange.path, status=exchange.status, complete=exchange.complete,
                    api=str(getattr(self.reader, "API", "unknown")), provider=getattr(self.reader, "PROVIDER", None),
                    timing=Timing(exchange.timing.get("start"), exchange.ttfb_ms, exchange.duration_ms))
        if exchange.error:
            turn.errors.append({"connection": exchange.error})
        requests = [frame.body for frame in exchange.frames if frame.from_client] \
            if exchange.kind == "websocket" else [exchange.request_body]
        turn.request_bytes = sum(body.size for body in requests)
        turn.response_bytes = exchange.response_body.size if exchange.kind == "http" else sum(
            frame.body.size for frame in exchange.frames if not frame.from_client)
        first, *more = [body for body in requests if body.is_json] or [None]
        for index, body in enumerate(more, start=2):
            turn.unknown.append({"where": f"client message {index}", "raw": body.value})
        self.request(turn, first.value if first is not None else None, warnings, first is not None)
        events = exchange.stream_events()
        answered = events is not None or exchange.response_body.is_json
        self.response(turn, events, exchange.response_body.value if events is None else None, warnings, answered)
        return turn

    def request(self, turn: Turn, body: Any, warnings: list[str], sent: bool = True) -> None:
        """Read the request's body into `turn` and say what history it carries."""
        if sent:
            self.guarded(lambda: self.reader.read_request(body, turn), turn, "request", warnings)
        try:
            self.carry(turn)
        except RecursionError:  # histories nested too deeply to compare: this turn says nothing of its history
            turn.unrecognised.append("history nested too deeply to compare")
            self.contexts_of[turn.number] = list(turn.input)

    def response(self, turn: Turn, events, body: Any, warnings: list[str], answered: bool = True) -> None:
        """Read the response into `turn`, and remember the context it leaves for later requests."""
        if answered:
            self.guarded(lambda: self.reader.read_response(events, body, turn), turn, "response", warnings)
        try:
            self.remember(turn)
        except RecursionError:
            pass  # the next request will not know what this one carried; it is still shown whole

    def guarded(self, read, turn: Turn, what: str, warnings: list[str]) -> None:
        try:
            read()
        except Exception as error:  # a reader bug costs this part of one turn, not the rest
            turn.unrecognised.append(f"{what} the reader failed on ({type(error).__name__})")
            warnings.append(f"exchange #{turn.number}: the reader failed on its {what} "
                            f"({type(error).__name__}: {error}); kept what it read")

    def carry(self, turn: Turn) -> None:
        """Say which earlier exchange already held this request's history."""
        context = list(turn.input)
        if turn.previous_response_id:
            origin = self.contexts.get(turn.previous_response_id)
            if origin is not None:
                turn.carried = Carried(len(origin[1]), origin[0], "previous_response_id")
                context = origin[1] + context
        elif turn.input:
            carried = self.history.split(str(turn.number), [self.key(item) for item in turn.input])
            if carried.count:
                turn.carried = Carried(carried.count, int(carried.source), "prefix")
        self.contexts_of[turn.number] = context

    def remember(self, turn: Turn) -> None:
        context = self.contexts_of.pop(turn.number, list(turn.input))
        if turn.response_id and turn.complete:
            after = context + turn.output
            self.contexts.remember(turn.response_id, (turn.number, after))
            if not turn.previous_response_id:
                self.history.update(str(turn.number), [self.key(item) for item in after])
        self.last_context = (turn.number, context)  # the whole context of the latest request, for the report

# The fields of a turn that hold no captured structure, so they can always be written.
SCALAR_FIELDS = ("number", "line", "kind", "proxy", "method", "path", "status", "complete", "api", "provider",
                 "request_bytes", "response_bytes")


def encoded(record: dict) -> bytes:
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a capture's escapes: ASCII escapes keep them
        return json.dumps(record, separators=(",", ":"), default=str).encode("ascii")


def turn_line(turn: Turn, redact: bool = True) -> bytes:
    """One line of turns.jsonl, masked like everything this project writes (the capture may hold secrets a
    model streamed in pieces, which the turn now holds joined)."""
    try:
        line = encoded(turn.to_json())
    except RecursionError:  # a capture nested deeper than JSON can be written back: keep where and what it was
        record = {"schema": SCHEMA, **{name: getattr(turn, name) for name in SCALAR_FIELDS}}
        line = encoded(record | {"unrecognised": turn.unrecognised + ["content nested too deeply to write"]})
    return (mask_body(line, "application/json").data if redact else line) + b"\n"
