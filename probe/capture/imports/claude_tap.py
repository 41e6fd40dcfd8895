"""claude-tap's trace JSONL (`.traces/<date>/trace_<time>.jsonl`, or a session's JSONL export): one record per
exchange, read a line at a time."""

import re
from collections.abc import Iterator
from pathlib import Path

from probe.capture.imports.formats import Skipped
from probe.capture.imports.tap_records import LOST as RECORD_LOST
from probe.capture.imports.tap_records import record_lines
from probe.capture.imports.traffic_jsonl import json_lines

NAME = "claude-tap trace"
LOST = RECORD_LOST + ("timing: only when each answer ended and how long it took",)
# A record opens with its timestamp and request id (claude-tap builds every record in that order).
SNIFF = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"timestamp"\s*:\s*"[^"\n]{0,64}"\s*,\s*"request_id"\s*:')


def sniff(head: bytes) -> bool:
    return bool(SNIFF.match(head))


def read(path: Path) -> Iterator[dict | Skipped]:
    return json_lines(path, lambda record, number: record_lines(record, f"tap-{number}", timed=True))
