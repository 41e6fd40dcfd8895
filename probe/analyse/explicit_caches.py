"""The explicit caches an agent made through its API (Gemini's `cachedContents`), as their answers gave them: each
one's name, when its lifetime started and when it ends, so that a turn naming one can be told whether it outlived it.

A cache made this way lives for the ttl set when it was made (or last changed), counted from then, not from its last
use: its answer gives `expireTime` beside `createTime` and `updateTime` (ai.google.dev/api/caching)."""

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

# The collection (`…/cachedContents`, made by a POST) and one cache in it (`…/cachedContents/<id>`, its ttl changed by
# a PATCH, ended by a DELETE), on the Gemini API (`v1beta/cachedContents`) and Vertex AI (`…/locations/<l>/…`) alike.
CACHE_PATH = re.compile(r"/(cachedContents(?:/[^/:?#]+)?)$")
COLLECTION = "cachedContents/"
CACHES_KEPT = 256  # caches remembered: a capture that makes more is hostile, and the oldest are forgotten
NAME_KEPT = 120  # characters of a cache's name kept: the API's names are short, a longer one is cut
# A protobuf Duration in JSON ("300s", "3.5s"), at most its 315,576,000,000 seconds (10,000 years): a longer one, a
# hostile capture's, would be no finite number of seconds.
TTL = re.compile(r"^(\d{1,12}(?:\.\d{1,9})?)s$")


@dataclass(frozen=True)
class ExplicitCache:
    """One cache the capture saw made: its name, the moment its lifetime counts from (on the capture's clock), and
    that lifetime in seconds, with its ttl."""

    name: str
    since: float  # seconds since the epoch: when it was made, or its ttl last changed
    seconds: float
    ttl: str  # as the request set it ("300s"), else as its answer's times give it
    counted_from: str = "it was made"  # or "its ttl was last changed"
    deleted: bool = False  # deleted before its ttl ran out: `seconds` ends then

    @property
    def expires(self) -> float:
        return self.since + self.seconds


def cache_key(name: str) -> str:
    """A cache's name from `cachedContents/` on: a request may name it whole (`projects/…/cachedContents/<id>`)."""
    at = name.rfind(COLLECTION)
    return name[at:] if at >= 0 else name


class ExplicitCaches:
    """Fed the run's exchanges that are no turn; keeps the newest CACHES_KEPT caches they made, by name."""

    def __init__(self) -> None:
        self.caches: OrderedDict[str, ExplicitCache] = OrderedDict()
        self.forgotten = 0  # caches made but no longer remembered: a turn naming one has its ttl unknown

    def note(self, exchange) -> None:
        """Read `exchange` (a probe.read.traffic.Exchange: not imported, which would stack the reader's modules
        under this one's) if it made a cache, changed its ttl or deleted it, and was answered with success."""
        found = CACHE_PATH.search(exchange.path.split("?", 1)[0])
        if found is None or not isinstance(exchange.status, int) or not 200 <= exchange.status < 300:
            return
        at = answered_at(exchange.timing)
        if exchange.method == "DELETE":
            ended = self.caches.get(cache_key(found.group(1)))
            if ended is not None and at is not None:  # deleted: it lived until then
                lived = whole(max(at - ended.since, 0))
                self.remember(ExplicitCache(ended.name, ended.since, lived, ended.ttl, ended.counted_from, True))
            return
        if exchange.method not in ("POST", "PATCH") or at is None:
            return
        answer = exchange.response_body.value if exchange.response_body.is_json else None
        request = exchange.request_body.value if exchange.request_body.is_json else None
        if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
            return
        seconds = lifetime_of(answer, request)
        if seconds is not None:
            ttl = request.get("ttl") if isinstance(request, dict) and isinstance(request.get("ttl"), str) else None
            counted_from = "its ttl was last changed" if exchange.method == "PATCH" else "it was made"
            name, ttl = answer["name"][:NAME_KEPT], ttl[:NAME_KEPT] if ttl else f"{whole(seconds)}s"
            self.remember(ExplicitCache(name, at, whole(seconds), ttl, counted_from))

    def remember(self, cache: ExplicitCache) -> None:
        key = cache_key(cache.name)
        self.caches[key] = cache
        self.caches.move_to_end(key)
        while len(self.caches) > CACHES_KEPT:
            self.caches.popitem(last=False)
            self.forgotten += 1

    def named(self, name) -> ExplicitCache | None:
        return self.caches.get(cache_key(name)) if isinstance(name, str) else None


def answered_at(timing: dict) -> float | None:
    """When the answer came, on the capture's clock (the server made the cache before it answered)."""
    for key in ("first_byte", "end", "start"):
        if isinstance(timing.get(key), (int, float)) and not isinstance(timing.get(key), bool):
            return float(timing[key])
    return None


def lifetime_of(answer: dict, request) -> float | None:
    """The cache's lifetime in seconds: from its last update (or creation) to its expiry, both on the server's clock,
    so that the capture's own clock need not agree with the server's; else the ttl the request set."""
    expires, began = moment(answer.get("expireTime")), moment(answer.get("updateTime") or answer.get("createTime"))
    if expires is not None and began is not None and expires >= began and math.isfinite(expires - began):
        return expires - began
    asked = (
        TTL.match(request.get("ttl", "")) if isinstance(request, dict) and isinstance(request.get("ttl"), str) else None
    )
    return float(asked.group(1)) if asked else None


def whole(seconds: float) -> float:
    """Seconds as a whole number where they are one (a ttl is most often given in whole seconds)."""
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def moment(value) -> float | None:
    """An RFC 3339 timestamp (`2026-11-27T15:00:00.123456789Z`) in seconds since the epoch; None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
