"""The typed prompts and the compactions of the agent's own transcript (transcript.jsonl: its session file, line by
line), as account events: what the telemetry lacks of them, such as the text an agent logs only as `<REDACTED>` by
default, or a compaction an agent logs to its session file only."""

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from probe.read.account.event import COMPACTION, PROMPT, TEXT_KEPT, AccountEvent, text, total
from probe.read.account.lines import LINE_LIMIT, AccountReading

NAME = "transcript"
FILE = "transcript.jsonl"


def read_transcript(path: Path, reading: AccountReading) -> Iterator[AccountEvent]:
    """Each prompt the user typed, as Claude Code's session file records it (a `user` record whose content is text,
    not a tool's result), with its prompt id, session and time; and each compaction, Claude Code's or codex's."""
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
            if not isinstance(record, dict):
                continue
            compaction = compaction_of(line.get("source"), record, number)
            if compaction is not None:
                yield compaction
            if line.get("source") != "claude-code" or record.get("type") != "user":
                continue
            message = record.get("message") if isinstance(record.get("message"), dict) else {}
            typed = text(message.get("content"), TEXT_KEPT)
            if typed is None:  # a tool's result, sent as the user's turn
                continue
            yield AccountEvent(
                PROMPT, NAME, number, seconds(record.get("timestamp")), session=text(record.get("sessionId")),
                prompt=text(record.get("promptId")), text=typed, source=FILE,
            )  # fmt: skip


def compaction_of(source: object, record: dict, line: int) -> AccountEvent | None:
    """A compaction as the session file records it. Claude Code 2.1.330: a `system` record of subtype
    `compact_boundary`, its `compactMetadata` holding trigger, preTokens and postTokens. codex 0.169.0: a `compacted`
    record, its payload naming the response that summed the history up (`compaction_response_id`), no counts."""
    if source == "claude-code" and record.get("type") == "system" and record.get("subtype") == "compact_boundary":
        told = record.get("compactMetadata") if isinstance(record.get("compactMetadata"), dict) else {}
        found = AccountEvent(COMPACTION, "compact_boundary", line, seconds(record.get("timestamp")), source=FILE)
        found.session, found.trigger = text(record.get("sessionId")), text(told.get("trigger"))
        found.tokens_before, found.tokens_after = total(told.get("preTokens")), total(told.get("postTokens"))
        found.duration_ms = total(told.get("durationMs"))
        return found
    if source == "codex" and record.get("type") == "compacted":
        told = record.get("payload") if isinstance(record.get("payload"), dict) else {}
        found = AccountEvent(COMPACTION, "compacted", line, seconds(record.get("timestamp")), source=FILE)
        found.response_id = text(told.get("compaction_response_id"))
        return found
    return None


def seconds(stamp: object) -> float | None:
    """An ISO 8601 time as seconds since the epoch; None for anything else."""
    if not isinstance(stamp, str) or len(stamp) > 40:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
