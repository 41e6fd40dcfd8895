"""Each run's identity as every SQL view shows it, worked out once per run from its folder and manifest: its id, its
target, its agent's version (and that version as numbers), its login, and the labels it is credited to."""

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from probe.runs.folders import read_manifest
from probe.runs.labels import LABEL_NAMES, PUBLISHER, recorded_labels

FIRST_LINE = 1 << 20  # of the first exchange, what a run's id reads
# A version's numbers: the first dotted number its text holds, as agents write it (`2.1.330 (Claude Code)`,
# `codex-cli 0.169.0`, `v1.2.3-beta.1` → 1, 2, 3); a part past INTEGER's range ends them.
VERSION = re.compile(r"(?<![A-Za-z0-9.])v?(\d+(?:\.\d+)+)")
INTEGER_LIMIT = (1 << 31) - 1


def run_id(target: str, name: str, started_at: str | None, first_exchange: bytes) -> str:
    """A run's identity wherever its folder is: its target, its folder's name, when it started (all three to the
    second, which two machines starting one agent at once share) and its first exchange as recorded (its times to the
    microsecond, its ids), which the run's growing leaves as it was; a copy of the folder is the same run."""
    digest = hashlib.sha256(f"{target}/{name}/{started_at or ''}/".encode(errors="surrogateescape"))
    digest.update(first_exchange)
    return digest.hexdigest()[:20]


def first_exchange(run: Path) -> bytes:
    """The first line of the run's traffic.jsonl, up to FIRST_LINE bytes (nothing for a run with none)."""
    try:
        with (run / "traffic.jsonl").open("rb") as traffic:
            return traffic.readline(FIRST_LINE)
    except OSError:
        return b""


def version_parts(version: str | None) -> list[int] | None:
    """A version's numbers, to compare (2.1.330 after 2.1.99): None where its text holds no dotted number."""
    found = VERSION.search((version or "")[:200])
    if not found:
        return None
    parts = []
    for part in found.group(1).split("."):
        if len(part) > 10 or int(part) > INTEGER_LIMIT:
            break
        parts.append(int(part))
    return parts or None


def text(value) -> str | None:
    return value if isinstance(value, str) else None  # (a manifest may come from anyone)


def run_identity(run: Path, fallback: Callable[[], dict[str, str | None]]) -> dict:
    """The values of IDENTITY for `run`: its labels are those its manifest recorded, else (a run recorded before
    manifests held them) `fallback()`'s, the publisher's."""
    manifest = read_manifest(run) or {}
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    target = run.parent.name
    version = text(agent.get("version"))
    recorded = recorded_labels(manifest)
    labels, whose = recorded if recorded else ({key: fallback().get(key) for key in LABEL_NAMES}, PUBLISHER)
    return {
        "run_id": run_id(target, run.name, text(manifest.get("started_at")), first_exchange(run)),
        "target": target,
        "agent_version": version,
        "agent_version_parts": version_parts(version),
        "login": text(manifest.get("login")),
        **labels,
        "labels_from": whose,
    }
