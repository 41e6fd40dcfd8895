"""Builds the conversation model's turns from captured exchanges, with an API's reader, and writes turns.jsonl."""

import contextlib
import operator
from typing import Any

from probe.apis.recognise import reader_for
from probe.common.errors import one_line
from probe.common.fastjson import DEPTH_LIMIT
from probe.common.lookup import fill_misses
from probe.read import history_reads, sse, thinning
from probe.read.conversation import Carried, Item, Timing, Tool, Turn, json_size, tool_hash
from probe.read.dedupe import History, RecentResponses
from probe.read.traffic import Exchange

KEYS_KEPT = 1 << 14  # items remembered with their history keys before starting over: memory stays bounded
TOOLS_KEPT = 1 << 12  # tools remembered for their hashes: memory stays bounded whatever a capture declares
REFUSALS_NAMED = 20  # exchanges whose usage holds what is not a count, named in a warning each


def item_key(item: Item) -> Any:
    """An item as compared for carried-over history, unless the reader knows better: what it says, not the
    metadata an agent adds when it sends an earlier answer back (codex stamps each item it re-sends)."""
    return (item.type, item.role, item.id, item.parts)


def context_size(found: tuple[int, list[Item]]) -> int:
    """The items of a remembered context, (exchange number, context): named, so that a builder can be saved."""
    return len(found[1])


def answer_form_mismatch(reader, turn: Turn, exchange: Exchange, streamed: bool) -> str | None:
    """A line when an HTTP answer came in the other form than the request asked for (a stream for a request that
    wanted one JSON body, or the reverse): the client could not read it, however complete the exchange was."""
    if exchange.kind != "http" or exchange.status is None or not 200 <= exchange.status < 300:
        return None
    asked = (getattr(reader, "stream_asked", None) or default_stream_asked)(turn)
    answered_json = exchange.response_body.is_json
    if asked is True and not streamed and answered_json:
        return (f"exchange #{turn.number}: the request asked for a stream and was answered with one JSON body: "
                "a client that reads the stream could not read it")  # fmt: skip
    if asked is False and streamed:
        return (f"exchange #{turn.number}: the request asked for one JSON body and was answered with a stream: "
                "a client that reads JSON could not read it")  # fmt: skip
    return None


def default_stream_asked(turn: Turn) -> bool | None:
    """Whether the request asked for a stream, when it said so in a `stream` field; None when it did not say."""
    asked = turn.config.get("stream")
    return asked if isinstance(asked, bool) else None


