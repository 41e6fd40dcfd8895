"""What a replay says of a run file that is not the one its run was signed with as recorded here
(probe.runs.provenance): the capture (traffic.jsonl) or the MCP servers' record (mcp.jsonl) changed since."""

from pathlib import Path

from probe.common.errors import RunError
from probe.common.paths import display


def changed_after_signing(path: Path) -> str:
    """What a run file is that is not the bytes its run was signed with as recorded here: a replay refuses to serve
    it, a resend says so before it sends."""
    return f"{display(path)} is not the capture recorded on this machine: it changed after the run was signed"


def refused(path: Path) -> RunError:
    """The replay's refusal to serve `path`, changed after its run was signed."""
    return RunError(f"{changed_after_signing(path)} (replay it with --trust only if you trust whoever changed it)")
