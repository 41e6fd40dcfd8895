"""A large body that the capture stored beside traffic.jsonl, in `bodies/<sha256>`, read back into its exchange.

A capture is untrusted input: a reference is taken only if it is `bodies/` and exactly 64 hex digits, the file is
opened in that folder without following links, must be a regular file of the size the line says, and must hash to
its name. Anything else is a one-line warning, and the body is left out.
"""

import base64
import contextlib
import hashlib
import os
import re
import stat
from pathlib import Path

from probe.common import fastjson
from probe.common.lines import MAX_LINE_BYTES

FOLDER = "bodies"  # probe.runs.folders.BODIES, spelt here as the recorder spells it: reading imports no run logic
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


def read_ends(reference, run: Path | None, head: int, tail: int) -> bytes:
    """The first `head` and last `tail` bytes of a body file (all of it if it is no longer), for a glance at a
    long stream (its first and last events) without reading it whole: not checked against its name. Raises
    Unreadable."""
    found = REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    if found is None or run is None:
        raise Unreadable(f"its body_file {repr(reference)[:90]} cannot be read here")
    with opened(run, found.group(1)) as fd:
        size = regular_size(fd, reference)
        if size <= head + tail:
            return os.pread(fd, size, 0)
        return os.pread(fd, head, 0) + os.pread(fd, tail, size - tail)


def read_named(run: Path, name: str, stored_size) -> bytes:
    """The file `bodies/<name>` of the run folder, opened without following a link at either step."""
    with opened(run, name) as fd:
        return read_regular(fd, f"{FOLDER}/{name}", stored_size)


@contextlib.contextmanager
def opened(run: Path, name: str):
    """A descriptor of `bodies/<name>` in the run folder, opened without following a link at either step."""
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
            yield fd
        finally:
            os.close(fd)
    finally:
        os.close(folder)


def regular_size(fd: int, where: str) -> int:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"its body file {where} is not a regular file")
    return info.st_size


def read_regular(fd: int, where: str, stored_size) -> bytes:
    size = regular_size(fd, where)
    if isinstance(stored_size, int) and not isinstance(stored_size, bool) and size != stored_size:
        raise Unreadable(f"its body file {where} has {size:,} bytes where the line says {stored_size:,}")
    if size > MAX_LINE_BYTES:
        raise Unreadable(f"its body file {where} is over the {MAX_LINE_BYTES:,}-byte limit for one exchange")
    pieces, size = [], 0
    while data := os.read(fd, READ):
        pieces.append(data)
        size += len(data)
        if size > MAX_LINE_BYTES:
            raise Unreadable(f"its body file {where} is over the {MAX_LINE_BYTES:,}-byte limit for one exchange")
    return b"".join(pieces)
