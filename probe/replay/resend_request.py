"""The recorded request a resend starts from: exchange N of a run, masked as every output shows it, checked to be
one HTTP can carry as it is (a run folder comes from anyone), and a WebSocket turn as its API's HTTP request."""

import re
from dataclasses import replace
from pathlib import Path

from probe.common.errors import RunError, UsageError
from probe.common.forward import ALL_HOSTS
from probe.common.paths import display
from probe.read.masked import masked_exchange
from probe.read.traffic import Body, Exchange, iter_exchanges
from probe.replay.sendable import TOKEN, sendable_header

# Headers that described the body as it travelled, the connection or a WebSocket's upgrade, not the request: the
# client sets its own.
NOT_SENT = frozenset({"host", "content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive",
                      "expect", "proxy-authorization", "proxy-connection", "upgrade"})  # fmt: skip
SENDABLE_PATH = re.compile(r"/[\x21-\x7e]*")  # a request target from the root, no space or control in it


def recorded_exchange(run: Path, number: int, seen=None) -> tuple[Exchange, Exchange]:
    """Exchange `number` of the run, masked (a run kept with --keep-secrets too), and the HTTP request to send.
    `seen`, if given, gets every byte of the capture: it is read to its end, to hash the very bytes the exchange
    was read from."""
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(run)} has no traffic.jsonl")
    exchanges = iter_exchanges(traffic, [], seen=seen)
    found = next((each for each in exchanges if each.number == number), None)
    if seen is not None:
        for _ in exchanges:  # (100 MB more of a capture takes about a second)
            pass
    where = f"exchange {number} of {display(run)}"
    if found is None:
        raise UsageError(f"{display(run)} has no exchange {number}")
    if found.proxy == ALL_HOSTS:
        raise UsageError(f"{where} is another host's exchange (--all-hosts): resend re-sends a model API's request")
    if not TOKEN.fullmatch(found.method) or not SENDABLE_PATH.fullmatch(found.path):
        raise UsageError(f"{where}: its method or path is not one HTTP can send")
    found = masked_exchange(found)
    request = http_form(found, where) if found.kind == "websocket" else found
    if not request.request_body.is_json or not isinstance(request.request_body.value, dict):
        raise UsageError(f"{where} has no JSON request body: there is nothing to edit")
    return found, request


def http_form(exchange: Exchange, where: str) -> Exchange:
    """A WebSocket turn (the Responses API's, as codex speaks it) as the HTTP request its API takes the same: its
    client message, less its event `type`, POSTed as JSON to the socket's path."""
    client = [frame for frame in exchange.frames if frame.from_client]
    if len(client) != 1:
        raise UsageError(f"{where} is a WebSocket that carried {len(client)} client messages: resend re-sends one")
    message = client[0].body.value
    if not client[0].body.is_json or not isinstance(message, dict):
        raise UsageError(f"{where} is a WebSocket whose client message is not a JSON object: there is nothing to edit")
    body = {key: value for key, value in message.items() if key != "type"}
    headers = [
        (name, value) for name, value in exchange.request_headers if not name.lower().startswith("sec-websocket-")
    ]
    headers.append(("Content-Type", "application/json"))
    return replace(exchange, kind="http", method="POST", request_body=Body(body, "json"), request_headers=headers,
                   frames=[])  # fmt: skip


def sent_headers(exchange: Exchange) -> list[list[str]]:
    """The recorded headers the client sends: not those of the connection, nor any HTTP cannot carry (a header with
    CR or LF in it would add headers of its own)."""
    return [
        [name, value]
        for name, value in exchange.request_headers
        if name.lower() not in NOT_SENT and sendable_header((name, value))
    ]
