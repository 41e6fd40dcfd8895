"""A run's MCP servers for its report: what its mcp.jsonl recorded (probe.read.mcp), joined to the model's tool calls
and requests the analysis read (probe.analyse.mcp)."""

from pathlib import Path

from probe.analyse.insight import Insight


def mcp_of(folder: Path, insight: Insight) -> tuple:
    """The run's MCP record and what its join found, each None where there is nothing to say."""
    return None, None
