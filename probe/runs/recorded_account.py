"""A replay's copy of the recording's own account: the recorded run's telemetry.jsonl and transcript.jsonl, copied
line by line into the replay's `recorded-account/` folder, masked again on the way (docs/agent-account.md)."""

import os
from pathlib import Path

from probe.common.fastjson import encoded, loads
from probe.common.run_files import opened
from probe.redact.masking import mask_json_scanned

FOLDER = "recorded-account"  # in the replay's run folder
ACCOUNT_FILES = ("telemetry.jsonl", "transcript.jsonl")  # fixed names: nothing the recording says is opened
MAX_FILE_BYTES = 256 * 1024 * 1024  # of each file, read no further: the rest is left out, with a note
MAX_RECORD_BYTES = 16 * 1024 * 1024  # one line; a longer one is dropped and counted, never held whole


def carry(recorded: Path, run: Path) -> dict | None:
    """Copy the recorded run's account files into `run`/recorded-account/, each line masked (the recording is
    untrusted input: a line that is not a JSON object, or is over MAX_RECORD_BYTES, is dropped and counted). The
    manifest's `account.recorded`: where it came from and the records of each file (None: the recording had none);
    None when the recording holds neither file."""
    found = {name: opened(recorded, name) for name in ACCOUNT_FILES}
    found = {name: fd for name, fd in found.items() if fd is not None}
    if not found:
        return None
    summary: dict = {"from": f"{recorded.parent.name}/{recorded.name}", "folder": FOLDER}
    dropped, notes = 0, []
    (run / FOLDER).mkdir(mode=0o700, exist_ok=True)
    for name in ACCOUNT_FILES:
        fd = found.get(name)
        if fd is None:
            summary[name.removesuffix(".jsonl")] = None
            continue
        with os.fdopen(fd, "rb") as source:
            records, left_out, note = copy_masked(source, run / FOLDER / name)
        summary[name.removesuffix(".jsonl")] = records
        dropped += left_out
        notes += [f"{name}: {note}"] if note else []
    if dropped:
        summary["dropped"] = dropped
    if notes:
        summary["stopped"] = "; ".join(notes)
    return summary


def copy_masked(source, target: Path) -> tuple[int, int, str | None]:
    """Each JSON-object line of `source` masked into `target`: the records written, the lines dropped, and a note
    if the file was read only up to MAX_FILE_BYTES."""
    written = dropped = read = 0
    with target.open("wb") as out:
        target.chmod(0o600)
        while True:
            if read >= MAX_FILE_BYTES:
                return written, dropped, f"read up to {MAX_FILE_BYTES:,} bytes; the rest is left out"
            line = source.readline(MAX_RECORD_BYTES + 1)
            if not line:
                return written, dropped, None
            read += len(line)
            if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                read += passed_over(source)
                dropped += 1
                continue
            record = json_object(line)
            if record is None:
                dropped += bool(line.strip())  # a blank line is no record, and no loss
                continue
            masked, _ = mask_json_scanned(record)
            out.write(encoded(masked) + b"\n")
            written += 1


def passed_over(source) -> int:
    """The rest of an over-long line read through in chunks and let go; its bytes."""
    size = 0
    while chunk := source.readline(1 << 20):
        size += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return size


def json_object(line: bytes) -> dict | None:
    try:
        value = loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
