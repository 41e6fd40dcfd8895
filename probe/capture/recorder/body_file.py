"""A large streamed body written once, masked as it passes, to `bodies/<sha256>` beside traffic.jsonl.

The body is cut into segments after a line end (a secret is never cut in two), each masked and written as it
arrives, the last events held back a while so that a secret streamed across two events is masked as in the body
whole (probe.redact.stream_pieces). The file has no name until the body is whole: then it is linked (or renamed) to
the sha256 of the bytes it holds, which any reader can check. A kill mid-body leaves no file a reader could take
for whole (an unnamed file vanishes; a named one is `.partial-…`, which no reference can name). The unmasked body
is never on disk. Loaded beside the capture addon by `mitmdump -s`: only the standard library and probe.redact.
"""

import codecs
import contextlib
import errno
import hashlib
import os
import secrets

from probe.capture.recorder.spool import SEGMENT, TAIL, text_cut, write_all, write_unless_failed
from probe.redact import masking as redaction
from probe.redact.replacing import fingerprints_of
from probe.redact.stream_pieces import EventStream

FOLDER = "bodies"  # beside traffic.jsonl


class BodyFile:
    """The body as it arrived (its sha256, size, whether it is UTF-8) and as it is stored (masked, in the file)."""

    def __init__(self, run_folder: str, masking: bool) -> None:
        self.folder = os.path.join(run_folder or ".", FOLDER)
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        self.fd, self.partial = open_unnamed(self.folder)
        self.masking = masking
        self.received = hashlib.sha256()
        # Made only once masking changes what is stored: till then the file holds the body as it came.
        self.stored: hashlib._Hash | None = None
        self.events = EventStream()
        self.size = self.stored_size = self.masked = 0
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.is_utf8 = True
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.carry = b""
        self.failed: OSError | None = None  # a write that failed (a full disk): the body cannot be stored whole
        self.name: str | None = None  # `bodies/<sha256>` once linked

    def add_all(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.pending.append(chunk)
            self.pending_size += len(chunk)
        if self.pending_size >= SEGMENT:
            self.write_segments(final=False)

    def write_segments(self, final: bool) -> None:
        fresh = b"".join(self.pending)
        self.pending, self.pending_size = [], 0
        self.check_utf8(fresh, final)  # (the carry was checked when it came)
        data = self.carry + fresh if self.carry else fresh
        # Text is cut after its last line end (else a JSON string's end, else a comma); the rest waits for more.
        cut = len(data) if final or not self.is_utf8 else text_cut(data)
        self.carry = data[cut:]
        if cut:
            self.write_segment(data[:cut] if cut < len(data) else data)

    def check_utf8(self, data: bytes, final: bool) -> None:
        if not self.is_utf8:
            return
        # ASCII (the usual case) needs no decoding, unless a character was cut at the end of the last data.
        if data.isascii() and not self.utf8.getstate()[0]:
            return
        try:
            self.utf8.decode(data, final=final)
        except UnicodeDecodeError:
            self.is_utf8 = False

    def write_segment(self, segment: bytes) -> None:
        self.received.update(segment)
        self.size += len(segment)
        if not self.masking:
            self.store(segment)
            return
        masked, count = self.masked_segment(segment)
        self.masked += count
        # Then the secrets that cross events, as a body given whole is masked (probe.redact.masking), the last events
        # held back a while: a secret streamed across the cut before the next segment is masked whole. From the
        # first byte that is not text on, the body is masked only as bytes.
        joined = self.events.count
        if not self.is_utf8:
            data = self.events.finish() + masked
        else:
            data = self.events.feed(masked, fingerprints_of(masked) - fingerprints_of(segment) if count else set())
        self.store(data, changed=bool(count) or self.events.count > joined)

    def store(self, data: bytes, changed: bool = False) -> None:
        """Write `data`; `changed`: masking made it differ from the body as it came (what is stored is then hashed
        apart, from what the file holds so far: the body as it came, up to here)."""
        if self.stored is None and changed:
            self.stored = hash_of_file(self.fd, self.stored_size)
        if self.stored is not None:
            self.stored.update(data)
        self.stored_size += len(data)
        self.failed = write_unless_failed(self.fd, data, self.failed)

    def masked_segment(self, segment: bytes) -> tuple[bytes, int]:
        """While the body is UTF-8 it is masked as text (token shapes, then the secret-named fields of its JSON
        lines); from the first byte that is not, as bytes. Text masking masks all that bytes masking does."""
        if self.is_utf8:
            try:
                return redaction.mask_text_lines(segment)
            except Exception:  # whatever a hostile body trips over, it is stored, and stored masked
                pass
        return redaction.mask_bytes(segment)

    def finish(self) -> None:
        """The body has ended: its last segment is written, and the file named by the sha256 of what it holds."""
        self.write_segments(final=True)
        if self.masking:
            joined = self.events.count
            self.store(self.events.finish(), changed=self.events.count > joined)
            self.masked += self.events.count
        if self.failed is None:
            try:
                self.name = link(self.fd, self.partial, self.folder, self.stored_sha256())
            except OSError as error:
                self.failed = error

    def received_sha256(self) -> str:
        return self.received.hexdigest()

    def stored_sha256(self) -> str:
        return (self.stored or self.received).hexdigest()

    def tail(self) -> bytes:
        """The stored body's last bytes, where a stream's terminal event is (masking leaves events as they are)."""
        return os.pread(self.fd, TAIL, max(self.stored_size - TAIL, 0))

    def close(self) -> None:
        if self.fd < 0:
            return  # closed already
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1
        if self.partial is not None and self.name is None:
            with contextlib.suppress(OSError):
                os.unlink(self.partial)


def hash_of_file(fd: int, size: int) -> "hashlib._Hash":
    """The sha256 of the first `size` bytes of a file, read back a segment at a time."""
    digest, offset = hashlib.sha256(), 0
    while offset < size:
        data = os.pread(fd, min(SEGMENT * 8, size - offset), offset)
        if not data:
            break
        digest.update(data)
        offset += len(data)
    return digest


def open_unnamed(folder: str) -> tuple[int, str | None]:
    """A file in `folder` with no name, and None; where unnamed files are not supported, one named `.partial-…`
    (which no reference can name: a reference is 64 hex digits) and its path."""
    with contextlib.suppress(OSError, AttributeError):
        return os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o600), None
    path = os.path.join(folder, f".partial-{secrets.token_hex(8)}")
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), path


def link(fd: int, partial: str | None, folder: str, sha256: str) -> str:
    """Give the whole file its name, at once: `bodies/<sha256>`. The same body stored before is the same bytes."""
    path = os.path.join(folder, sha256)
    if partial is not None:
        os.replace(partial, path)
        return f"{FOLDER}/{sha256}"
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # linkat(2) following /proc's link to the open file; a folder's descriptor makes Python call linkat.
        os.link(f"/proc/self/fd/{fd}", sha256, dst_dir_fd=folder_fd, follow_symlinks=True)
    except FileExistsError:
        pass
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.EXDEV, errno.EPERM, errno.ENOTSUP):
            raise
        link_by_copy(fd, folder, path)
    finally:
        os.close(folder_fd)
    return f"{FOLDER}/{sha256}"


def link_by_copy(fd: int, folder: str, path: str) -> None:
    """Where /proc is not there to link an unnamed file: its bytes copied to a partial name, renamed whole."""
    partial = os.path.join(folder, f".partial-{secrets.token_hex(8)}")
    out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        offset = 0
        while data := os.pread(fd, SEGMENT * 8, offset):
            write_all(out, data)
            offset += len(data)
    finally:
        os.close(out)
    os.replace(partial, path)
