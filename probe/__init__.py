"""agent-probe: record and explain what AI coding agents send to their model APIs."""

__version__ = "0.1.0"
