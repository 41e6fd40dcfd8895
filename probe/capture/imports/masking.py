"""An imported line masked as the recorder masks what it captures: its URL, headers, texts and bodies by the
recorder's own functions (probe.capture.recorder.record), a secret streamed across WebSocket frames too, and every
other field it carries over (probe.capture.imports.carried)."""

import base64
import hashlib
import json

from probe.capture.imports import encoded_bodies
from probe.capture.imports.carried import mask_carried
from probe.capture.imports.cassette_fields import unmasked
from probe.capture.recorder import record as stored
from probe.capture.recorder.line import dumps
from probe.capture.recorder.sockets import mask_streamed_secrets
from probe.redact.not_secrets import is_identifier_name, is_secret
from probe.redact.replacing import fingerprints_of, secrets_seen

MASKING = stored.Policy()
BODY_FIELDS = ("body", "body_format", "redacted_tokens")
SIDES = ("client", "server")


def body_bytes(value, body_format) -> bytes | None:
    """The bytes a stored body stands for (None: no body)."""
    if value is None:
        return None
    if body_format == "base64" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return value.encode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def replaced_body(message: dict, fields: dict) -> None:
    """The stored body's fields put in place of the message's; its size and sha256 stay those of the body as it
    travelled (measured when the line was made: probe.capture.imports.traffic_jsonl measures a line taken whole)."""
    for name in BODY_FIELDS:
        message.pop(name, None)
        if name in fields:
            message[name] = fields[name]


def masked_message(message: dict) -> None:
    """A request's or response's texts, URL, headers and body masked in place."""
    for name in ("method", "reason"):
        if isinstance(message.get(name), str):
            message[name] = stored.text(message[name], MASKING)
    for name in ("url", "path"):
        if isinstance(message.get(name), str):
            message[name] = stored.url(message[name], MASKING)
    for name in ("headers", "trailers"):
        if isinstance(message.get(name), list):
            pairs = [
                (str(pair[0]), str(pair[1])) for pair in message[name] if isinstance(pair, list) and len(pair) == 2
            ]
            message[name] = [list(pair) for pair in stored.headers(pairs, MASKING)]
    data = body_bytes(message.get("body"), message.get("body_format"))
    if data is not None:
        content_type, encoding = (
            next((value for name, value in message.get("headers") or [] if name.lower() == wanted), "")
            for wanted in ("content-type", "content-encoding")
        )
        if encoding and "content_encoding" not in message:  # said to be still in its encoding: is it?
            data = decoded(message, data, encoding)
        replaced_body(message, stored.store_body(data, "", content_type, MASKING).fields)


def decoded(message: dict, data: bytes, encoding: str) -> bytes:
    """A body still in its Content-Encoding, decoded (within the import's bound) so that what it holds is masked;
    as it is when it does not decode, or only past the bound."""
    policy = unmasked()
    found = encoded_bodies.undone(data, encoding, policy.decode_cap, policy.on_too_large)
    if found is None or found[1].too_large:
        return data
    message["content_encoding"] = encoding.strip().lower()
    message["body_size"], message["body_sha256"] = len(found[1].data), hashlib.sha256(found[1].data).hexdigest()
    if found[1].note:
        message["content_encoding_error"] = found[1].note
    return found[1].data


def masked_frames(frames: list[dict]) -> None:
    """A WebSocket turn's messages masked in place, each as the recorder masks a frame, then a secret streamed
    across frames."""
    fresh: set[str] = set()
    for message in frames:
        data = body_bytes(message.get("body"), message.get("body_format"))
        if data is None:
            continue
        fields = stored.websocket_content(data, message.get("type") != "binary", MASKING)
        replaced_body(message, fields)
        if fields.get("redacted_tokens"):
            fresh |= fingerprints_of(shown(message["body"])) - fingerprints_of(data)
    mask_streamed_secrets(frames, fresh)


def mask_line(line: dict) -> tuple[dict, set[str]]:
    """The line masked in place, and the fingerprints of the secrets it held unmasked (empty: none: a recording
    exported masked, as agent-probe exports, holds fingerprints already, which stay as they are). A placeholder a
    recorder wrote for a secret (`<redacted>`, `***`), an identifier (an organisation's, a project's) and prose a
    rule took for an assignment are masked all the same, and not counted (probe.redact.not_secrets)."""
    before = fingerprints_of(dumps(line))
    identifiers = identifier_values(line)
    with secrets_seen() as seen:
        if isinstance(line.get("error"), str):
            line["error"] = stored.text(line["error"], MASKING)
        for part in ("request", "response"):
            if isinstance(line.get(part), dict):
                masked_message(line[part])
        if "messages" in line:
            # A frame is from one side or the other: anything else in the list is no frame, and is left out.
            messages = line["messages"] if isinstance(line["messages"], list) else []
            line["messages"] = [
                message for message in messages if isinstance(message, dict) and message.get("from") in SIDES
            ]
            masked_frames(line["messages"])
        mask_carried(line)
    fresh = fingerprints_of(dumps(line)) - before
    return line, {found for found in fresh if found not in seen or is_secret(seen[found], identifiers)}


def identifier_values(line: dict) -> frozenset[str]:
    """The values of the line's headers that name who a request is for (`OpenAI-Organization: …`)."""
    values = set()
    for part in ("request", "response"):
        message = line.get(part)
        for pair in message.get("headers") or [] if isinstance(message, dict) else []:
            if isinstance(pair, list) and len(pair) == 2 and is_identifier_name(str(pair[0])):
                values.add(str(pair[1]).strip())
    return frozenset(values)
