"""The typed prompts of the agent's own transcript (transcript.jsonl: its session file, line by line), as account
events: what the telemetry lacks of them, such as the text an agent logs only as `<REDACTED>` by default."""

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from probe.read.account.event import PROMPT, TEXT_KEPT, AccountEvent, text
from probe.read.account.lines import LINE_LIMIT, AccountReading

NAME = "transcript"


def read_prompts(path: Path, reading: AccountReading) -> Iterator[AccountEvent]:
    """Each prompt the user typed, as Claude Code's session file records it (a `user` record whose content is text,
    not a tool's result), with its prompt id, session and time."""
    with path.open("rb") as file:
        for number, raw in enumerate(iter(lambda: file.readline(LINE_LIMIT), b""), start=1):
            if not raw.endswith(b"\n") and len(raw) >= LINE_LIMIT:
                while raw and not raw.endswith(b"\n"):
                    raw = file.readline(LINE_LIMIT)
                reading.note(f"transcript.jsonl line {number} is longer than {LINE_LIMIT:,} bytes: skipped")
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            record = line.get("record") if isinstance(line, dict) else None
            if not isinstance(record, dict) or line.get("source") != "claude-code" or record.get("type") != "user":
                continue
            message = record.get("message") if isinstance(record.get("message"), dict) else {}
            typed = text(message.get("content"), TEXT_KEPT)
            if typed is None:  # a tool's result, sent as the user's turn
                continue
            yield AccountEvent(
                PROMPT, NAME, number, seconds(record.get("timestamp")), session=text(record.get("sessionId")),
                prompt=text(record.get("promptId")), text=typed,
            )  # fmt: skip


def seconds(stamp: object) -> float | None:
    """An ISO 8601 time as seconds since the epoch; None for anything else."""
    if not isinstance(stamp, str) or len(stamp) > 40:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
