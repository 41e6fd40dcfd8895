"""Whether a run was recorded on this machine: the capture signs what a replay takes from the run (its target, prompt
and agent version, the sha256 of its traffic.jsonl, which covers the bodies/ files it names by their hashes, and that of
its mcp.jsonl, the MCP servers' answers, when it has one) with this machine's key (probe.common.state_key). A run folder
from anywhere else, or one whose signed parts were changed, carries no signature this key makes; without a usable key
nothing is signed, and no run counts as recorded here."""

import json

from probe.common.state_key import signature, signed_by, state_key

FIELD = "machine_signature"  # the manifest's field holding the signature, as hex
PURPOSE = "agent-probe run recorded here, v1"  # signed first: a signature made for anything else never matches
SIGNED = ("target", "prompt", "traffic_sha256")
SIGNED_AGENT = ("requested_version", "version")
MCP_DIGEST = "mcp_sha256"  # the sha256 of the run's mcp.jsonl, signed when the run has one


def identity(manifest: dict) -> bytes:
    """The signed parts of the manifest, in one canonical form (a missing or odd field signs as what it is)."""
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    parts = [PURPOSE] + [manifest.get(name) for name in SIGNED] + [agent.get(name) for name in SIGNED_AGENT]
    if MCP_DIGEST in manifest:  # a run with an MCP record; one without signs as runs did before there was one
        parts += [MCP_DIGEST, manifest[MCP_DIGEST]]
    return json.dumps(parts, sort_keys=True, ensure_ascii=True).encode("ascii")


def sign(manifest: dict) -> str | None:
    """The signature of the manifest as it stands (its traffic_sha256 already in it); None without a usable key."""
    key = state_key()
    return signature(key, identity(manifest)).hex() if key is not None else None


def recorded_here(manifest: dict) -> bool:
    """Whether this machine's key signed the manifest's target, prompt, agent version and traffic digest."""
    mac = manifest.get(FIELD)
    if not isinstance(mac, str) or len(mac) != 64 or not isinstance(manifest.get("traffic_sha256"), str):
        return False
    try:
        wanted = bytes.fromhex(mac)
    except ValueError:
        return False
    key = state_key()
    return key is not None and signed_by(key, identity(manifest), wanted)
