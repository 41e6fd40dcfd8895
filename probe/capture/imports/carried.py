"""The fields of an imported line besides its texts, URLs, headers and bodies (which the recorder's own functions
mask): ids, the proxy's name, timings, HTTP versions and any field the source added. A field whose readers rely on
its shape is kept only in that shape (else masked whole, or dropped); every other string, and every key, is masked
by the JSON rules (names that say secret, token shapes), however deep."""

import math
import re

from probe.redact.masking import fingerprint, mask_json, mask_text

# Masked by the recorder's functions already (probe.capture.imports.masking), or a structure walked below.
LINE_DONE = frozenset({"error", "request", "response", "messages", "timing", "id", "flow_id", "proxy", "ended_by"})
MESSAGE_DONE = frozenset({"method", "reason", "url", "path", "headers", "trailers", "body", "body_format",
                          "redacted_tokens", "http_version"})  # fmt: skip
FRAME_DONE = frozenset({"body", "body_format", "redacted_tokens"})
IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")  # a line's id and a socket's flow_id
PROXY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # a listener's name, as a target names it
HTTP_VERSION = re.compile(r"(?i)(?:HTTP/[0-9](?:\.[0-9])?|h2c?|h3|spdy/[0-9](?:\.[0-9])?)?")
TIMING_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
ENDINGS = frozenset({"next-client-message", "terminal-event", "socket-closed", "proxy-stopped"})


def mask_carried(line: dict) -> None:
    """Every field of `line` that the recorder's functions did not mask, masked in place."""
    for name in ("id", "flow_id"):
        if name in line:
            line[name] = shaped(line[name], IDENT)
    if "proxy" in line:
        line["proxy"] = shaped(line["proxy"], PROXY)
    if "ended_by" in line and line["ended_by"] not in ENDINGS:
        line["ended_by"] = None
    if "timing" in line:
        line["timing"] = timing(line["timing"])
    masked_rest(line, LINE_DONE)
    for part in ("request", "response"):
        if isinstance(line.get(part), dict):
            message = line[part]
            if "http_version" in message:
                version = message["http_version"]
                message["http_version"] = (
                    version if isinstance(version, str) and HTTP_VERSION.fullmatch(version) else ""
                )
            masked_rest(message, MESSAGE_DONE)
    for frame in line.get("messages") or []:
        if isinstance(frame, dict):
            masked_rest(frame, FRAME_DONE)


def shaped(value, shape: re.Pattern):
    """An identifier kept where it has its shape and holds no token; anything else becomes its fingerprint, which
    still tells two apart (a socket's turns keep their one flow_id)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    _, count = mask_text(text)
    return text if not count and shape.fullmatch(text) else fingerprint(text)


def timing(value) -> dict:
    """Each moment a named time in seconds (finite), or null; any other entry dropped."""
    if not isinstance(value, dict):
        return {}
    kept = {}
    for name, moment in value.items():
        if not isinstance(name, str) or not TIMING_NAME.fullmatch(name):
            continue
        if moment is None or (isinstance(moment, int | float) and not isinstance(moment, bool) and finite(moment)):
            kept[name] = moment
    return kept


def finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer past a float
        return False


def masked_rest(record: dict, done: frozenset[str]) -> None:
    """The fields of `record` outside `done`, keys and values, masked by the JSON rules, in place and in order."""
    if all(key in done for key in record):
        return
    items = list(record.items())
    record.clear()
    for key, value in items:
        if key in done:
            record[key] = value
        else:
            masked, _ = mask_json({key: value})
            record.update(masked)
