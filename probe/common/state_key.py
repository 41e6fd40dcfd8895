"""This machine's key for signing what the project saves to load again later (an analysis to pick up): kept outside
every run folder, readable by its owner only, made on first use."""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def state_dir() -> Path:
    """Where the project keeps its state: $XDG_STATE_HOME/agent-probe, else ~/.local/state/agent-probe."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "agent-probe"


def state_key() -> bytes | None:
    """The key, made if there is none yet; None if it cannot be read or made (nothing is signed then)."""
    path = state_dir() / "state.key"
    try:
        return read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(handle, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
    except FileExistsError:  # made meanwhile by another process: theirs is the key
        pass
    except OSError:
        return None
    try:
        return read_key(path)
    except OSError:
        return None


def read_key(path: Path) -> bytes | None:
    with path.open("rb") as file:
        key = file.read(KEY_BYTES + 1)
    # A key anyone else could read, or a short one, signs nothing: what it signed could have been forged.
    if len(key) != KEY_BYTES or os.stat(path).st_mode & 0o077:
        return None
    return key


def signature(key: bytes, data: bytes | memoryview) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def signed_by(key: bytes, data: bytes | memoryview, mac: bytes) -> bool:
    return hmac.compare_digest(signature(key, data), mac)
