"""Fingerprints secrets in the files an agent left in its run folder (its own state: config, transcripts), and
in mitmdump's log there."""

import os
import tempfile
import urllib.parse
from pathlib import Path

from probe.redact.masking import fingerprint, mask_bytes
from probe.redact.secret_names import is_secret_variable
from probe.runs.folders import BODIES, CAPTURE_FILES

# Written by the capture addon and the analyzer, which mask as they write, and flows.mitm, which the export makes
# from traffic.jsonl (a run exported while it is captured has one; its lengths are binary, so it must not be
# rewritten). proxies.log is scrubbed too: its lines are masked as mitmproxy logs them, but mitmproxy may print
# outside its log.
OUR_FILES = {*CAPTURE_FILES, "flows.mitm", "report.md"}
MIN_URL_PASSWORD = 12  # characters a URL's password needs to be scrubbed wherever it appears


def secret_values(env: dict[str, str]) -> list[str]:
    """Values of the agent's environment variables whose names say they are secrets, and the password of any URL
    among them (a proxy's, such as the forward proxy's own credentials), longest first."""
    values = {value for name, value in env.items() if is_secret_variable(name, value)}
    values |= set(filter(None, map(url_password, env.values())))
    return sorted(values, key=len, reverse=True)


def url_password(value: str) -> str | None:
    """The password of a URL (scheme://user:password@host) long enough to be replaced wherever it appears, else
    None: a short one would mangle ordinary words (the URL's shape is masked anyway)."""
    if "://" not in value or "@" not in value:
        return None
    try:
        password = urllib.parse.urlsplit(value).password
    except ValueError:
        return None
    return password if password and len(password) >= MIN_URL_PASSWORD else None


def mask_values(text: str, secrets: list[str]) -> str:
    """`text` with each of these secret values (longest first) replaced by its fingerprint."""
    for value in secrets:
        text = text.replace(value, fingerprint(value))
    return text


def scrub_run(run: Path, secrets: list[str]) -> int:
    """Replace these secret values, and every secret shape, in the agent's files; the number of files changed."""
    longest_first = sorted(secrets, key=len, reverse=True)  # a key that contains another is replaced whole
    replacements = [(value.encode(), fingerprint(value).encode()) for value in longest_first]
    changed = 0
    for path in agent_files(run):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        cleaned = scrub_bytes(data, replacements)
        if cleaned != data:
            replace_contents(path, cleaned)
            changed += 1
    return changed


def agent_files(run: Path):
    for folder, folders, names in os.walk(run):
        if Path(folder) == run and BODIES in folders:
            # The capture's large bodies, masked as they were written: each is named by the sha256 of its bytes.
            folders.remove(BODIES)
        for name in names:
            path = Path(folder, name)
            if (Path(folder) == run and name in OUR_FILES) or path.is_symlink() or not path.is_file():
                continue
            yield path


def scrub_bytes(data: bytes, replacements: list[tuple[bytes, bytes]]) -> bytes:
    for secret, replacement in replacements:
        data = data.replace(secret, replacement)
    return mask_bytes(data)[0]


def replace_contents(path: Path, data: bytes) -> None:
    """Rewrite a file atomically, keeping its permissions."""
    mode = path.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
