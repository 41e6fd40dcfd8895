"""The agent's own account of a run, kept beside the wire: its telemetry and its transcript."""
