"""The API-neutral record of one exchange: what every output (report, turns.jsonl, diff) is written from.

Each API's reader (in the module a target names as its renderer) fills these from a request and a response;
outputs read only these classes. A message is a role plus typed parts, as in OpenTelemetry's GenAI
conventions, so an export is a mapping and not a translation. Nothing the reader does not understand is
dropped: it stays raw, in `Part.raw` (kind `other`), an item's or block's `metadata`, or `Turn.unknown`.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

SCHEMA = 2  # of turns.jsonl; raised when a field changes meaning or goes away (new fields keep it)
PART_KINDS = ("text", "image", "reasoning", "tool_call", "tool_result", "other")
NOTED_KEPT = 1000  # errors, kinds not understood and payloads not understood kept per turn; a hostile stream's rest
EVENT_KINDS_KEPT = 1000  # kinds of events counted one by one per turn; a hostile stream's other kinds together
OTHER_KINDS = "(other kinds)"


class Noted(list):
    """A turn's list of what its reader noted (errors sent, kinds and payloads not understood): the first NOTED_KEPT
    entries, and how many more there were (`more`): a stream of a million error events is not held."""

    def __init__(self, values=()) -> None:
        super().__init__()
        self.more = 0
        self.extend(values)

    def append(self, value: Any) -> None:
        if len(self) < NOTED_KEPT:
            super().append(value)
        else:
            self.more += 1

    def extend(self, values) -> None:
        for value in values:
            self.append(value)

    def __iadd__(self, values):
        self.extend(values)
        return self


@dataclass(slots=True)  # hundreds of thousands of them in a hostile capture: no __dict__ each
class Part:
    """One piece of a message: its kind, as this model names it, and the API's own type as sent."""

    kind: str  # one of PART_KINDS
    type: str  # the API's name for it, e.g. input_text, tool_use, summary_text
    text: str | None = None  # text, reasoning, a tool result's text
    name: str | None = None  # a tool call's tool
    call_id: str | None = None  # a tool call's id, or the call a result answers
    arguments: Any = None  # a tool call's input: parsed when it is JSON, else as sent
    is_error: bool | None = None  # a tool result's flag, when the API sends one
    raw: Any = None  # what the part held that the fields above do not (an image's source, an unknown part)
    complete: bool = True  # false when the stream ended before this part did: it holds what arrived


@dataclass(slots=True)  # hundreds of thousands of them in a hostile capture: no __dict__ each
class Item:
    """One input or output item: a message, or an API item such as a tool call, reasoning or a tool list."""

    type: str  # as sent: message, function_call, reasoning, tool_use…
    role: str | None = None
    id: str | None = None
    parts: list[Part] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)  # every other field of the item, as sent
    size: int | None = None  # bytes of the item's JSON as sent (re-serialised compactly), for context budgets
    # The item as sent, kept only until the turn's builder has measured it (a re-sent item takes the size
    # measured the first time): never written out.
    sent: Any = field(default=None, repr=False, compare=False)


@dataclass
class TextBlock:
    """One block of system instructions, with its boundary and id kept."""

    text: str
    role: str = "system"  # system, developer, instructions
    type: str = "text"
    id: str | None = None
    metadata: dict = field(default_factory=dict)  # e.g. a cache marker


@dataclass
class Tool:
    """One declared tool, with a hash of the tool as sent, so that two runs can tell what changed."""

    name: str
    namespace: str = ""
    type: str | None = None  # as sent; None when the API sent no type
    description: str = ""
    schema: Any = None
    hash: str = ""  # of the tool as sent: see tool_hash
    metadata: dict = field(default_factory=dict)
    sent: Any = field(default=None, repr=False, compare=False)  # the tool as sent, until it is hashed


