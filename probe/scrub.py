"""Fingerprints secrets in the files an agent left in its run folder (its own state: config, transcripts)."""

import os
import re
import tempfile
from pathlib import Path

from probe.secrets import fingerprint, mask_tokens

# Written by the proxies and the analyzer, which redact as they write; everything else came from the agent.
OUR_FILES = {"traffic.jsonl", "flows.mitm", "manifest.json", "report.md", "proxies.log"}
SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)")
SHORTEST_SECRET = 8  # shorter values (flags like "1") would match all over the files


def secret_values(env: dict[str, str]) -> list[str]:
    """Values of the agent's environment variables whose names say they are secrets, longest first."""
    values = {value for name, value in env.items() if SECRET_NAME.search(name) and len(value) >= SHORTEST_SECRET}
    return sorted(values, key=len, reverse=True)


def scrub_run(run: Path, env: dict[str, str]) -> int:
    """Replace secret values and token-shaped strings in the agent's files; the number of files changed."""
    replacements = [(value.encode(), fingerprint(value).encode()) for value in secret_values(env)]
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
    for folder, _, names in os.walk(run):
        for name in names:
            path = Path(folder, name)
            if (Path(folder) == run and name in OUR_FILES) or path.is_symlink() or not path.is_file():
                continue
            yield path


def scrub_bytes(data: bytes, replacements: list[tuple[bytes, bytes]]) -> bytes:
    for secret, replacement in replacements:
        data = data.replace(secret, replacement)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data  # binary: only the exact values are replaced
    return mask_tokens(text).encode("utf-8")


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
