"""What a request is matched by in a replay: its endpoint, its model and the conversation it carries (roles,
texts, tool calls and their results), with volatile values normalised as `invoke diff` normalises them; never its
bytes, nor the instructions and tools an agent version may word differently."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from probe.analyse.volatile import Place, Volatile, durations_out
from probe.apis.recognise import reader_for
from probe.read.conversation import Item, Turn
from probe.read.traffic import Body, Exchange, Frame

# Input items that instruct rather than converse (codex's permissions and environment text, a system message):
# an agent version words them its own way, and a replay across versions compares what was said and done.
INSTRUCTION_ROLES = frozenset({"system", "developer"})


@dataclass(frozen=True)
class RequestKey:
    """A request as a replay compares it. `items` is None for a request that carries no conversation (a model
    list, a WebSocket upgrade, telemetry): those are matched by endpoint alone."""

    endpoint: str  # method and path, query left out; a WebSocket message is `WS <path>`
    model: str | None
    items: tuple | None

    def shown(self) -> dict:
        """The key as JSON, for a divergence's diff."""
        return {"endpoint": self.endpoint, "model": self.model, "items": plain(self.items)}


def plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [plain(each) for each in value]
    return value


def request_key(
    method: str, path: str, body: Body, websocket: bool = False, places: list[Place] | None = None
) -> RequestKey:
    """The key of one request (or one WebSocket client message, with `websocket`), read by its own API's reader;
    `places`: the folders of the run it belongs to (see probe.analyse.volatile.run_places)."""
    endpoint = f"{'WS' if websocket else method.upper()} {unquote(path.split('?', 1)[0])}"
    volatile = Volatile(places)
    endpoint = volatile.text(endpoint)
    if not body.is_json or not isinstance(body.value, dict):
        return RequestKey(endpoint, None, None)
    reader = request_reader(method, path, body, websocket)
    turn = Turn(number=1, line=1, kind="websocket" if websocket else "http", proxy="", method=method, path=path,
                status=None, complete=True, api=str(getattr(reader, "API", "")))  # fmt: skip
    try:
        reader.read_request(body.value, turn)
    except Exception:  # a request its reader cannot read is still matched, by endpoint and body
        return RequestKey(endpoint, None, (("body", repr(volatile.value(body.value))),))
    if not turn.input and not turn.model:
        return RequestKey(endpoint, None, None)
    conversation = [item for item in turn.input if item.role not in INSTRUCTION_ROLES]
    return RequestKey(endpoint, turn.model, tuple(item_key(item, volatile) for item in conversation))


def request_reader(method: str, path: str, body: Body, websocket: bool = False) -> Any:
    """The reader of the API a request (or a WebSocket client message) is of, as the analysis recognises it."""
    exchange = Exchange(
        number=1, line=1, kind="websocket" if websocket else "http", proxy="", method=method, url=path, path=path,
        status=None, request_headers=[], response_headers=[], request_body=body, response_body=Body(None, "empty"),
    )  # fmt: skip
    if websocket:  # a reader recognises a WebSocket turn by its client's first message
        exchange.request_body = Body(None, "empty")
        exchange.frames = [Frame(True, None, body)]
    return reader_for(exchange)


def item_key(item: Item, volatile: Volatile) -> tuple:
    """An input item as the model reads it: its role and its parts' kinds, texts, tool names and arguments, and
    error flags; ids (of calls, of items) and whatever an API adds around them left out."""
    parts = tuple(
        (
            part.kind,
            durations_out(volatile.text(part.text)) if isinstance(part.text, str) else None,
            part.name,
            repr(volatile.value(part.arguments)) if part.arguments is not None else None,
            part.is_error,
            repr(volatile.value(part.raw)) if part.kind == "other" and part.raw is not None else None,
        )
        for part in item.parts
    )
    return (item.role, parts)
