"""Each other host's totals, gathered one exchange at a time: its kinds, requests by method and path, bytes each
way, the errors met and the events its telemetry carried; bounded whatever a capture holds."""

from collections import Counter
from dataclasses import dataclass, field

from probe.analyse.hosts.events import decode
from probe.analyse.hosts.kinds import host_of, kind_of

HOSTS_KEPT = 500  # hosts counted one by one; the rest are counted together, under OVERFLOW
OVERFLOW = "(other hosts past the first 500)"
KEPT_PER_HOST = 200  # distinct event names, errors and methods counted for one host; the rest are counted only
NOTES_KEPT = 5  # notes about bodies that could not be decoded, per host
ERROR_LIMIT = 200  # characters of an error kept
PATH_LIMIT = 200  # characters of a request's path kept
# (An exchange is probe.read.traffic.Exchange, not imported: the insight layer that counts hosts stands low.)


@dataclass
class Host:
    name: str
    kinds: Counter = field(default_factory=Counter)
    methods: Counter = field(default_factory=Counter)
    paths: Counter = field(default_factory=Counter)  # "METHOD /path" (no query): what was asked of the host
    requests: int = 0
    sent: int = 0
    received: int = 0
    errors: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    events_more: int = 0  # events not named: past the bounds
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Its most frequent kind (the first met, on a tie)."""
        return self.kinds.most_common(1)[0][0] if self.kinds else "unknown"

    def to_json(self) -> dict:
        return {
            "host": self.name, "kind": self.kind, "kinds": dict(self.kinds), "requests": self.requests,
            "methods": dict(self.methods), "paths": dict(self.paths), "bytes_sent": self.sent,
            "bytes_received": self.received,
            "errors": dict(self.errors), "events": dict(self.events), "events_not_named": self.events_more,
            "notes": self.notes,
        }  # fmt: skip


def bounded_add(counter: Counter, key: str, count: int = 1) -> bool:
    """Count `key` if it is counted already or there is room; False when it was not."""
    if key in counter or len(counter) < KEPT_PER_HOST:
        counter[key] += count
        return True
    return False


def sizes(exchange) -> tuple[int, int]:
    """Bytes sent and received: the bodies, or a WebSocket's messages each way."""
    if exchange.kind == "websocket":
        sent = sum(frame.body.size for frame in exchange.frames if frame.from_client)
        return sent, sum(frame.body.size for frame in exchange.frames if not frame.from_client)
    return exchange.request_body.size, exchange.response_body.size


def request_record(exchange, host: str, kind: str) -> dict:
    """An exchange's line in insight.jsonl (`request`), which the SQL view `requests` reads."""
    sent, received = sizes(exchange)
    return {
        "record": "request", "number": exchange.number, "proxy": exchange.proxy, "host": host,
        "method": exchange.method, "path": exchange.path, "status": exchange.status, "kind": kind,
        "bytes_sent": sent, "bytes_received": received, "error": exchange.error,
    }  # fmt: skip


class OtherHosts:
    """The other hosts met so far, in the order they were first met."""

    def __init__(self) -> None:
        self.hosts: dict[str, Host] = {}

    def add(self, exchange) -> dict:
        """Count one exchange with another host; return its record (insight.jsonl's `request`)."""
        name = host_of(exchange)
        kind, events_format = kind_of(exchange, name)
        host = self.hosts.get(name)
        if host is None:
            key = name if len(self.hosts) < HOSTS_KEPT else OVERFLOW
            host = self.hosts.setdefault(key, Host(key))
        sent, received = sizes(exchange)
        host.kinds[kind] += 1
        bounded_add(host.methods, exchange.method[:20])
        bounded_add(host.paths, f"{exchange.method[:20]} {exchange.path.split('?', 1)[0][:PATH_LIMIT]}")
        host.requests += 1
        host.sent += sent
        host.received += received
        if exchange.error:
            bounded_add(host.errors, " ".join(exchange.error.split())[:ERROR_LIMIT])
        names: list[str] = []
        if events_format is not None:
            decoded = decode(exchange, events_format)
            names = decoded.names
            host.events_more += decoded.more
            for event in names:
                if not bounded_add(host.events, event):
                    host.events_more += 1
            if decoded.note is not None and len(host.notes) < NOTES_KEPT:
                host.notes.append(f"exchange #{exchange.number}: {decoded.note}")
        return request_record(exchange, name, kind) | {"event_count": len(names)}

    def __bool__(self) -> bool:
        return bool(self.hosts)
