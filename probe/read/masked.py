"""Exchanges masked as they are read, for every output that shows them, whatever the capture or its manifest says:
a capture made with --keep-secrets, by an older version or by hand is then as safe to share as a report as one
masked when it was recorded (masking is idempotent: what was masked then stays as it is)."""

import base64
import binascii
from collections.abc import Iterable, Iterator
from typing import Any

from probe.common.fastjson import encoded
from probe.read.history_masks import HistoryMasks
from probe.read.thinning import marked_like
from probe.read.traffic import Body, Exchange
from probe.redact.json_values import mask_json
from probe.redact.masking import mask_body, mask_bytes, mask_headers, mask_json_body, mask_text, mask_url
from probe.redact.replacing import SEEN, fingerprints_of
from probe.redact.stream_pieces import mask_pieces

TOO_DEEP = "(nested too deeply to be masked, so not shown: traffic.jsonl holds it)"


def masked_exchanges(exchanges: Iterable[Exchange], extra_headers: frozenset[str] = frozenset()) -> Iterator[Exchange]:
    histories = HistoryMasks()
    for exchange in exchanges:
        yield masked_exchange(exchange, extra_headers, histories)
        del exchange  # before the next one is read: memory holds one exchange at a time


def masked_exchange(
    exchange: Exchange, extra_headers: frozenset[str] = frozenset(), histories: HistoryMasks | None = None
) -> Exchange:
    """The exchange with its URL, headers, trailers, bodies, frames and messages masked, in place; `histories`,
    kept from one exchange to the next, masks only what a request adds to the long lists of the one before."""
    exchange.url = masked_url(exchange.url)
    exchange.path = masked_url(exchange.path)
    exchange.request_headers = masked_headers(exchange.request_headers, extra_headers)
    exchange.response_headers = masked_headers(exchange.response_headers, extra_headers)
    if exchange.request_trailers:
        exchange.request_trailers = masked_headers(exchange.request_trailers, extra_headers)
    if exchange.response_trailers:
        exchange.response_trailers = masked_headers(exchange.response_trailers, extra_headers)
    request_type = next((value for name, value in exchange.request_headers if name.lower() == "content-type"), "")
    thinned = bool(exchange.left_out)
    exchange.request_body = masked_body(exchange.request_body, request_type, histories, thinned)
    exchange.response_body = masked_body(exchange.response_body, exchange.content_type, thinned=thinned)
    fresh: set[str] = set()
    for frame in exchange.frames:
        before = frame.body
        frame.body = masked_body(frame.body, "", thinned=thinned)
        fresh |= made(before, frame.body)
    # A key the model streamed over several frames.
    mask_pieces([frame.body.value for frame in exchange.frames if not frame.from_client and frame.body.is_json], fresh)
    if exchange.error:
        exchange.error = mask_text(exchange.error)[0]
    if exchange.reason:
        exchange.reason = mask_text(exchange.reason)[0]
    exchange.events, exchange.events_parsed = None, False  # parsed again, from the masked body
    return exchange


# Each URL and header masked once, kept as masked: a session sends the same ones with every request. (Masking each
# header does not depend on the others: mask_headers scans them together only to skip those that hold no shape.)
# Not while fingerprints made are being gathered (probe.redact.replacing.SEEN): each must be made again there.
MASKED_KEPT = 4096
KEPT_LENGTH = 2048  # characters of a URL or header kept at most: a hostile capture's huge ones are masked each time
MASKED_URLS: dict[str, str] = {}
MASKED_HEADERS: dict[tuple[str, str, frozenset[str]], tuple[str, str]] = {}


def masked_url(url: str) -> str:
    """mask_url(url)[0], kept."""
    if SEEN.get() is not None:
        return mask_url(url)[0]
    if len(url) > KEPT_LENGTH:
        return mask_url(url)[0]
    masked = MASKED_URLS.get(url)
    if masked is None:
        if len(MASKED_URLS) >= MASKED_KEPT:
            MASKED_URLS.clear()
        masked = MASKED_URLS[url] = mask_url(url)[0]
    return masked


def masked_headers(pairs: list[tuple[str, str]], extra: frozenset[str]) -> list[tuple[str, str]]:
    """mask_headers(pairs, extra)[0], each header kept: only those not seen before are masked (in one scan)."""
    if SEEN.get() is not None or any(len(name) + len(value) > KEPT_LENGTH for name, value in pairs):
        return mask_headers(pairs, extra)[0]
    kept = MASKED_HEADERS
    keys = [(name, value, extra) for name, value in pairs]
    new = [pair for pair, key in zip(pairs, keys, strict=True) if key not in kept]
    if new:
        if len(kept) + len(new) > MASKED_KEPT:
            kept.clear()
        for (name, value), masked in zip(new, mask_headers(new, extra)[0], strict=True):
            kept[(name, value, extra)] = masked
    return [kept[key] for key in keys]


def made(before: Body, after: Body) -> set[str]:
    """The fingerprints that masking a body made (stream_pieces.cut_off looks at those only)."""
    if before.value is after.value or not isinstance(after.value, (str, dict, list)):
        return set()
    return fingerprints_of(shown(after.value)) - fingerprints_of(shown(before.value))


def shown(value: Any):
    return value if isinstance(value, str) else encoded(value)


def masked_json(value: Any) -> Any:
    """A parsed JSON value masked as the capture masks a JSON body: the text rules over it written out, once (not
    string by string), then a walk only where a key may name a secret. RecursionError past what can be walked."""
    masked = mask_json_body(encoded(value))
    if masked is None:
        return mask_json(value)[0]
    return masked.parsed if masked.count else value


def masked_body(body: Body, content_type: str, histories: HistoryMasks | None = None, thinned: bool = False) -> Body:
    """`body` masked; `thinned`: its lists too long to read whole were thinned (probe.read.thinning), and stay
    marked so in what masking writes anew."""
    if body.format == "json":
        try:
            fast = histories.masked(body.value, masked_json) if histories and isinstance(body.value, dict) else None
            value = fast if fast is not None else masked_json(body.value)
        except RecursionError:  # nested past what can be walked: not shown at all (traffic.jsonl keeps it)
            return Body(TOO_DEEP, "text", body.size, body.as_sent)
        if thinned and value is not body.value:
            value = marked_like(body.value, value)
        if isinstance(value, list):  # a stream sent as a JSON array of chunks
            mask_pieces(value, fingerprints_of(encoded(value)) - fingerprints_of(encoded(body.value)))
        return Body(value, body.format, body.size, body.as_sent)
    if body.format == "text" and isinstance(body.value, str):
        sent = body.value.encode("utf-8", "surrogatepass")
        data = mask_body(sent, content_type).data
        # Nothing masked (as nearly always, the capture having masked it): the text as it was, not a copy of it,
        # which for a stream of a million events is another copy of hundreds of megabytes.
        text = body.value if data is sent or data == sent else data.decode("utf-8", "surrogatepass")
        return Body(text, body.format, body.size, body.as_sent)
    if body.format == "base64" and isinstance(body.value, str):
        try:
            raw = base64.b64decode(body.value, validate=True)
        except (binascii.Error, ValueError):
            return Body(mask_text(body.value)[0], body.format, body.size, body.as_sent)
        masked, count = mask_bytes(raw)
        value = base64.b64encode(masked).decode("ascii") if count else body.value
        return Body(value, body.format, body.size, body.as_sent)
    return body
