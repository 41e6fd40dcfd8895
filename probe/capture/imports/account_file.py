"""An agent's own telemetry file, given beside an imported recording (`import … --account FILE`), read into the run's
telemetry.jsonl: flat records (probe.common.otlp_records), each masked, in the shape the receiver writes
(docs/agent-account.md). The file is untrusted input: told from its content, read within a bound, nothing it names
opened."""

from dataclasses import dataclass
from pathlib import Path

import ijson

from probe.capture.imports.account_shapes import as_export, shape_of
from probe.capture.imports.json_items import TOO_DEEP, items
from probe.common.errors import RunError
from probe.common.fastjson import encoded
from probe.common.otlp_records import records
from probe.common.paths import display
from probe.redact.masking import mask_json_scanned
from probe.redact.secrets import mask_tokens_and_urls

HEAD_BYTES = 64 * 1024  # what sniffing reads
MAX_BYTES = 256 * 1024 * 1024  # of the file, read no further: what was read is kept, with a note
MOST_DEPTH = 64  # a value nested deeper is no export any agent writes: skipped, never built
MAX_RECORD_BYTES = 16 * 1024 * 1024  # one telemetry.jsonl line; a larger record is skipped and counted
FORMATS_SAID = "an OTLP JSON export per line or as the whole file, gemini-cli's telemetry outfile, Copilot CLI's file"


@dataclass
class Read:
    """What reading the file gave: the manifest's `account.telemetry`, and the secrets masked in it."""

    telemetry: dict
    masked: int


class Limited:
    """A binary file read no further than `limit` bytes; `reached` once it stopped there."""

    def __init__(self, file, limit: int) -> None:
        self.file, self.left, self.reached = file, limit, False

    def read(self, size: int = -1) -> bytes:
        wanted = self.left if size < 0 else min(size, self.left)
        data = self.file.read(wanted) if wanted else b""
        self.left -= len(data)
        if not data and self.left == 0 and self.file.read(1):
            self.reached = True
        return data


def sniff(path: Path) -> str:
    """The writer of the file, told from the top-level keys of its first JSON value; a one-line error for a file
    that is none of those read here (before anything is written)."""
    try:
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
    except OSError as error:
        raise RunError(f"--account {display(path)}: cannot be read: {error.strerror}") from None
    shape = shape_of(first_keys(head))
    if shape is None:
        raise RunError(f"--account {display(path)}: not an agent's telemetry file (read here: {FORMATS_SAID})")
    return shape


def first_keys(head: bytes) -> dict:
    """The first value's top-level keys, with the scalar each holds (None for a container), as far as `head` goes."""
    keys: dict = {}
    try:
        for prefix, event, value in ijson.parse(head, multiple_values=True, use_float=True):
            if prefix == "" and event == "map_key":
                keys[value] = None
            elif prefix in keys and event in ("string", "number", "boolean"):
                keys[prefix] = value
            elif prefix == "" and event in ("end_map", "end_array", "string", "number", "boolean", "null"):
                break  # the first value is whole
    except (ijson.JSONError, UnicodeDecodeError):
        pass  # cut off by the head, or not JSON: what was seen decides
    return keys


def write_telemetry(path: Path, shape: str, telemetry: Path) -> Read:
    """Each export of the file, flattened and masked, into `telemetry`; the manifest's record of it."""
    exports = written = skipped = masked = 0
    stopped = None
    with path.open("rb") as file, telemetry.open("wb") as out:
        telemetry.chmod(0o600)
        source = Limited(file, MAX_BYTES)
        values = items(ijson.basic_parse(source, multiple_values=True, use_float=True), MOST_DEPTH)
        try:
            for number, value in enumerate(values):
                found = as_export(value) if value is not TOO_DEEP else None
                if found is None:
                    skipped += 1
                    continue
                exports += 1
                for record in records(found[1], found[0]):
                    line, count = mask_json_scanned({**record, "received": None, "encoding": "json", "export": number})
                    data = encoded(line) + b"\n"
                    if len(data) > MAX_RECORD_BYTES:
                        skipped += 1
                        continue
                    out.write(data)
                    written += 1
                    masked += count
        except (ijson.JSONError, UnicodeDecodeError) as error:
            if not source.reached:
                stopped = mask_tokens_and_urls(f"not JSON after export {exports:,} ({error}): the rest is left out")[
                    :300
                ]
    if source.reached:
        stopped = f"read up to {MAX_BYTES:,} bytes: the rest is left out"
    summary = {"state": "on", "from": "imported", "source": mask_tokens_and_urls(path.name), "format": shape}
    summary.update(exports=exports, records=written)
    if skipped:
        summary["skipped"] = skipped
    if stopped:
        summary["stopped"] = stopped
    return Read(summary, masked)
