"""Replaces values that change from run to run without meaning anything (ids, temp paths, timestamps) by
placeholders, and counts them, so that comparing two runs shows what really changed."""

import re
from typing import Any

# Field names whose values are volatile whatever they hold: ids of sessions, turns, installations, requests.
VOLATILE_NAME = re.compile(
    r"(?i)(^|[_\-.])(id|ids|uuid|session|session_id|installation_id|turn_id|thread_id|"
    r"window_id|request_id|trace_id|span_id|prompt_cache_key|created|created_at|"
    r"create_time|timestamp|expires_at|date|nonce)$|(_id|-id|Id)$"
)
# Headers whose values are minted per connection or request.
VOLATILE_HEADERS = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-accept",
        "date",
        "x-request-id",
        "request-id",
        "x-client-request-id",
        "traceparent",
        "tracestate",
        "content-length",
    }
)
PATTERNS = [
    ("loopback", re.compile(r"\b(?:127\.0\.0\.1|localhost|\[::1\]):\d+")),  # the proxies' ports differ each run
    ("uuid", re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")),
    # Ids with a kind prefix, as APIs and agents mint them: resp_…, msg_…, call_…, toolu_…, req_…
    ("id", re.compile(r"\b[a-z]{2,10}_(?=[A-Za-z-]*\d)[A-Za-z0-9-]{8,}\b")),
    ("hex", re.compile(r"\b[0-9a-fA-F]{16,}\b")),
    ("path", re.compile(r"(?:/private)?/(?:tmp|var/folders|var/tmp)/[^\s\"'<>:;,)]*")),
    ("time", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b")),
    ("epoch", re.compile(r"\b1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?\b")),  # seconds (or ms) since 1970, 2017 to 2033
]


class Volatile:
    """Normalises text and JSON values, counting what it replaced."""

    def __init__(self) -> None:
        self.count = 0

    def text(self, value: str) -> str:
        for name, pattern in PATTERNS:
            value, found = pattern.subn(f"<{name}>", value)
            self.count += found
        return value

    def header(self, name: str, value: str) -> str:
        if name.lower() in VOLATILE_HEADERS:
            self.count += 1
            return "<volatile>"
        return self.text(value)

    def value(self, value: Any, name: str = "", depth: int = 0) -> Any:
        """A JSON value with volatile strings replaced, and any value under a volatile field name."""
        if name and VOLATILE_NAME.search(name) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            self.count += 1
            return "<volatile>"
        if depth > 20:
            return value
        if isinstance(value, dict):
            return {key: self.value(item, str(key), depth + 1) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, name, depth + 1) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value
