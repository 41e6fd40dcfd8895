"""A large body that the capture stored beside traffic.jsonl, in `bodies/<sha256>`, read back into its exchange.

A capture is untrusted input: a reference is taken only if it is `bodies/` and exactly 64 hex digits, the file is
opened in that folder without following links, must be a regular file of the size the line says, and must hash to
its name. Anything else is a one-line warning, and the body is left out.
"""

import base64
import hashlib
import os
import re
import stat
from pathlib import Path

from probe.common import fastjson
from probe.common.lines import MAX_LINE_BYTES
from probe.runs.folders import BODIES as FOLDER

REFERENCE = re.compile(r"bodies/([0-9a-f]{64})")
READ = 8 << 20  # bytes read (and hashed) at a time


class Unreadable(Exception):
    """Why a body file cannot be taken, in words for a warning."""


def read_body(reference, stored_size, body_format: str, run: Path | None):
    """The body's value as the line would hold it inline: text, base64 text or parsed JSON. Raises Unreadable."""
    shown = repr(reference)[:90]
    found = REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    if found is None:
        raise Unreadable(f"its body_file {shown} is not bodies/ and a sha256 (64 hex digits)")
    if run is None:
        raise Unreadable(f"its body is in {reference}, and this line was read without its run folder")
    name = found.group(1)
    data = read_named(run, name, stored_size)
    if hashlib.sha256(data).hexdigest() != name:
        raise Unreadable(f"{reference} does not hash to its name: the file is damaged")
    if body_format == "base64":
        return base64.b64encode(data).decode("ascii")
    text = data.decode("utf-8", "surrogateescape")
    if body_format == "json":
        try:
            return fastjson.loads(text)
        except (ValueError, RecursionError, fastjson.NestedTooDeeply):
            raise Unreadable(f"{reference} is not the JSON its line says") from None
    return text


def read_named(run: Path, name: str, stored_size) -> bytes:
    """The file `bodies/<name>` of the run folder, opened without following a link at either step."""
    where = f"{FOLDER}/{name}"
    try:
        folder = os.open(run / FOLDER, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        raise Unreadable(
            f"its body is in {where}, and the run has no usable {FOLDER}/ folder ({error.strerror})"
        ) from None
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except OSError as error:
            raise Unreadable(f"its body file {where} cannot be read: {error.strerror}") from None
        try:
            return read_regular(fd, where, stored_size)
        finally:
            os.close(fd)
    finally:
        os.close(folder)


def read_regular(fd: int, where: str, stored_size) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"its body file {where} is not a regular file")
    if isinstance(stored_size, int) and not isinstance(stored_size, bool) and info.st_size != stored_size:
        raise Unreadable(f"its body file {where} has {info.st_size:,} bytes where the line says {stored_size:,}")
    if info.st_size > MAX_LINE_BYTES:
        raise Unreadable(f"its body file {where} is over the {MAX_LINE_BYTES:,}-byte limit for one exchange")
    pieces, size = [], 0
    while data := os.read(fd, READ):
        pieces.append(data)
        size += len(data)
        if size > MAX_LINE_BYTES:
            raise Unreadable(f"its body file {where} is over the {MAX_LINE_BYTES:,}-byte limit for one exchange")
    return b"".join(pieces)
