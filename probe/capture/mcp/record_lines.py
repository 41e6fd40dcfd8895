"""The relay's record: the lines of mcp.jsonl for one stdio server (masked as traffic is, appended whole under a
lock, since several relays write one file), the messages cut out of what passed, and its kept stderr."""

import fcntl
import json
import os
import time
from pathlib import Path

from probe.redact.masking import fingerprint, mask_body, mask_bytes, mask_text
from probe.redact.secrets import mask_argv

MAX_MESSAGE = 4 * 1024 * 1024  # bytes of one message recorded whole; past that, its head only
HEAD = 2000  # characters kept of a message cut, or of a line that is not JSON
HEAD_BYTES = 4 * HEAD  # bytes kept of a line being cut, for its head: each character is 4 bytes at most
MAX_STDERR = 1024 * 1024  # bytes of a server's stderr kept; past that, a line saying how much more there was
MAX_STDERR_LINE = 65536  # bytes of a stderr line masked as one; a longer one is masked in pieces
ESCAPE_DEPTH = 3  # levels of JSON string escaping a secret value is also looked for at


class McpRecord:
    """Appends masked lines about server `name` to `path`; `secrets` are values masked wherever they appear."""

    def __init__(self, path: Path, name: str, secrets: list[str]):
        self.path = path
        self.name = name
        self.secrets = spellings(secrets)

    def masked(self, data: bytes) -> bytes:
        for value, stand_in in self.secrets:
            data = data.replace(value, stand_in)
        return data

    def masked_argv(self, argv: list[str]) -> list[str]:
        return mask_argv([self.masked(argument.encode()).decode("utf-8", "replace") for argument in argv])

    def head(self, data: bytes) -> str:
        """The first characters of a line, masked in a window twice as long, so a secret at the cut is whole."""
        text = self.masked(data[: 2 * HEAD_BYTES]).decode("utf-8", "replace")[: 2 * HEAD]
        return mask_text(text)[0][:HEAD]

    def event(self, event: str, **fields) -> None:
        self.write({"event": event, **fields})

    def message(self, side: str, line: bytes, at: float) -> None:
        """One line that passed: its JSON-RPC message (each of a batch), masked, or what it was instead."""
        masked = mask_body(self.masked(line), "application/json")
        parsed = masked.parsed
        if isinstance(parsed, dict):
            self.write({"from": side, "size": len(line), "message": parsed}, at)
        elif isinstance(parsed, list) and parsed and all(isinstance(each, dict) for each in parsed):
            for index, each in enumerate(parsed):
                self.write({"from": side, "size": len(line), "batch": index, "message": each}, at)
        else:
            self.write({"from": side, "not_json": self.head(line), "size": len(line)}, at)

    def cut(self, side: str, head: bytes, size: int, at: float) -> None:
        self.write({"from": side, "size": size, "message": None, "cut": True, "head": self.head(head)}, at)

    def write(self, fields: dict, at: float | None = None) -> None:
        """`at`: when the bytes that ended a message were read; an event is stamped as it is written."""
        line = {"t": time.time() if at is None else at, "server": self.name, "transport": "stdio", **fields}
        try:
            data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate a message escaped: kept escaped, the file stays UTF-8
            data = (json.dumps(line) + "\n").encode("ascii")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # one line whole, between those of the run's other relays
            os.write(descriptor, data)
        finally:
            os.close(descriptor)


def spellings(secrets: list[str]) -> list[tuple[bytes, bytes]]:
    """Each secret value as it may be written, bare and inside up to ESCAPE_DEPTH levels of JSON strings, with its
    fingerprint; the longest first, so that a secret that holds another is masked whole."""
    found: dict[bytes, bytes] = {}
    for value in secrets:
        written = value
        for _ in range(ESCAPE_DEPTH + 1):
            found.setdefault(written.encode("utf-8", "surrogatepass"), fingerprint(value).encode())
            written = json.dumps(written)[1:-1]
    return sorted(found.items(), key=lambda pair: len(pair[0]), reverse=True)


class LineRecorder:
    """Cuts one direction's bytes into newline-ended messages, each recorded as it ends; a line that grows past
    MAX_MESSAGE is kept as its head and its size only, so memory stays bounded whatever the server writes. Each
    message is stamped with the time its last bytes were read (`at` of the add that ended it)."""

    def __init__(self, record: McpRecord, side: str):
        self.record = record
        self.side = side
        self.pending = bytearray()
        self.size = 0  # bytes of the line so far, kept or not
        self.cut = False
        self.at: float | None = None  # when the bytes last added were read

    def add(self, data: bytes, at: float) -> None:
        self.at = at
        start = 0
        while (end := data.find(b"\n", start)) != -1:
            self.extend(data[start:end])
            self.finish()
            start = end + 1
        self.extend(data[start:])

    def extend(self, piece: bytes) -> None:
        self.size += len(piece)
        if not self.cut:
            self.pending += piece
            if len(self.pending) > MAX_MESSAGE:
                self.cut = True
                del self.pending[2 * HEAD_BYTES :]

    def finish(self) -> None:
        line = bytes(self.pending).removesuffix(b"\r")
        if self.cut:
            self.record.cut(self.side, line, self.size, self.at)
        elif line.strip():
            self.record.message(self.side, line, self.at)
        self.pending.clear()
        self.size = 0
        self.cut = False

    def close(self) -> None:
        """What was left without a newline when the stream ended."""
        if self.pending or self.size:
            self.finish()


class StderrKeeper:
    """The server's stderr kept apart, line by line masked, its first MAX_STDERR bytes; then a note of the rest."""

    def __init__(self, path: Path, secrets: list[tuple[bytes, bytes]]):
        self.path = path
        self.secrets = secrets
        self.pending = bytearray()
        self.kept = 0
        self.more = 0
        self.descriptor: int | None = None

    def add(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\n")) != -1 or len(self.pending) > MAX_STDERR_LINE:
            cut = end + 1 if end != -1 else MAX_STDERR_LINE
            self.keep(bytes(self.pending[:cut]))
            del self.pending[:cut]

    def keep(self, line: bytes) -> None:
        if self.kept >= MAX_STDERR:
            self.more += len(line)
            return
        for value, stand_in in self.secrets:
            line = line.replace(value, stand_in)
        masked = mask_bytes(line)[0]
        self.more += max(0, len(masked) - (MAX_STDERR - self.kept))
        masked = masked[: MAX_STDERR - self.kept]
        if self.descriptor is None:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            self.descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(self.descriptor, masked)
        self.kept += len(masked)

    def close(self) -> None:
        if self.pending:
            self.keep(bytes(self.pending))
            self.pending.clear()
        if self.more and self.descriptor is not None:
            os.write(self.descriptor, f"\n[agent-probe: {self.more:,} more bytes of stderr not kept]\n".encode())
        if self.descriptor is not None:
            os.close(self.descriptor)
