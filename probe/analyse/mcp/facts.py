"""The MCP facts of a run: its mcp.jsonl read and joined to what its requests offered and its model called."""

from pathlib import Path
from typing import Any

from probe.analyse.mcp.join import join
from probe.analyse.mcp.model import McpFacts
from probe.analyse.mcp.offers import McpTurns
from probe.read.mcp.model import McpRecording
from probe.read.mcp.reader import read_mcp


def mcp_facts(run: Path | None, turns: McpTurns, setup: Any = None) -> McpFacts | None:
    """The join of the run folder's mcp.jsonl (none read where `run` is None: a traffic file analysed alone) to the
    turns `turns` was fed; None when the run neither recorded nor offered any MCP server."""
    recording = read_mcp(run) if run is not None else McpRecording()
    if not recording.sessions and not recording.notes and not turns.servers and not turns.calls:
        return None
    return join(recording, turns, setup)


def finished_and_joined(insight, manifest: dict | None, folder: Path | None) -> tuple[list, list]:
    """`insight` (probe.analyse.insight.Insight) finished, then the run `folder`'s MCP record joined to it, since
    the join takes the tool calls finishing found left open: its agents and those unanswered tool calls."""
    finished = insight.finish(manifest, folder)
    insight.mcp_facts = mcp_facts(folder, insight.mcp, insight.setup) if folder is not None else None
    return finished
