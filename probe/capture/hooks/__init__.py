"""The agent's hook events, recorded by a hook of the run's own (--hooks) into hooks.jsonl."""
