"""What a run's report and viewer count while its exchanges stream past: exchanges, bytes, APIs, token sums, key
paths and the insight layer's answers (Totals), gathered by the analysis job and handed to the writers."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from probe.analyse.insight import Insight
from probe.analyse.keypaths import KeyPaths
from probe.analyse.token_sums import TokenSums
from probe.common import markdown as md
from probe.common.forward import ALL_HOSTS
from probe.read.conversation import Turn
from probe.read.traffic import Exchange
from probe.runs.importer import renderer_module
from probe.runs.login_marks import LoginsSeen


@dataclass
class Totals:
    """Everything the report's header and tables need, gathered while the log streams past."""

    exchanges: int = 0
    http: int = 0
    websocket: int = 0
    frames: int = 0
    client_frames: int = 0
    incomplete: int = 0
    sent: int = 0
    received: int = 0
    first_start: float | None = None
    last_end: float | None = None
    endpoints: dict = field(default_factory=dict)  # (proxy, path) -> Counter of methods
    methods: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    tokens: TokenSums = field(default_factory=TokenSums)
    insight: Insight = field(default_factory=Insight)
    unrecognised: set[str] = field(default_factory=set)
    apis: Counter = field(default_factory=Counter)  # exchanges by the API they were read as
    renderers: dict = field(default_factory=dict)  # API -> the renderer module that showed its exchanges
    foreign: dict = field(default_factory=dict)  # API -> numbers of exchanges not of the target's API
    request_paths: KeyPaths = field(default_factory=KeyPaths)
    response_paths: KeyPaths = field(default_factory=KeyPaths)
    logins: LoginsSeen = field(default_factory=LoginsSeen)  # the target's logins its requests carried

    def absorb(self, rendered: md.Rendered) -> None:
        self.unrecognised |= rendered.unrecognised

    def read_by(self, turn: Turn, renderer, preferred, preferred_name: str) -> None:
        """Which API the exchange was read as, and by which renderer: the report says so once."""
        self.apis[turn.api] += 1
        self.tokens.add(turn)
        self.renderers.setdefault(turn.api, preferred_name if renderer is preferred else renderer_module(renderer))
        preferred_api = getattr(preferred, "API", None)
        if preferred_api not in (None, "generic") and turn.api not in (preferred_api, "generic"):
            self.foreign.setdefault(turn.api, []).append(turn.number)

    def count(self, exchange: Exchange) -> None:
        self.exchanges += 1
        self.incomplete += not exchange.complete
        self.endpoints.setdefault((exchange.proxy, exchange.path.split("?", 1)[0]), Counter())[exchange.method] += 1
        self.methods[exchange.method] += 1
        self.statuses[str(exchange.status) if exchange.status is not None else "none"] += 1
        if exchange.proxy != ALL_HOSTS:  # (another host's model call: not the target's own login)
            self.logins.add(exchange.proxy, exchange.url, exchange.request_headers)
        if exchange.kind == "websocket":
            self.websocket += 1
            self.frames += len(exchange.frames)
            for frame in exchange.frames:
                self.client_frames += frame.from_client
                if frame.from_client:
                    self.sent += frame.body.size
                else:
                    self.received += frame.body.size
        else:
            self.http += 1
            self.sent += exchange.request_body.size
            self.received += exchange.response_body.size
        start, end = exchange.timing.get("start"), exchange.timing.get("end", exchange.timing.get("start"))
        if start is not None:
            self.first_start = start if self.first_start is None else min(self.first_start, start)
        if end is not None:
            self.last_end = end if self.last_end is None else max(self.last_end, end)


def count_key_paths(exchange: Exchange, turn: Turn, renderer, totals) -> None:
    """The key paths of the request the turn was read from and of the response, for the payload-structure tables
    of the report and the viewer (`totals`: Totals)."""
    if exchange.kind == "websocket":
        requests = [frame.body for frame in exchange.frames if frame.from_client]
    else:
        requests = [exchange.request_body]
    read = next((body for body in requests if body.is_json), None)
    if read is not None:
        totals.request_paths.add(without_carried(read.value, turn, renderer))
    events = exchange.stream_events()
    if events is not None:
        totals.response_paths.add_events(events)
    elif exchange.response_body.is_json:
        totals.response_paths.add(exchange.response_body.value)


def without_carried(body: Any, turn: Turn, renderer) -> Any:
    """A request body without the history an earlier request already held, so repeated history counts once in
    the key-path tables. The renderer names the field that holds the history."""
    field = getattr(renderer, "HISTORY_FIELD", None)
    if not (
        isinstance(body, dict)
        and field
        and turn.carried
        and turn.carried.by == "prefix"
        and isinstance(body.get(field), list)
    ):
        return body
    return {**body, field: body[field][turn.carried.items :]}
