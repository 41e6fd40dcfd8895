"""The MCP calls of a recorded run as a replay serves them: each request the agent sent one server, with the answer
the server gave it, read from the run's mcp.jsonl a bounded line at a time (what cannot be read is a note)."""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probe.common.errors import RunError, one_line
from probe.common.lines import BoundedLines
from probe.replay.signed_files import refused

MAX_LINE_BYTES = 32 * 1024 * 1024  # a message is kept whole up to 4 MiB, masked (escapes can grow it); more is hostile
MAX_KEPT_BYTES = 256 * 1024 * 1024  # of one server's lines: past it the rest of the recording is left out, noted
NOTED = 20  # notes about damaged lines kept, then one that counts the others
# The id at the start of a message cut for its size (its first 2,000 characters were kept): which request it answered.
CUT_ID = re.compile(r'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


@dataclass
class RecordedCall:
    """One request the agent sent the server, and the server's answer as recorded."""

    number: int  # among the server's recorded requests, from 1
    request_id: str  # its JSON-RPC id, as JSON text
    method: str
    params: Any
    answer: dict | None = None  # the JSON-RPC response (`result` or `error`), None when none was recorded
    answer_cut: bool = False  # the answer was over the recording's limit: it was not kept
    sse: bool = False  # over HTTP, the answer came as Server-Sent Events
    session: str | None = None  # over HTTP, the Mcp-Session-Id the answer carried


@dataclass
class Recording:
    """One server's recorded calls, and what was noticed reading them."""

    server: str
    transport: str | None = None
    calls: list[RecordedCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    server_requests: dict[str, int] = field(default_factory=dict)  # methods the server asked of the agent: counts
    damaged: int = 0  # lines left out

    def note(self, text: str) -> None:
        self.damaged += 1
        if self.damaged <= NOTED:
            self.notes.append(one_line(text)[:300])


def read_recording(path: Path, server: str, sha256: str | None = None) -> Recording:
    """The calls the agent made of `server` in the recording at `path`, in the order recorded; with `sha256`, a
    RunError unless the bytes read are those (of the record its run was signed with: probe.replay.trust)."""
    if sha256 is not None and not path.is_file():
        raise RunError(f"{path.name}: not the MCP record the run was signed with (it has none)")
    recording = Recording(server)
    if not path.is_file():  # a FIFO would block the read for ever
        recording.notes.append(f"{path.name}: not a regular file, nothing recorded to serve")
        return recording
    try:
        file = path.open("rb")
    except OSError as error:
        recording.notes.append(f"{path.name}: cannot be read ({one_line(error.strerror or str(error))})")
        return recording
    waiting: dict[str, list[RecordedCall]] = {}  # request id -> its calls not yet answered, oldest first
    kept = 0
    digest = hashlib.sha256()
    with file:
        for number, raw, size in BoundedLines(file, MAX_LINE_BYTES, seen=digest.update):
            if kept > MAX_KEPT_BYTES:  # past the limit: read on, for the digest only
                continue
            if raw is None:
                recording.note(f"line {number}: {size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit, left out")
                continue
            if not raw.strip():
                continue
            entry = parsed(raw)
            if entry is None:
                recording.note(f"line {number}: not a JSON object, left out")
                continue
            if entry.get("server") != server:
                continue
            kept += size
            if kept > MAX_KEPT_BYTES:
                recording.notes.append(f"line {number} on: past {MAX_KEPT_BYTES:,} bytes of {server}'s recording, "
                                       "left out")  # fmt: skip
                continue
            if recording.transport is None and isinstance(entry.get("transport"), str):
                recording.transport = entry["transport"]
            take_line(recording, entry, number, waiting)
    if sha256 is not None and digest.hexdigest() != sha256:
        raise refused(path)
    unanswered = sum(1 for call in recording.calls if call.answer is None and not call.answer_cut)
    if unanswered:
        recording.notes.append(f"{unanswered} recorded request(s) of {server} got no answer in the recording")
    if recording.damaged > NOTED:
        recording.notes.append(f"{recording.damaged - NOTED} more damaged line(s) left out")
    for method, count in sorted(recording.server_requests.items()):
        recording.notes.append(f"{server} asked the agent {count} time(s) for {one_line(method)[:80]} (not replayed)")
    return recording


def parsed(raw: bytes) -> dict | None:
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


def take_line(recording: Recording, entry: dict, number: int, waiting: dict[str, list[RecordedCall]]) -> None:
    """One line of the server's: a request of the agent's starts a call, the server's answer completes it."""
    sender, message = entry.get("from"), entry.get("message")
    if sender not in ("agent", "server"):
        return  # an event (started, exited, failed) or a line of another shape: nothing to serve
    if message is None and entry.get("cut"):
        cut_message(recording, entry, sender, number, waiting)
        return
    if not isinstance(message, dict):
        if "not_json" not in entry:
            recording.note(f"line {number}: its message is not a JSON-RPC object, left out")
        return
    method, has_id = message.get("method"), "id" in message
    if sender == "agent" and isinstance(method, str) and has_id:
        request_id = id_text(message["id"])
        call = RecordedCall(len(recording.calls) + 1, request_id, method, message.get("params"))
        recording.calls.append(call)
        waiting.setdefault(request_id, []).append(call)
    elif sender == "server" and isinstance(method, str) and has_id:
        recording.server_requests[method] = recording.server_requests.get(method, 0) + 1
    elif sender == "server" and method is None and has_id and ("result" in message or "error" in message):
        calls = waiting.get(id_text(message["id"])) or []
        if not calls:
            recording.note(f"line {number}: an answer to no recorded request, left out")
            return
        call = calls.pop(0)
        call.answer = message
        http = entry.get("http") if isinstance(entry.get("http"), dict) else {}
        content_type = http.get("content_type")
        call.sse = isinstance(content_type, str) and content_type.lower().startswith("text/event-stream")
        call.session = http.get("session") if isinstance(http.get("session"), str) else None


def cut_message(recording: Recording, entry: dict, sender: str, number: int, waiting: dict) -> None:
    """A message over the recording's limit, of which only its head was kept: an answer cut marks its call (served
    as an error saying so); a request cut cannot be matched."""
    head = entry.get("head") if isinstance(entry.get("head"), str) else ""
    found = CUT_ID.search(head[:2000])
    if sender == "server" and found and '"method"' not in head[: found.start()]:
        calls = waiting.get(id_text(json.loads(found.group(1)))) or []
        if calls:
            calls.pop(0).answer_cut = True
            return
    recording.note(f"line {number}: a message of the {sender}'s too big to have been kept whole, left out")


def id_text(value: Any) -> str:
    """A JSON-RPC id as JSON text: 1 and "1" are different ids."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
