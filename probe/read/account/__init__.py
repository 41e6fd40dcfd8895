"""The agent's own account of a run (its telemetry.jsonl), read into neutral account events, one reader per agent."""