@dataclass
class Usage:
    """Token counts in the API's own kinds, and normalised (None where the API does not say). Made by read_usage,
    which every reader's counts go through."""

    raw: dict
    input: int | None = None  # all input tokens, cached ones included
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    # Of cache_write, the tokens kept for an hour rather than minutes, where the API tells them apart: they are
    # priced higher.
    cache_write_1h: int | None = None
    reasoning: int | None = None
    # The tools the API ran itself and bills by use (web search, web fetch, code execution), by tool: how many
    # times, as the reader counted them from the answer (see server_tool_uses). Priced apart from the tokens.
    server_tools: dict[str, int] = field(default_factory=dict)
    # What was sent that is no count an API sends (see read_usage), by where it was in `raw`: the kinds it makes up
    # are not reported, the turn's cost is unknown, and the analysis names it in a warning. Never written out.
    refused: dict[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Timing:
    start: float | None = None  # seconds since the epoch
    ttfb_ms: float | None = None
    duration_ms: float | None = None


@dataclass
class Carried:
    """How much of this request's history an earlier exchange already held."""

    items: int  # leading input items, or items of the context continued by id
    source: int  # the earlier exchange's number
    by: str  # prefix (the history was re-sent) or previous_response_id (the server kept it)


@dataclass
class LeftOut:
    """A list of an exchange too long to read whole (probe.read.thinning): only its ends were read, and what lay
    between them is counted and digested."""

    where: str  # which list: `request input`, `request messages[3].content`, `response output`…
    count: int  # its elements, as sent
    first: int  # read from its start
    last: int  # and from its end
    bytes: int  # of the JSON of the elements left out between (as a list)
    sha256: str  # of that JSON
    history: bool = False  # whether it is the request's history, read into the turn's input items

    @property
    def left(self) -> int:
        return self.count - self.first - self.last

    def position(self, index: int) -> int:
        """Where the element read `index`th (from 0) stood in the list as sent."""
        return index if index < self.first else index + self.left


@dataclass
class Turn:
    """Everything one exchange says about the conversation, plus where and when it happened."""

    number: int
    line: int
    kind: str  # http or websocket
    proxy: str
    method: str
    path: str
    status: int | None
    complete: bool
    api: str  # the reader's name for the API, e.g. openai.responses
    provider: str | None = None
    operation: str | None = None  # what the API does, in OpenTelemetry's GenAI words: chat, generate_content…
    model: str | None = None
    config: dict = field(default_factory=dict)  # every request field that is not one of the sections below
    system: list[TextBlock] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    input: list[Item] = field(default_factory=list)
    output: list[Item] = field(default_factory=list)
    usage: Usage | None = None
    stop_reason: str | None = None
    response_id: str | None = None
    # The answer's own fields that have no place above, as sent (a Responses object's created_at, the model
    # snapshot that answered, service_tier…); an API whose answer is one message keeps them in its metadata.
    response_metadata: dict = field(default_factory=dict)
    previous_response_id: str | None = None
    timing: Timing = field(default_factory=Timing)
    carried: Carried | None = None
    events: dict[str, int] = field(default_factory=dict)  # stream event types, counted
    request_bytes: int = 0
    response_bytes: int = 0
    errors: list = field(default_factory=Noted)  # error objects the API sent, as sent
    unrecognised: list[str] = field(default_factory=Noted)  # kinds the reader did not know, e.g. "event x.y"
    unknown: list[dict] = field(default_factory=Noted)  # {"where", "raw"}: payloads not understood nor kept above
    # Lists too long to read whole, whose ends only were read (probe.read.thinning); written only when there are.
    left_out: list[LeftOut] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, **plain(self)}

    @property
    def history_left_out(self) -> LeftOut | None:
        """The request's history, when it was too long to read whole: `input` holds its ends only."""
        return next((left for left in self.left_out if left.history), None)

    @property
    def input_count(self) -> int:
        """How many input items the request sent, those left out of `input` included."""
        left = self.history_left_out
        return len(self.input) + (left.left if left is not None else 0)


def count_event(turn: Turn, kind: str) -> int:
    """Count one event of `kind` among the turn's events; how many of its kind there were so far (1: the first).
    Past EVENT_KINDS_KEPT kinds, one not met yet is counted among OTHER_KINDS, and is never a first (0)."""
    events = turn.events
    count = events.get(kind)
    if count is None and len(events) >= EVENT_KINDS_KEPT:
        events[OTHER_KINDS] = events.get(OTHER_KINDS, 0) + 1
        return 0
    events[kind] = count = (count or 0) + 1
    return count


NOT_WRITTEN = {"sent", "refused"}  # fields kept while a turn is built, never written out


