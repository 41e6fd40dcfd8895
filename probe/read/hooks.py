"""A run's hooks.jsonl (the agent's hook events, as the run's recorder kept them) read into events, bounded: the
file is untrusted, so what is too long, misshapen or too many is counted in a note, never held."""

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

FILE = "hooks.jsonl"
LINE_LIMIT = 8 * 1024 * 1024  # bytes of one line read (the recorder keeps 4 MiB of an event, masked); more: a note
EVENTS_KEPT = 100_000  # events held; beyond, the rest are counted in a note
NOTES_KEPT = 5
TEXT_KEPT = 200  # characters kept of a name, an id or a folder


@dataclass
class HookEvent:
    """One hook event the agent fired, as the recorder saw it when the agent started it."""

    t: float
    event: str
    session: str | None = None
    tool: str | None = None
    tool_use_id: str | None = None
    agent_id: str | None = None  # a sub-agent's, when it fired the event
    cwd: str | None = None  # where the agent ran its hooks
    size: int = 0  # bytes of the JSON the agent gave the hook
    took: float | None = None  # seconds the recorder itself took, once started
    tool_ms: float | None = None  # the tool's own duration the agent gave PostToolUse (duration_ms)


@dataclass
class HookRecording:
    events: list[HookEvent] = field(default_factory=list)
    lines: int = 0
    left_out: int = 0  # events past EVENTS_KEPT
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < NOTES_KEPT:
            self.notes.append(text)


def read_hooks(run: Path) -> HookRecording | None:
    """The run's hook events in the order the agent fired them; None if the run recorded none (no hooks.jsonl)."""
    path = run / FILE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        return HookRecording(notes=[f"{FILE} could not be read: {error.strerror or error}"])
    recording = HookRecording()
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            recording.note(f"{FILE} is not a regular file: not read")
            return recording
        while line := file.readline(LINE_LIMIT + 1):
            recording.lines += 1
            if len(line) > LINE_LIMIT and not line.endswith(b"\n"):
                recording.note(f"line {recording.lines}: longer than {LINE_LIMIT:,} bytes, not read")
                while (rest := file.readline(LINE_LIMIT + 1)) and not rest.endswith(b"\n"):
                    pass
                continue
            read_line(recording, line)
    recording.events.sort(key=lambda event: event.t)
    return recording


def read_line(recording: HookRecording, line: bytes) -> None:
    try:
        record = json.loads(line)
    except ValueError:
        recording.note(f"line {recording.lines}: not JSON")
        return
    event = event_of(record)
    if event is None:
        recording.note(f"line {recording.lines}: not a hook event as the recorder writes one")
    elif len(recording.events) >= EVENTS_KEPT:
        recording.left_out += 1
    else:
        recording.events.append(event)


def event_of(record: object) -> HookEvent | None:
    if not isinstance(record, dict) or not number(record.get("t")) or not text(record.get("event")):
        return None
    given = record.get("input") if isinstance(record.get("input"), dict) else {}
    tool_ms = given.get("duration_ms")
    return HookEvent(
        t=float(record["t"]),
        event=text(record["event"]),
        session=text(record.get("session")),
        tool=text(record.get("tool")),
        tool_use_id=text(record.get("tool_use_id")),
        agent_id=text(record.get("agent_id")),
        cwd=text(record.get("cwd")),
        size=record["size"] if type(record.get("size")) is int and record["size"] >= 0 else 0,
        took=float(record["took"]) if number(record.get("took")) else None,
        tool_ms=float(tool_ms) if number(tool_ms) and tool_ms >= 0 else None,
    )


def number(value: object) -> bool:
    return type(value) in (int, float) and value == value and abs(value) < 1e12


def text(value: object) -> str | None:
    return value[:TEXT_KEPT] if isinstance(value, str) and value else None
