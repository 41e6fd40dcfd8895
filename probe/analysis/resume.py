"""Picks an analysis up where the last one stopped: a capture that grew is read from where the last analysis got to.

After each analysis of a run folder, `.analysis/` beside its report keeps the reading as it was before the run's
end (the last insight records, each API's closing section, the header), signed with this machine's key
(probe.common.state_key), with how far traffic.jsonl was read and marks of what was read, and where the
conversation log, turns.jsonl and insight.jsonl stood then, and after it what the run's end remembers (the span
records it masked). The next analysis loads it if everything still matches, reads only the lines added since, and
writes the outputs as a full analysis would (docs/outputs.md).
"""

import filecmp
import hashlib
import json
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from probe.analysis.saved_reading import dumps, loads
from probe.common.state_key import signature, signed_by, state_key
from probe.read.traffic_from import Position, exchanges_from
from probe.runs.folders import private_replacement
from probe.runs.importer import renderer_module

PACKAGE = Path(__file__).resolve().parents[1]  # probe/
FOLDER = ".analysis"  # beside the report; hidden, and never among a run's outputs
MAGIC = b"agent-probe saved reading 2\n"
SAMPLE = 1 << 20  # bytes read at each end of a file to tell it is still the one read: hashing all would cost more
# Libraries whose objects or answers a saved reading holds (token counts, parsed JSON): another version reads anew.
LIBRARIES = ("bpe-openai", "orjson", "genai-prices")
MOST = 1 << 33  # bytes of saved reading ever read back: a folder from elsewhere may hold anything


def mark(path: Path, upto: int) -> str | None:
    """A cheap mark of a file's first `upto` bytes: their count, and their first and last SAMPLE bytes."""
    digest = hashlib.sha256(str(upto).encode())
    try:
        with path.open("rb") as file:
            digest.update(file.read(min(upto, SAMPLE)))
            file.seek(max(0, upto - SAMPLE))
            tail = file.read(min(upto, SAMPLE))
    except OSError:
        return None
    if len(tail) != min(upto, SAMPLE):
        return None
    digest.update(tail)
    return digest.hexdigest()


