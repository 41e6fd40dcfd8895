"""Saves a reading of a capture as bytes and loads it back, exactly as it was: what an analysis picks up from.

Pickle keeps every object and every shared reference as it was, which the reading's de-duplication relies on; it
also runs code when loading, so only bytes this machine signed are ever loaded (probe.analysis.resume checks that).
What pickle cannot hold is written otherwise: modules by name, each spool of the viewer's data in a file of its
own (appended to in place by the next analysis), output files by the role they play, and memos of masked strings
(pure caches) as empty ones.
"""

import contextvars
import copyreg
import functools
import importlib
import io
import pickle
import shutil
import tempfile
import threading
import types
from pathlib import Path
from typing import Any, BinaryIO

SPOOL_PREFIX = "spool-"
# While saving or loading: the folder of the spools' files, and the output files by role.
PLACES: contextvars.ContextVar[tuple[Path, dict[str, Any]]] = contextvars.ContextVar("places")


def dumps(state: Any, folder: Path, files: dict[str, BinaryIO]) -> bytes:
    """`state` as bytes; its spools are saved as files in `folder` (those already there are flushed), and the
    files among `files` are saved as their roles."""
    # Written to a file and read back once: a buffer in memory grew by copies to several times the reading's size,
    # at the analysis's peak.
    with tempfile.TemporaryFile() as buffer:
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = table()
        token = PLACES.set((folder, {id(file): role for role, file in files.items()}))
        try:
            pickler.dump(state)
        finally:
            PLACES.reset(token)
        del pickler
        buffer.seek(0)
        return buffer.read()


def loads(data: bytes, folder: Path, files: dict[str, BinaryIO]) -> Any:
    """What `dumps` saved, its spools reopened from `folder` (each cut back to what it held then) and its files
    replaced by those of `files` with the same roles. Only for bytes this machine wrote."""
    token = PLACES.set((folder, files))
    try:
        return pickle.loads(data)  # (signed by this machine: probe.analysis.resume)
    finally:
        PLACES.reset(token)


def saved_spool(spool: Any):
    folder, _ = PLACES.get()
    state = {name: value for name, value in vars(spool).items() if name not in ("file", "lock")}
    name = getattr(spool.file, "name", None)
    path = Path(name) if isinstance(name, str) else None
    if path is not None and path.parent == folder and path.name.startswith(SPOOL_PREFIX):
        spool.file.flush()  # the next analysis appends to it in place
        return reopened_spool, (path.name, state)
    index = sum(1 for _ in folder.glob(f"{SPOOL_PREFIX}*"))
    path = folder / f"{SPOOL_PREFIX}{index}"
    writing_at = spool.file.tell()
    spool.file.seek(0)
    with path.open("xb") as copy:
        path.chmod(0o600)
        shutil.copyfileobj(spool.file, copy, 1 << 20)
    spool.file.seek(writing_at)
    return reopened_spool, (path.name, state)


def reopened_spool(name: str, state: dict) -> Any:
    folder, _ = PLACES.get()
    kind = spool_kind()
    spool = kind.__new__(kind)
    vars(spool).update(state)
    file = (folder / name).open("r+b")
    file.truncate(spool.size)  # what was added after it was saved (before a line being written) is added again
    file.seek(spool.size)
    spool.file, spool.lock = file, threading.Lock()
    return spool


def saved_file(file: Any):
    _, roles = PLACES.get()
    return reattached_file, (roles.get(id(file)),)


def reattached_file(role: str | None) -> Any:
    _, files = PLACES.get()
    return files.get(role) if role is not None else None


def saved_module(module: types.ModuleType):
    return importlib.import_module, (module.__name__,)


def saved_memo(memo: Any):
    return type(memo), ()


def saved_lock(lock: Any):
    return threading.Lock, ()


def spool_kind() -> type:
    return importlib.import_module("probe.write.viewer.data").Spool


@functools.cache
def table() -> dict:
    """How each object pickle cannot hold is saved. The spool and the memo are looked up when first needed, not
    imported with this module: every module importing the report's would be two levels deeper (test_house)."""
    found = copyreg.dispatch_table.copy()
    found.update({
        spool_kind(): saved_spool,
        importlib.import_module("probe.read.turn_lines").StringMemo: saved_memo,
        types.ModuleType: saved_module,
        type(threading.Lock()): saved_lock,
    })  # fmt: skip
    for kind in (io.BufferedWriter, io.BufferedRandom, io.BufferedReader, io.FileIO, io.TextIOWrapper):
        found[kind] = saved_file
    found[tempfile.SpooledTemporaryFile] = saved_file
    return found