def plain(value: Any) -> Any:
    """A record as JSON-ready dicts and lists. Unlike dataclasses.asdict it copies nothing it need not: the
    values are written out at once, and deep copies of every re-sent history cost more than the analysis."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__ if name not in NOT_WRITTEN}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def tool_hash(tool: Any) -> str:
    """A stable short hash of a tool as sent: its JSON with sorted keys, so key order does not count."""
    try:
        text = json.dumps(tool, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    except (RecursionError, TypeError, ValueError):  # nested too deeply, or keys that cannot be sorted
        return ""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# The most tokens a count can hold: JSON numbers are read as doubles by most parsers, exact up to 2**53, and no API
# counts near that many. A count past it, negative, fractional, true or false, or text, is no count an API sends.
MOST_TOKENS = 2**53


def integer(value: Any) -> int | None:
    """A token count as an int, or None for anything else (counts come from untrusted captures): a JSON number
    that is a whole number from 0 to MOST_TOKENS (5.0 is 5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MOST_TOKENS else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MOST_TOKENS:
        return int(value)
    return None


# Normalised kinds that are part of another (cache reads and writes of the input, 1-hour writes of the writes,
# reasoning of the output): a part larger than its whole is no usage an API sends either.
PARTS_OF = {"cache_read": "input", "cache_write": "input", "cache_write_1h": "cache_write", "reasoning": "output"}


def read_usage(raw: dict, **kinds: tuple[str, ...]) -> Usage:
    """The usage a reader read, `raw` as the API sent it: each normalised kind the sum of the counts at its paths
    (a field's name, or `details.name` within an object), None where none of them was sent. A kind one of whose
    counts is not a count (see integer), or that is larger than the kind it is part of, is None too, and what was
    sent is kept in `refused`, by where it was, to be named in a warning."""
    refused: dict[str, str] = {}
    counts: dict[str, int | None] = {}
    for kind, paths in kinds.items():
        found = [count_at(raw, path, refused) for path in paths]
        sent = [count for count in found if count is not None]
        counts[kind] = None if not sent or any(path in refused for path in paths) else sum(sent)
    for part, whole in PARTS_OF.items():
        larger = counts.get(part) is not None and counts.get(whole) is not None and counts[part] > counts[whole]
        if part == "cache_read" and counts.get("cache_write") is not None and counts.get(whole) is not None:
            larger = larger or (counts.get(part) or 0) + counts["cache_write"] > counts[whole]
        if larger:
            refused[kinds[part][0]] = f"{counts[part]:,} (more than the {counts[whole]:,} {whole} tokens)"
            counts[part] = None
    return Usage(raw=raw, refused=refused, **counts)


SERVER_TOOLS_KEPT = 16  # distinct server tools counted in one answer: no API has more, a hostile capture may


def server_tool_uses(counted: Iterable[tuple[Any, Any]]) -> dict[str, int]:
    """Server-tool uses by tool, from (tool, count) pairs as a reader found them; a count that is no count, a
    tool name that is no short text, and tools past SERVER_TOOLS_KEPT are left out, and so are tools not used."""
    uses: dict[str, int] = {}
    for tool, count in counted:
        number = integer(count)
        if not number or not isinstance(tool, str) or not 0 < len(tool) <= 64:
            continue
        if tool in uses or len(uses) < SERVER_TOOLS_KEPT:
            uses[tool] = min(uses.get(tool, 0) + number, MOST_TOKENS)
    return uses


def requests_by_tool(counts: Any) -> dict[str, int]:
    """Server-tool uses from an object of `<tool>_requests` counts (`{"web_search_requests": 2}`), as Anthropic's
    usage and gateways that follow it send them."""
    if not isinstance(counts, dict):
        return {}
    return server_tool_uses(
        (str(key).removesuffix("_requests"), value) for key, value in counts.items() if str(key).endswith("_requests")
    )


def count_at(raw: dict, path: str, refused: dict[str, str]) -> int | None:
    """The count at `path` in `raw`; None where there is none, and where there is one that is not a count, which
    goes into `refused` (as JSON, cut short)."""
    value: Any = raw
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    count = integer(value)
    if count is None and value is not None:
        text = json.dumps(value, default=str)
        refused[path] = text if len(text) <= 40 else text[:39] + "…"
    return count


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def read_model_and_config(body: Any, turn: Turn, sections: set[str]) -> bool:
    """The model, and as config every top-level field without a section of its own; False (the body kept raw)
    when the body is not an object."""
    if not isinstance(body, dict):
        turn.unrecognised.append("request body that is not an object")
        turn.unknown.append({"where": "request body", "raw": body})
        return False
    turn.model = text_or_none(body.get("model"))
    turn.config = {key: value for key, value in body.items() if key not in sections}
    return True


def json_size(value: Any) -> int:
    """The size of a value as compact JSON: what an item costs in a request, near enough to compare items."""
    try:
        return len(orjson.dumps(value, default=str))
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, or nested deeper than orjson writes
        try:
            return len(json.dumps(value, separators=(",", ":"), default=str))
        except (RecursionError, ValueError):
            return 0
