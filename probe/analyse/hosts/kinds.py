"""What kind of traffic an exchange with another host is, from the table in kinds.yaml: its host and path, then its
body (an MCP JSON-RPC call) or its answer (a page fetched)."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

# (An exchange is probe.read.traffic.Exchange, not imported: these modules stand low among the imports, under the
# insight layer that counts hosts.)

# The proxy name the forward listener records under (probe.common.forward.ALL_HOSTS, which a test holds equal):
# not imported, as these modules stand low among the imports.
FORWARD_PROXY = "all-hosts"
KINDS = ("telemetry", "update-check", "config", "oauth", "mcp", "web-fetch", "model-api", "unknown")
TABLE = Path(__file__).with_name("kinds.yaml")


@dataclass(frozen=True)
class Rule:
    kind: str
    host: re.Pattern | None
    path: re.Pattern | None
    events: str | None  # the format its bodies' events are decoded with, if any


@dataclass(frozen=True)
class Table:
    rules: tuple[Rule, ...]
    mcp_methods: tuple[str, ...]
    page_types: tuple[str, ...]
    batches: dict[str, tuple[str, str]]  # format -> (list field, name field)


@cache
def table() -> Table:
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    rules = tuple(
        Rule(rule["kind"], compiled(rule.get("host")), compiled(rule.get("path")), rule.get("events"))
        for rule in data["rules"]
    )
    assert all(rule.kind in KINDS for rule in rules), "a rule of kinds.yaml names a kind not in KINDS"
    batches = {name: (shape["list"], shape["name"]) for name, shape in data["batches"].items()}
    return Table(rules, tuple(data["mcp_methods"]), tuple(data["page_types"]), batches)


def compiled(pattern: str | None) -> re.Pattern | None:
    return None if pattern is None else re.compile(pattern, re.IGNORECASE)


def host_of(exchange) -> str:
    """The host an exchange went to, lowercase, from its absolute URL (a CONNECT's `https://HOST:PORT` too)."""
    try:
        host = urlsplit(exchange.url).hostname
    except ValueError:
        host = None
    return (host or "").lower() or "(no host)"


def is_other_host(exchange) -> bool:
    """Whether the exchange came through the forward proxy (every host), not a reverse proxy of the target."""
    return exchange.proxy == FORWARD_PROXY


def kind_of(exchange, host: str) -> tuple[str, str | None]:
    """The kind of traffic, and the format its events are decoded with (None: not decoded)."""
    path = unquote(exchange.path.split("?", 1)[0]) or "/"
    found = table()
    for rule in found.rules:
        if rule.host is not None and not rule.host.fullmatch(host):
            continue
        if rule.path is not None and not rule.path.match(path):
            continue
        return rule.kind, rule.events
    if is_mcp(exchange, found.mcp_methods):
        return "mcp", None
    content_type = exchange.content_type.split(";", 1)[0].strip().lower()
    if exchange.method == "GET" and content_type in found.page_types:
        return "web-fetch", None
    return "unknown", None


def is_mcp(exchange, methods: tuple[str, ...]) -> bool:
    """A JSON-RPC request (or batch) whose method is one of MCP's."""
    body = exchange.request_body.value if exchange.request_body.is_json else None
    calls = body if isinstance(body, list) else [body]
    for call in calls[:8]:
        if isinstance(call, dict) and "jsonrpc" in call and isinstance(call.get("method"), str):
            return call["method"].startswith(methods)
    return False
