"""A run's HTTP exchanges as a VCR.py cassette (YAML, cassette format 1), for tests that replay what the agent got."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import yaml

from probe.common.counting import counted
from probe.read.masked import masked_exchanges
from probe.read.traffic import Body, Exchange, body_bytes, iter_exchanges

FORMAT_VERSION = 1  # vcrpy's CASSETTE_FORMAT_VERSION, unchanged since vcrpy 1.0
# Headers that describe how the body travelled, not the body the cassette holds: it is stored decoded and whole,
# so a replaying client must neither decode it again nor expect the length or framing it had on the wire.
TRAVEL_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})
UNFIT = (yaml.YAMLError, ValueError, TypeError, UnicodeError)  # what a field YAML cannot hold raises


class CassetteDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """The safe dumper (libyaml's where it is built in): plain strings, numbers, lists, mappings and !!binary,
    which is all vcrpy's safe loader accepts."""


def as_block(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # A stream or a JSON body reads best as a literal block; the emitter quotes the text instead wherever a block
    # could not give it back exactly (a carriage return, trailing spaces).
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


CassetteDumper.add_representer(str, as_block)


def write_cassette(traffic: Path, out: BinaryIO, warnings: list[str], masked: bool = True) -> int:
    """Write the cassette of a capture into `out`, one interaction at a time (a capture may be gigabytes), masked
    unless `masked` is off; return the number of interactions. WebSocket exchanges and exchanges that got no
    response have no place in a cassette: each kind left out is one warning that counts them."""
    left_out = {"websocket": 0, "unanswered": 0}
    exchanges = replayable(iter_exchanges(traffic, warnings), left_out)
    count = 0
    for exchange in masked_exchanges(exchanges) if masked else exchanges:
        try:
            # Made whole before it is written: an interaction YAML cannot hold leaves nothing behind. Keys sorted,
            # as vcrpy writes them.
            text = yaml.dump([interaction(exchange)], Dumper=CassetteDumper, allow_unicode=True, encoding="utf-8")
        except UNFIT as error:
            warnings.append(f"exchange {exchange.number}: left out of the cassette ({type(error).__name__}: {error})")
            continue
        # Each interaction is an item of the top-level list `interactions`, opened before the first one. Where the
        # dump ends with a block that keeps its trailing line breaks, YAML closes the document ("..."): the
        # cassette's document goes on, and the next item's dash at column 0 ends the block just as well.
        out.write((b"" if count else b"interactions:\n") + text.removesuffix(b"...\n"))
        count += 1
    out.write(b"" if count else b"interactions: []\n")
    out.write(f"version: {FORMAT_VERSION}\n".encode())
    if left_out["websocket"]:
        warnings.append(
            f"{counted(left_out['websocket'], 'WebSocket exchange')} left out of the cassette: "
            "VCR.py replays HTTP exchanges only"
        )
    if left_out["unanswered"]:
        warnings.append(
            f"{counted(left_out['unanswered'], 'exchange')} without a response left out of the cassette: "
            "there is nothing to replay"
        )
    return count


def replayable(exchanges: Iterable[Exchange], left_out: dict[str, int]) -> Iterator[Exchange]:
    """The HTTP exchanges that got a response, counting the others in `left_out` (before they are masked)."""
    for exchange in exchanges:
        if exchange.kind == "websocket":
            left_out["websocket"] += 1
        elif exchange.status is None:
            left_out["unanswered"] += 1
        else:
            yield exchange


def interaction(exchange: Exchange) -> dict:
    """One exchange as vcrpy serialises an interaction: the request as vcr.request.Request._to_dict gives it and
    the response as its httpx stub records it (vcr/stubs/httpx_stubs.py)."""
    return {
        "request": {
            "method": exchange.method,
            "uri": exchange.url,
            "body": body_value(exchange.request_body),
            "headers": grouped(exchange.request_headers, exchange.request_body),
        },
        "response": {
            # vcrpy's httpx stub gives the phrase back as ASCII bytes; without one, httpx takes the code's own.
            "status": {"code": exchange.status, "message": exchange.reason if exchange.reason.isascii() else ""},
            "headers": grouped(exchange.response_headers, exchange.response_body),
            "body": {"string": body_value(exchange.response_body)},
        },
    }


def body_value(body: Body) -> str | bytes:
    """The body as vcrpy stores one: text where it is UTF-8 (a JSON body written compactly, a stream whole),
    bytes (YAML's !!binary) where it is not."""
    data = body_bytes(body)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def grouped(pairs: list[tuple[str, str]], body: Body) -> dict[str, list[str]]:
    """Headers as a cassette holds them, each name with the list of its values (a name repeated in other case
    joins the first), less those that no longer fit the stored body. A body the capture could not decode is
    still in its Content-Encoding, so it keeps that header."""
    kept: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in TRAVEL_HEADERS and not (lower == "content-encoding" and body.as_sent):
            continue
        kept.setdefault(spelling.setdefault(lower, name), []).append(value)
    return kept