class TurnBuilder:
    """Turns exchanges into turns one at a time, remembering just enough to say what each one carries over."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.key = getattr(reader, "history_key", None) or item_key
        self.history = History()  # re-sent histories, matched by prefix
        self.contexts = RecentResponses(context_size)  # response id -> (exchange number, context after)
        self.contexts_of: dict[int, list[Item]] = {}  # the turn being built: its whole context, input included
        self.items_of = RecentResponses(len)  # exchange number -> its context and answer, for re-sent items' sizes
        self.tools_seen: dict[tuple[str, str], tuple[Any, Tool]] = {}  # (namespace, name) -> (as sent, the tool)
        # The latest request's number, its whole context, and where in it items of a history too long to read whole
        # were left out (turn_markdown.Gap, or None).
        self.last_context: tuple[int, list[Item], tuple[int, int] | None] | None = None
        self.history_reads = history_reads.HistoryReads()  # items re-sent as before are not read again
        self.key_of: dict[int, Any] = {}  # id(item) -> its key, for the items in `keyed` (kept alive)
        self.keyed: list[Item] = []

    def __getstate__(self) -> dict:
        # A saved reading (probe.analysis.resume) leaves out the keys kept by the items' ids, which would be another
        # process's: loaded again, an item's key is worked out again, the same.
        return self.__dict__ | {"key_of": {}, "keyed": []}

    def build(self, exchange: Exchange, warnings: list[str]) -> Turn:
        turn = Turn(
            number=exchange.number,
            line=exchange.line,
            kind=exchange.kind,
            proxy=exchange.proxy,
            method=exchange.method,
            path=exchange.path,
            status=exchange.status,
            complete=exchange.complete,
            api=str(getattr(self.reader, "API", "unknown")),
            provider=getattr(self.reader, "PROVIDER", None),
            operation=getattr(self.reader, "OPERATION", None),
            timing=Timing(exchange.timing.get("start"), exchange.ttfb_ms, exchange.duration_ms),
        )
        if exchange.error:
            turn.errors.append({"connection": exchange.error})
        # Lists too long to read whole are read at their ends (probe.read.thinning): memory follows the bytes. (The
        # analysis thins an exchange before it masks it, so that what is left out costs no masking either.)
        turn.left_out = list(thinning.thin_exchange(exchange))
        requests = (
            [frame.body for frame in exchange.frames if frame.from_client]
            if exchange.kind == "websocket"
            else [exchange.request_body]
        )
        turn.request_bytes = sum(body.size for body in requests)
        turn.response_bytes = (
            exchange.response_body.size
            if exchange.kind == "http"
            else sum(frame.body.size for frame in exchange.frames if not frame.from_client)
        )
        first, *more = [body for body in requests if body.is_json] or [None]
        for index, body in enumerate(more, start=2):
            turn.unknown.append({"where": f"client message {index}", "raw": body.value})
        self.request(turn, first.value if first is not None else None, warnings, first is not None)
        events = exchange.stream_events()
        answered = events is not None or exchange.response_body.is_json
        self.response(turn, events, exchange.response_body.value if events is None else None, warnings, answered)
        mismatch = answer_form_mismatch(self.reader, turn, exchange, streamed=events is not None)
        if mismatch is not None:
            warnings.append(mismatch)
        if turn.usage is not None and turn.usage.refused:
            # One line each for the first few; a hostile capture's thousands would be lines nobody reads.
            self.refusals = getattr(self, "refusals", 0) + 1
            if self.refusals <= REFUSALS_NAMED:
                warnings.append(refused_counts(turn.number, turn.usage.refused))
            elif self.refusals == REFUSALS_NAMED + 1:
                warnings.append(f"exchange #{turn.number} and later: more usages hold what is not a token count; "
                                "not reported, and not named one by one")  # fmt: skip
        if turn.left_out:
            warnings.append(thinning.note(turn.number, turn.left_out))
        too_much = thinning.noted_note(turn)
        if too_much is not None:
            warnings.append(too_much)
        return turn

    def request(self, turn: Turn, body: Any, warnings: list[str], sent: bool = True) -> None:
        """Read the request's body into `turn` and say what history it carries."""
        if sent:
            reading = history_reads.CURRENT.set(self.history_reads)
            try:
                self.guarded(lambda: self.reader.read_request(body, turn), turn, "request", warnings)
            finally:
                history_reads.CURRENT.reset(reading)
        try:
            self.carry(turn)
        except RecursionError:  # histories nested too deeply to compare: this turn says nothing of its history
            turn.unrecognised.append("history nested too deeply to compare")
            self.contexts_of[turn.number] = list(turn.input)
        measure(turn.input)
        self.hash_tools(turn.tools)

    def response(self, turn: Turn, events, body: Any, warnings: list[str], answered: bool = True) -> None:
        """Read the response into `turn`, and remember the context it leaves for later requests."""
        if answered:
            self.guarded(lambda: self.reader.read_response(events, body, turn), turn, "response", warnings)
        # On a RecursionError the next request will not know what this one carried; it is still shown whole.
        with contextlib.suppress(RecursionError):
            self.remember(turn)

    def guarded(self, read, turn: Turn, what: str, warnings: list[str]) -> None:
        try:
            read()
        except Exception as error:  # a reader bug costs this part of one turn, not the rest
            turn.unrecognised.append(f"{what} the reader failed on ({type(error).__name__})")
            warnings.append(
                f"exchange #{turn.number}: the reader failed on its {what} "
                f"({type(error).__name__}: {error}); kept what it read"
            )

    def carry(self, turn: Turn) -> None:
        """Say which earlier exchange already held this request's history."""
        earlier_context: list[Item] = []
        if turn.previous_response_id:
            origin = self.contexts.get(turn.previous_response_id)
            if origin is not None:
                turn.carried = Carried(len(origin[1]), origin[0], "previous_response_id")
                earlier_context = origin[1]
        elif turn.input:
            carried = self.history.split(str(turn.number), self.keys_of(turn.input))
            if carried.count:
                turn.carried = Carried(carried.count, int(carried.source), "prefix")
                earlier = self.items_of.get(carried.source) or []
                # Items read once and re-sent are the very objects of that context already (see
                # probe.read.history_reads): compared by identity in C, only the rest are walked here.
                same = list(map(operator.is_, turn.input[: carried.count], earlier))
                start = same.index(False) if False in same else len(same)
                for index in range(start, len(same)):
                    item, before = turn.input[index], earlier[index]
                    item.size = before.size  # measured when it was first sent
                    if item == before:  # re-sent unchanged: one object, so outputs convert it once
                        turn.input[index] = before
        self.contexts_of[turn.number] = earlier_context + turn.input

    def keys_of(self, items: list[Item]) -> list[Any]:
        """The items' keys for comparing histories; an item read once and re-sent (the same object, see
        probe.read.history_reads) keeps its key, looked up in C, and is read for it once."""
        if len(self.keyed) > KEYS_KEPT:  # between calls: one call's keys are all looked up in the same table
            self.key_of, self.keyed = {}, []
        return fill_misses(list(map(self.key_of.get, map(id, items))), lambda at: self.keyed_anew(items[at]))

    def keyed_anew(self, item: Item) -> Any:
        key = self.key_of[id(item)] = self.key(item)
        self.keyed.append(item)  # kept alive, so that its id stays its own
        return key

    def hash_tools(self, tools: list[Tool]) -> None:
        """Give each tool its hash. A session declares the same tools with every request: a tool sent as
        before (compared whole, which is cheap) is the same tool, one object, hashed and written out once."""
        for index, tool in enumerate(tools):
            if tool.sent is None:
                continue
            known = self.tools_seen.get((tool.namespace, tool.name))
            if known is not None and known[0] == tool.sent:
                tools[index] = known[1]
                continue
            tool.hash = tool_hash(tool.sent)
            if len(self.tools_seen) >= TOOLS_KEPT:
                self.tools_seen.clear()
            self.tools_seen[(tool.namespace, tool.name)] = (tool.sent, tool)
            tool.sent = None

    def remember(self, turn: Turn) -> None:
        measure(turn.output)
        context = self.contexts_of.pop(turn.number, list(turn.input))
        if turn.response_id and turn.complete:
            after = context + turn.output
            self.contexts.remember(turn.response_id, (turn.number, after))
            if not turn.previous_response_id:
                self.history.update(str(turn.number), self.keys_of(after))
                self.items_of.remember(str(turn.number), after)
        left = turn.history_left_out
        gap = (len(context) - len(turn.input) + left.first, left.left) if left is not None else None
        self.last_context = (turn.number, context, gap)  # the whole context of the latest request, for the report


