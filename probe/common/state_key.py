"""This machine's key for signing what the project saves to load again later (an analysis to pick up): kept outside
every run folder, in a folder of the user's own, readable by its owner only, made on first use."""

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from probe.common.errors import warn

KEY_BYTES = 32
KEY_NAME = "state.key"

said: set[str] = set()  # problems already told in this process: an analysis of every run asks for the key each time


def state_dir() -> Path:
    """Where the project keeps its state: $XDG_STATE_HOME/agent-probe, else ~/.local/state/agent-probe."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "agent-probe"


def state_key() -> bytes | None:
    """The key, made if there is none yet; None if it cannot be read or made, or could have been written by anyone
    but the user running this (nothing is signed or loaded then: what another user signed could run as this one)."""
    folder = state_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The folder is opened once and the key read and made through that handle: a folder renamed or replaced by a
        # link between the check and the read cannot slip another key in.
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        problem = not_private(os.fstat(directory), "folder", 0o022)
        if problem:
            return refused(folder, problem)
        key, problem = read_key(directory)
        if problem is None and key is None:
            make_key(directory)
            key, problem = read_key(directory)
        return key if problem is None else refused(folder / KEY_NAME, problem)
    except OSError:
        return None
    finally:
        os.close(directory)


def not_private(status: os.stat_result, what: str, others_may_not: int) -> str | None:
    """Why a file or folder cannot be trusted with the key: another owner, or modes that let others in."""
    if status.st_uid != os.geteuid():
        return f"the {what} belongs to another user (uid {status.st_uid})"
    if status.st_mode & others_may_not:
        return f"the {what} has mode {stat.S_IMODE(status.st_mode):04o}, open to other users"
    return None


def read_key(directory: int) -> tuple[bytes | None, str | None]:
    """(the key, None), (None, None) if there is none yet, or (None, why it cannot be used)."""
    try:
        handle = os.open(KEY_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except FileNotFoundError:
        return None, None
    except OSError as error:  # a link in the key's place (ELOOP) among others
        return None, f"it cannot be opened ({error.strerror})"
    with os.fdopen(handle, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            return None, "it is not a regular file"
        # A key anyone else could read or write could have signed a forgery; a short one is not ours.
        problem = not_private(status, "key", 0o077)
        if problem:
            return None, problem
        key = file.read(KEY_BYTES + 1)
    return (key, None) if len(key) == KEY_BYTES else (None, f"it holds {len(key)} bytes, not {KEY_BYTES}")


def make_key(directory: int) -> None:
    try:
        handle = os.open(KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=directory)
    except FileExistsError:  # made meanwhile by another process: theirs is the key
        return
    with os.fdopen(handle, "wb") as file:
        file.write(secrets.token_bytes(KEY_BYTES))


def refused(path: Path, problem: str) -> None:
    """Say once why the key is not used; analysis goes on, reading whole and saving nothing for next time."""
    message = f"{path}: {problem}: analyses are read whole and nothing is saved to pick up (the key is not used)"
    if message not in said:
        said.add(message)
        warn(message)
    return None


def signature(key: bytes, data: bytes | memoryview) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def signed_by(key: bytes, data: bytes | memoryview, mac: bytes) -> bool:
    return hmac.compare_digest(signature(key, data), mac)
