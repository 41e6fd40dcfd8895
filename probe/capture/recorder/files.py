"""How the recorder writes: whole lines appended under a lock, private files, the run folder's lock, and the
fields of a large body (in its file, or spooled)."""

import contextlib
import errno
import fcntl
import os
import threading
from collections.abc import Iterable

from mitmproxy import exceptions

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import spool as capture_spool
from probe.capture.recorder.body_file import BodyFile


def spooled_body_fields(spool: capture_spool.Spool) -> dict:
    """A spooled body's fields, `body` last: a stand-in for the body itself, which is written in its place."""
    check_written(spool.failed)
    return {
        "body_size": spool.size,
        "body_sha256": spool.sha256.hexdigest(),
        "body_format": "text" if spool.is_utf8 else "base64",
        "body": capture_line.PLACEHOLDER,
    }


def body_file_fields(body: BodyFile) -> dict:
    """A large body's fields: `body_size` and `body_sha256` of the body as it travelled, and `body_file`, the file
    beside traffic.jsonl holding it as stored (masked), whose name is the sha256 of its `body_file_size` bytes."""
    check_written(body.failed)
    fields = {
        "body_size": body.size,
        "body_sha256": body.received_sha256(),
        "body_format": "text" if body.is_utf8 else "base64",
        "body": None,
        "body_file": body.name,
        "body_file_size": body.stored_size,
    }
    if body.masked:
        fields["redacted_tokens"] = body.masked
    return fields


def check_written(failed: OSError | None) -> None:
    """A body that could not be written (a full disk stops the recording) cannot be stored."""
    if failed is not None:
        if failed.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RecordingStopped(f"recording stopped: {failed.strerror} while storing a response body")
        raise failed


def lower_priority() -> None:
    """The calling thread yields the processor to the event loop (and to the agent and the model's server, on the
    same machine): a large body's line is written when there is time, its body waiting on disk meanwhile."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class RecordingStopped(Exception):
    """Nothing more can be recorded (the disk is full): the capture process stops the run."""


def append_whole(fd: int, pieces: Iterable[bytes], name: str) -> None:
    """Append all of the pieces or none of them: a write that fails half-way (or a piece that cannot be made) is
    cut back off the file, so the next record is never glued to a partial one. A full disk stops the recording;
    other failures are one lost record."""
    size = os.fstat(fd).st_size
    try:
        for data in pieces:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RecordingStopped(f"recording stopped: {error.strerror} while writing {name}") from None
        raise


def lock_run_folder(traffic: str) -> int | None:
    """A shared lock on the folder holding traffic.jsonl, kept while the proxies run, so that the analyzer knows
    a `running` run is still being written (probe.runs.folders.being_recorded takes the same lock exclusively to
    test)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(traffic)), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # only a hint for the analyzer: recording goes on without it
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def open_private(path: str) -> int:
    """Open for appending, readable by the owner only."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as error:
        raise exceptions.OptionsError(f"cannot open {path}: {error.strerror}") from None
