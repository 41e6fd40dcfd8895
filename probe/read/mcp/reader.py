"""A run's mcp.jsonl read a line at a time into each server's session (docs/mcp.md). The file is untrusted: a line
that is not a record of the known shape is skipped with a note, a line too long is read through and let go, and
what is kept of each server is bounded."""

import os
from pathlib import Path

from probe.common.counting import counted
from probe.common.fastjson import finite_float, loads
from probe.common.lines import BoundedLines
from probe.common.run_files import opened
from probe.read.mcp.model import AGENT, SERVER, McpRecording, McpSession
from probe.read.mcp.session import SessionReader
from probe.read.mcp.values import ending, name, one_line, size, text

FILE_NAME = "mcp.jsonl"
# One line: a message of up to 4 MiB as the relay keeps it, escaped once more in the line, with room to spare.
LINE_LIMIT = 32 * 1024 * 1024
SERVERS_KEPT = 64  # servers read; a record naming more is hostile, and the rest are counted
NOTES_KEPT = 20
TRANSPORTS = ("stdio", "http")
COMMAND_KEPT = 64  # arguments kept of a server's command
HTTP_EVENTS = ("closed", "session-ended")  # an HTTP server's stream closed, its session ended: kept as notices
# How an agent stops its servers as it ends (Claude Code 2.1.330 sends SIGINT): an end, not a problem.
ORDINARY_ENDS = ("exit code 0", "killed by SIGINT", "killed by SIGTERM")


class Reading:
    """The recording being read, with a reader for each server."""

    def __init__(self) -> None:
        self.recording = McpRecording()
        self.readers: dict[str, SessionReader] = {}
        self.left_out: set[str] = set()
        self.skipped = 0

    def note(self, line: str) -> None:
        if len(self.recording.notes) < NOTES_KEPT:
            self.recording.notes.append(line)

    def reader(self, server: str, transport: str) -> SessionReader | None:
        found = self.readers.get(server)
        if found is None:
            if len(self.readers) >= SERVERS_KEPT:
                if server not in self.left_out and len(self.left_out) < 65536:
                    self.left_out.add(server)
                    self.recording.more_servers = len(self.left_out)
                return None
            session = self.recording.sessions[server] = McpSession(server, transport)
            found = self.readers[server] = SessionReader(session)
        return found


def read_mcp(run: Path) -> McpRecording:
    """Every server's session the run's mcp.jsonl records; an empty recording when there is none."""
    fd = opened(run, FILE_NAME)
    reading = Reading()
    if fd is None:
        return reading.recording
    with os.fdopen(fd, "rb", buffering=1 << 20) as file:
        for number, raw, length in BoundedLines(file, LINE_LIMIT):
            reading.recording.lines += 1
            if raw is None:
                skip(reading, f"line {number} is {length:,} bytes, longer than {LINE_LIMIT:,}: skipped")
                continue
            if not raw.strip():
                continue
            try:
                record = loads(raw)
            except (ValueError, UnicodeDecodeError):
                record = None
            del raw
            if not isinstance(record, dict):
                skip(reading, f"line {number} is no JSON object: skipped")
                continue
            read_line(reading, record, number)
    for reader in reading.readers.values():
        reader.finish()
    if reading.skipped > NOTES_KEPT:
        reading.recording.notes.append(f"{counted(reading.skipped, 'line')} skipped in all")
    return reading.recording


def skip(reading: Reading, line: str) -> None:
    reading.skipped += 1
    reading.note(line)


def read_line(reading: Reading, record: dict, number: int) -> None:
    """One record into its server's session."""
    at, server = finite_float(record.get("t")), name(record.get("server"))
    transport = record.get("transport")
    if at is None or server is None:
        skip(reading, f"line {number} has no time or no server: skipped")
        return
    if transport not in TRANSPORTS:
        skip(reading, f"line {number} has no known transport ({one_line(transport, 40)}): skipped")
        return
    reader = reading.reader(server, transport)
    if reader is None:
        return
    session = reader.session
    if session.started is None or at < session.started:
        session.started = at
    event, sender = record.get("event"), record.get("from")
    if event is not None:
        read_event(reader, record, event, at)
    elif sender not in (AGENT, SERVER):
        skip(reading, f"line {number} is neither an event nor a message from the agent or the server: skipped")
        return
    elif "not_json" in record:
        reader.problem(f"the {sender} wrote a line that is not JSON: {one_line(record.get('not_json'), 120)}")
    elif record.get("cut") is True:
        reader.cut(at, sender, record.get("head"), size(record.get("size")))
    elif "message" in record:
        http = record.get("http")
        session_id = text(http.get("session"), 200) if isinstance(http, dict) else None
        reader.message(at, sender, record["message"], size(record.get("size")), session_id)
    else:
        skip(reading, f"line {number} is a line from the {sender} with no message: skipped")
        return
    reader.last = at if reader.last is None else max(reader.last, at)


def read_event(reader: SessionReader, record: dict, event: object, at: float) -> None:
    """A server's start, failure, end; for an HTTP server, a flow that failed or closed, a session ended."""
    session = reader.session
    if event == "started":
        command = record.get("command")
        if isinstance(command, list):
            session.command = [one_line(part, 400) for part in command[:COMMAND_KEPT]]
        session.url = text(record.get("url"), 2000) or session.url
    elif event == "failed" and session.transport == "http":  # one HTTP exchange failed: the server may go on
        reader.problem(f"an HTTP exchange failed: {one_line(record.get('error') or 'no reason given')}")
    elif event == "failed":
        error = one_line(record.get("error") or "no reason given")
        session.exit = f"failed: {error}"
        session.ended = at
        reader.problem(f"could not start: {error}")
    elif event == "exited":
        session.exit = ending(record.get("code"), record.get("signal"))
        session.ended = at
        if session.exit not in ORDINARY_ENDS:
            reader.problem(f"the server ended: {session.exit}")
    elif event in HTTP_EVENTS:
        by = record.get("by")
        reader.notification(at, by if by in (AGENT, SERVER) else AGENT, f"({event})", None, 0)
    else:
        reader.problem(f"an event of no known kind: {one_line(event, 60)}")