def identity(job) -> dict:
    """What a reading depends on besides the capture: the renderer, masking, prices and the code that reads."""
    choice = job.choice
    code = hashlib.sha256()
    # Every module of the package (following its imports, as the ledger does, takes longer than reading them all),
    # the renderer's own file and the target file.
    renderer = sys.modules[renderer_module(choice.renderer)].__file__
    extra = [Path(renderer)] if renderer else []
    extra += [choice.target_file] if choice.target_file is not None else []
    for path in sorted({*PACKAGE.rglob("*.py"), *extra}):
        code.update(str(path).encode() + b"\0" + path.read_bytes())
    return {
        "stamp": job.stamp,
        "extra_secrets": sorted(choice.extra_secrets),
        "code": code.hexdigest(),
        "python": sys.version,
        "libraries": [installed(name) for name in LIBRARIES],
    }


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class Resume:
    """One analysis's saved reading: the one it may start from (`loaded`), and the one it leaves."""

    def __init__(self, job, lines: dict[str, Path], key: bytes) -> None:
        self.traffic, self.output, self.lines, self.key = job.traffic, job.output, lines, key
        self.folder = job.output.parent / FOLDER
        self.identity = identity(job)
        self.meta: dict | None = None  # what the saved reading says, if it can be started from
        self.pickled: bytes | None = None  # the reading loaded, then the one taken to save
        self.taken: dict | None = None
        self.taking: Callable[[], None] | None = None
        # What the run's end remembers for the next analysis (the insight records it masked), saved after it.
        self.after: bytes = b""
        self.ending: Callable[[], Any] | None = None

    @classmethod
    def loaded(cls, job, lines: dict[str, Path], afresh: bool = False) -> "Resume | None":
        """The job's saved readings, if its run keeps them: a report.md beside its traffic.jsonl, read with a
        renderer that is a module (one given as an object's attribute is not saved), and a key to sign with. The
        one saved last is loaded, if it still holds, unless `afresh` (--force: the whole capture is read again)."""
        if job.output.name != "report.md" or job.output.parent != job.traffic.parent:
            return None
        if not isinstance(job.choice.renderer, ModuleType):
            return None
        key = state_key()
        if key is None:
            return None
        resume = cls(job, lines, key)
        if afresh:
            resume.forget()
        else:
            resume.load()
        return resume

    def load(self) -> bool:
        """Whether the saved reading can be started from; it is taken away either way (a new one is saved when the
        analysis ends, and an analysis cut short leaves none behind)."""
        path = self.folder / "state"
        try:
            if self.folder.is_symlink() or path.is_symlink() or not path.is_file() or path.stat().st_size > MOST:
                return False
            data = path.read_bytes()
        except OSError:
            return False
        finally:
            self.forget()
        head, mac, body = data[: len(MAGIC)], data[len(MAGIC) : len(MAGIC) + 32], memoryview(data)[len(MAGIC) + 32 :]
        if head != MAGIC or not signed_by(self.key, body, mac):
            return False
        size = int.from_bytes(body[:8], "big")
        try:
            meta = json.loads(bytes(body[8 : 8 + size]))
        except ValueError:
            return False
        try:
            if not self.still_true(meta):
                return False
            after = meta["after"]
            if not isinstance(after, int) or not 0 <= after <= len(body) - 8 - size:
                return False
        except (KeyError, TypeError, ValueError):  # (another version's, though signed here)
            return False
        self.meta, self.pickled = meta, bytes(body[8 + size : len(body) - after])
        self.after = bytes(body[len(body) - after :])
        return True

    def forget(self) -> None:
        """Take the saved reading away: the outputs are about to change under it."""
        if self.folder.is_dir() and not self.folder.is_symlink():
            (self.folder / "state").unlink(missing_ok=True)

    def still_true(self, meta: dict) -> bool:
        """Whether the capture, the outputs and the spools are still as the saved reading left them."""
        if meta.get("identity") != self.identity:
            return False
        offset = meta["position"]["offset"]
        if mark(self.traffic, offset) != meta["traffic"]:
            return False
        try:
            report = self.output.stat()
        except OSError:
            return False
        if [report.st_size, report.st_mtime_ns, report.st_ino] != meta["report"]["stat"]:
            return False
        for path, (upto, marked) in [(path, meta[role]) for role, path in self.lines.items()] + [
            (self.folder / name, spool) for name, spool in meta["spools"].items()
        ]:
            if path.is_symlink() or mark(path, upto) != marked:
                return False
        return True

    def begin(self, run: Any, states: dict, warnings: list[str], log: BinaryIO, files: dict[str, BinaryIO], progress):
        """The reading to go on with (`run` and `states`, or those saved, with their output files replaced by
        `files`, the warnings they met put first in `warnings` and the log so far in `log`), and the exchanges to
        read into it: all of them, or those after the place saved."""
        start, saved = Position(), None
        if self.meta is not None:
            try:
                saved = loads(self.pickled, self.folder, files)
            except Exception:  # (saved with other versions of the libraries it holds objects of): read it whole
                self.meta = None
                for file in files.values():
                    file.seek(0)
                    file.truncate()
        self.pickled = None
        if saved is None:  # a full analysis: its spools are saved afresh
            if self.folder.is_dir() and not self.folder.is_symlink():
                shutil.rmtree(self.folder)
            elif self.folder.is_symlink() or self.folder.exists():  # (not ours: never written through)
                self.folder.unlink()
            self.folder.mkdir(mode=0o700)
        else:
            start, (run, saved_states, saved_warnings) = Position(**self.meta["position"]), saved
            states = {id(shown_by): (shown_by, state) for shown_by, state in saved_states}
            warnings[:0] = saved_warnings
            self.fill_log(log)
            insight = getattr(run, "insight", None)  # (the reading's insight lines, probe.write.insight_lines)
            if self.after and insight is not None:
                insight.remembered = pickle.loads(self.after)  # (signed by this machine, as the reading was)
        self.after = b""
        self.taking = lambda: self.keep(lambda: (run, list(states.values()), warnings), start, log, files)
        self.ending = lambda: getattr(getattr(run, "insight", None), "remembered", None)
        return run, states, exchanges_from(self.traffic, start, warnings, progress, self.take)

    def take(self) -> None:
        """Keep the reading as it is now, before the run's end: what the next analysis starts from."""
        if self.taking is not None:
            self.taking()

    def fill_log(self, log: BinaryIO) -> None:
        """The conversation log so far, from the report written last time."""
        if self.meta is None:
            return
        start, length = self.meta["report"]["log"]
        with self.output.open("rb") as report:
            report.seek(start)
            while length > 0:
                chunk = report.read(min(length, 1 << 20))
                if not chunk:
                    raise OSError(f"{self.output} was cut short while it was read")
                log.write(chunk)
                length -= len(chunk)

    def keep(self, state: Callable[[], Any], position: Position, log: BinaryIO, files: dict[str, BinaryIO]) -> None:
        if self.taken is not None:
            return
        try:
            self.pickled = dumps(state(), self.folder, files)
        except (pickle.PicklingError, TypeError, AttributeError):  # something new that pickle cannot hold: no state
            self.taken = {}
            return
        self.taken = {
            "position": asdict(position),
            "traffic": mark(self.traffic, position.offset),
            "log": log.tell(),
            "turns": files["turns"].tell(),
            "insight": files["insight"].tell(),
            "spools": {path.name: path.stat().st_size for path in self.folder.glob("spool-*")},
        }

    def log_written_at(self, start: int) -> None:
        """Where the conversation log starts in the report being written."""
        if self.taken is not None:
            self.taken["log_start"] = start

    def save(self) -> None:
        """Once the outputs are in place: save the reading taken, with marks of what it was made from."""
        taken, pickled = self.taken, self.pickled
        if taken is None or pickled is None or "log_start" not in taken:
            return
        ended = self.ending() if self.ending is not None else None
        after = pickle.dumps(ended, protocol=pickle.HIGHEST_PROTOCOL) if ended else b""
        report = self.output.stat()
        meta = {
            "identity": self.identity,
            "position": taken["position"],
            "traffic": taken["traffic"],
            "report": {"stat": [report.st_size, report.st_mtime_ns, report.st_ino],
                       "log": [taken["log_start"], taken["log"]]},
            **{role: [taken[role], mark(path, taken[role])] for role, path in self.lines.items()},
            "spools": {name: [size, mark(self.folder / name, size)] for name, size in taken["spools"].items()},
            "after": len(after),
        }  # fmt: skip
        encoded = json.dumps(meta).encode()
        # One copy of the reading, not three: it was the largest part of the peak of a hostile capture's analysis.
        body = bytearray(len(encoded).to_bytes(8, "big") + encoded)
        body += pickled
        body += after
        self.pickled = pickled = after = None
        with private_replacement(self.folder / "state") as file:
            file.buffer.write(MAGIC)
            file.buffer.write(signature(self.key, body))
            file.buffer.write(body)


def same_bytes(old: Path, new: Path) -> bool:
    return filecmp.cmp(old, new, shallow=False)


@contextmanager
def lines_out(path: Path, resume: Resume | None, role: str):
    """turns.jsonl or insight.jsonl to write, as a binary file: continued in place from where a saved reading
    left it (what a full analysis writes up to there is what it holds), or written afresh."""
    if resume is None or resume.meta is None:
        with private_replacement(path, same_bytes) as file:
            yield file.buffer
        return
    with path.open("r+b") as file:
        file.truncate(resume.meta[role][0])
        file.seek(0, os.SEEK_END)
        yield file
