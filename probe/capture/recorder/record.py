"""What the capture stores of a flow: the parts of its JSON line, masked.

Loaded beside the capture addon by `mitmdump -s`, it imports nothing of `probe` but its sibling modules.
"""

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from mitmproxy import http

from probe.common import decoding
from probe.redact import masking as redaction

SCHEMA_VERSION = 1
# A stream holding one of these has delivered its whole answer, even if the client hung up before
# the final chunk (codex closes the connection as soon as it reads `response.completed`): the Responses and
# Messages APIs' last events, Chat Completions' `data: [DONE]`, and the Gemini API's finishReason, which only
# its last chunk carries.
TERMINAL_EVENT = re.compile(
    rb'"type"\s*:\s*"(?:response\.completed|response\.failed|response\.incomplete|message_stop)"'
    rb"|^event:\s*(?:response\.completed|response\.failed|response\.incomplete|message_stop)\s*$"
    rb"|^data:\s*\[DONE\]\s*$"
    rb'|"finishReason"\s*:\s*"',
    re.MULTILINE,
)
JSON_START = (b"{", b"[")


@dataclass(frozen=True)
class Policy:
    """How the capture treats secrets and compressed bodies."""

    redact: bool = True
    extra_headers: frozenset[str] = frozenset()  # the target's own secret headers
    decode_cap: int = 128 * 1024 * 1024  # bytes a compressed body may decode to before its wire bytes are kept
    # Told the bytes decoded in vain when a body passes decode_cap (an import counts them against its bound).
    on_too_large: Callable[[int], None] | None = None


@dataclass
class StoredBody:
    fields: dict  # body, body_format, body_size, body_sha256 and notes, for the JSON line


def text(value: str, policy: Policy) -> str:
    """A short captured text (a reason phrase, an error, a method) with token shapes masked."""
    return redaction.mask_text(value)[0] if policy.redact and value else value


def url(value: str, policy: Policy) -> str:
    return redaction.mask_url(value)[0] if policy.redact and value else value


def headers(pairs: list[tuple[str, str]], policy: Policy) -> list[tuple[str, str]]:
    return redaction.mask_headers(pairs, policy.extra_headers)[0] if policy.redact else pairs


def store_body(raw: bytes | None, content_encoding: str, content_type: str, policy: Policy) -> StoredBody:
    """The body decoded from its Content-Encoding (bounded), masked, and kept as JSON, UTF-8 text or base64.

    `body_size` and `body_sha256` describe the body as it travelled, decoded; `redacted_tokens` counts the
    values masked.
    """
    wire = raw or b""
    fields: dict = {}
    data = wire
    content_encoding = content_encoding.strip().lower()
    if wire and content_encoding not in ("", "identity"):
        decoded = decoding.decode_body(wire, content_encoding, policy.decode_cap)
        if decoded.too_large and policy.on_too_large is not None:
            policy.on_too_large(policy.decode_cap)
        if decoded.note:
            fields["content_encoding_error"] = decoded.note
        if decoded.data is not wire and (decoded.complete or decoded.data):
            data = decoded.data
            fields["content_encoding"] = content_encoding
        elif not decoded.complete and decoded.data is wire:
            # Past the cap (a decompression bomb), or an encoding nobody here can decode: the wire bytes are
            # kept with the note, masked as bytes (a mislabelled body may be plain text).
            return kept_as_sent(wire, fields, policy)
        # Else nothing decoded at all (mislabelled, or cut off in its header): the wire bytes are the body.
    fields["body_size"] = len(data)
    fields["body_sha256"] = hashlib.sha256(data).hexdigest()
    if not data:
        fields.update(body=None, body_format="empty")
        return StoredBody(fields)
    parsed, count = redaction.NOT_JSON, 0
    if policy.redact:
        masked = redaction.mask_body(data, content_type)
        data, parsed, count = masked.data, masked.parsed, masked.count
        if count:
            fields["redacted_tokens"] = count
    try:
        as_text = data.decode("utf-8")
    except UnicodeDecodeError:
        fields.update(body=base64.b64encode(data).decode("ascii"), body_format="base64")
        return StoredBody(fields)
    if parsed is redaction.NOT_JSON and (data.lstrip()[:1] in JSON_START or "json" in content_type):
        parsed = parse_json(as_text)
    if parsed is not redaction.NOT_JSON:
        fields.update(body=parsed, body_format="json")
    else:
        fields.update(body=as_text, body_format="text")
    return StoredBody(fields)


def kept_as_sent(wire: bytes, fields: dict, policy: Policy) -> StoredBody:
    """A body stored as its wire bytes, base64, with token shapes masked in them."""
    masked, count = redaction.mask_bytes(wire) if policy.redact else (wire, 0)
    fields.update(
        body_size=len(wire),
        body_sha256=hashlib.sha256(wire).hexdigest(),
        body=base64.b64encode(masked).decode("ascii"),
        body_format="base64",
    )
    if count:
        fields["redacted_tokens"] = count
    return StoredBody(fields)


def parse_json(text: str):
    try:
        return redaction.parse_json(text)
    except (ValueError, RecursionError):
        return redaction.NOT_JSON


def websocket_content(content: bytes, is_text: bool, policy: Policy) -> dict:
    """One frame as the JSON line stores it (body and body_format)."""
    if not policy.redact:
        masked = redaction.MaskedBody(content, redaction.NOT_JSON, 0)
    elif is_text:
        masked = redaction.mask_body(content, "")
    else:
        data, count = redaction.mask_bytes(content)
        masked = redaction.MaskedBody(data, redaction.NOT_JSON, count)
    fields = {"redacted_tokens": masked.count} if masked.count else {}
    try:
        as_text = masked.data.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        as_text = None
    if as_text is None:
        return fields | {"body": base64.b64encode(masked.data).decode("ascii"), "body_format": "base64"}
    parsed = masked.parsed
    if parsed is redaction.NOT_JSON and masked.data.lstrip()[:1] in JSON_START:
        parsed = parse_json(as_text)
    if parsed is not redaction.NOT_JSON:
        return fields | {"body": parsed, "body_format": "json"}
    return fields | {"body": as_text, "body_format": "text"}


def header_pairs(message: http.Message, which: str = "headers") -> list[tuple[str, str]]:
    fields = getattr(message, which)
    return list(fields.items(multi=True)) if fields is not None else []