class Reading:
    """Builds each exchange's turn with the reader of its own API (probe.apis.recognise.reader_for), one
    TurnBuilder per reader: each API's histories are compared with that API's own, item for item."""

    def __init__(self, preferred: Any = None) -> None:
        self.preferred = preferred  # the target's renderer: its reader reads the exchanges of its API
        self.builders: dict[int, TurnBuilder] = {}  # by the reader's id, in the order first used

    def __setstate__(self, state: dict) -> None:
        # Loaded again (probe.analysis.resume): the readers are the same modules, but the ids were another process's.
        self.__dict__.update(state)
        self.builders = {id(builder.reader): builder for builder in self.builders.values()}

    def build(self, exchange: Exchange, warnings: list[str]) -> tuple[Turn, TurnBuilder]:
        """The exchange's turn, and the builder (with its reader) that made it."""
        reader = reader_for(exchange, self.preferred)
        builder = self.builders.get(id(reader))
        if builder is None:
            builder = self.builders[id(reader)] = TurnBuilder(reader)
        turn = builder.build(exchange, warnings)
        if too_deep(exchange.stream_events()):
            warnings.append(
                f"exchange {exchange.number}: an event is nested deeper than {DEPTH_LIMIT:,} levels: "
                "it is shown as text, not read"
            )
        return turn, builder


def refused_counts(number: int, refused: dict[str, str]) -> str:
    """The warning for what a usage held that is no count (probe.read.conversation.read_usage), inert."""
    shown = ", ".join(f"{path} {value}" for path, value in refused.items())
    return f"exchange #{number}: usage {one_line(shown)}: not a token count an API sends; not reported"


def too_deep(events: "list[sse.Event] | sse.StreamEvents | None") -> bool:
    """Whether an event of the stream is nested too deeply to read; a long stream says so once walked (the reader
    walked it), not walked again."""
    if isinstance(events, sse.StreamEvents):
        return events.too_deep
    return any(isinstance(event.data, sse.NestedTooDeeply) for event in events or ())


def measure(items: list[Item]) -> None:
    """Give each item not yet measured its size as sent, and let go of what was sent."""
    for item in items:
        if item.size is None and item.sent is not None:
            item.size = json_size(item.sent)
        item.sent = None
